package bundle

import (
	"crypto/sha256"
	"encoding/hex"
	"math/big"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// The worked example of SPEC.md §6: these bytes and hashes are quoted there,
// so a change to the canonical encoding fails here and the spec must follow.
func workedExampleRecord() arrow.RecordBatch {
	s := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "balance", Type: &arrow.Decimal128Type{Precision: 10, Scale: 2}, Nullable: true},
		{Name: "note", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "tags", Type: arrow.ListOf(arrow.PrimitiveTypes.Int32), Nullable: true},
		{Name: "ttl_ms", Type: arrow.PrimitiveTypes.Int64, Nullable: true, Metadata: arrow.NewMetadata([]string{MetaDigest}, []string{"exclude"})},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, s)
	defer b.Release()
	b.Field(0).(*array.Int64Builder).Append(42)
	b.Field(1).(*array.StringBuilder).Append("hi😀")
	b.Field(2).(*array.Decimal128Builder).Append(decimal128.FromI64(-150)) // -1.50
	b.Field(3).AppendNull()
	lb := b.Field(4).(*array.ListBuilder)
	lb.Append(true)
	lb.ValueBuilder().(*array.Int32Builder).Append(1)
	lb.ValueBuilder().AppendNull()
	b.Field(5).(*array.Int64Builder).Append(1234)
	return b.NewRecordBatch()
}

const (
	workedRowBytes = "01" + "08" + "000000000000002a" + // id 42
		"01" + "06" + "6869f09f9880" + // name "hi😀"
		"01" + "10" + "ffffffffffffffffffffffffffffff6a" + // balance -150 (-1.50)
		"00" + // note NULL
		"01" + "0c" + "02" + "01" + "08" + "0000000000000001" + "00" // tags [1, NULL]; ttl_ms excluded
	workedRowHash = "aa1f8b69238dc3b6b54c4fff75cbe577527103d30ace46b68c4f4fc13beaefa0"
	workedTwice   = "543f16d2471b876d6a989ffeeb97caeea4e207a6159c8d6d189e9f8277d5df40"
)

func TestDigestWorkedExample(t *testing.T) {
	rec := workedExampleRecord()
	defer rec.Release()
	var row []byte
	for _, c := range digestColumns(rec.Schema()) {
		row = AppendCanonical(row, rec.Column(c), 0)
	}
	if got := hex.EncodeToString(row); got != workedRowBytes {
		t.Fatalf("row encodes to\n%s\nSPEC.md §6 says\n%s", got, workedRowBytes)
	}
	h := sha256.Sum256(row)
	var d Digest
	if got := hex.EncodeToString(h[:]); got != workedRowHash || d.RowHash(rec, 0) != h {
		t.Fatalf("row hash %s, SPEC.md §6 says %s", got, workedRowHash)
	}
	d.AddRecord(rec)
	if s := d.Spec(); s.Sum != workedRowHash || s.Rows != 1 {
		t.Fatalf("one-row digest %+v", s)
	}
	d.AddRecord(rec)
	// Two copies of the row: 2·h mod 2^256, computed independently.
	x, _ := new(big.Int).SetString(workedRowHash, 16)
	x.Lsh(x, 1).Mod(x, new(big.Int).Lsh(big.NewInt(1), 256))
	want := hex.EncodeToString(x.FillBytes(make([]byte, 32)))
	if s := d.Spec(); s.Sum != want || s.Sum != workedTwice || s.Rows != 2 {
		t.Fatalf("two-row digest %s, want %s (SPEC.md says %s)", s.Sum, want, workedTwice)
	}
}

// Row hashes do not depend on how a batch is sliced, nested types included
// (list, map and struct values are read through their offsets).
func TestRowHashIgnoresSlicing(t *testing.T) {
	rec := allTypesRecord(t, 0, 12)
	defer rec.Release()
	var d Digest
	for i := 0; i < int(rec.NumRows()); i++ {
		one := rec.NewSlice(int64(i), int64(i)+1)
		if d.RowHash(one, 0) != d.RowHash(rec, i) {
			t.Fatalf("row %d hashes differently when sliced", i)
		}
		one.Release()
	}
}

// The digest is a sum of row hashes: order-independent, and it sees a
// doubled row (XOR would cancel it).
func TestDigestSumIsAdditive(t *testing.T) {
	rec := allTypesRecord(t, 0, 10)
	defer rec.Release()
	sum := new(big.Int)
	var d Digest
	for i := 0; i < 10; i++ {
		h := d.RowHash(rec, i)
		sum.Add(sum, new(big.Int).SetBytes(h[:]))
	}
	sum.Mod(sum, new(big.Int).Lsh(big.NewInt(1), 256))
	d.AddRecord(rec)
	if got := d.Spec().Sum; got != hex.EncodeToString(sum.FillBytes(make([]byte, 32))) {
		t.Fatalf("digest %s is not the sum of the row hashes mod 2^256", got)
	}
}
