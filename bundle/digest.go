package bundle

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/bits"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/imbundle/imbundle/spec"
)

// MetaDigest is the field metadata key that, set to "exclude", keeps a column
// out of the content digest (TTLs, for example: they change with the clock).
const MetaDigest = "imbundle.digest"

// Digest accumulates the order-independent content digest of SPEC.md §6: the
// sum modulo 2^256 of the SHA-256 of every row's canonical encoding. Addition,
// unlike XOR, sees a doubled or a lost duplicate row. The zero value is ready.
type Digest struct {
	sum  [4]uint64 // big-endian limbs: sum[0] is the most significant
	rows int64
	buf  []byte
}

// AddRecord adds every row of rec.
func (d *Digest) AddRecord(rec arrow.RecordBatch) {
	cols := digestColumns(rec.Schema())
	for i := 0; i < int(rec.NumRows()); i++ {
		d.addHash(d.rowHash(rec, cols, i))
	}
}

// RowHash returns the SHA-256 of row i's canonical encoding.
func (d *Digest) RowHash(rec arrow.RecordBatch, i int) [32]byte {
	return d.rowHash(rec, digestColumns(rec.Schema()), i)
}

func (d *Digest) rowHash(rec arrow.RecordBatch, cols []int, i int) [32]byte {
	d.buf = d.buf[:0]
	for _, c := range cols {
		d.buf = AppendCanonical(d.buf, rec.Column(c), i)
	}
	return sha256.Sum256(d.buf)
}

func (d *Digest) addHash(h [32]byte) {
	var carry uint64
	for limb := 3; limb >= 0; limb-- {
		v := binary.BigEndian.Uint64(h[limb*8:])
		d.sum[limb], carry = bits.Add64(d.sum[limb], v, carry)
	}
	d.rows++
}

// Merge adds the rows of o into d (digests of disjoint parts add up).
func (d *Digest) Merge(o *Digest) {
	var carry uint64
	for limb := 3; limb >= 0; limb-- {
		d.sum[limb], carry = bits.Add64(d.sum[limb], o.sum[limb], carry)
	}
	d.rows += o.rows
}

// Rows is the number of rows added.
func (d *Digest) Rows() int64 { return d.rows }

// Spec returns the digest as stored in the manifest.
func (d *Digest) Spec() spec.Digest {
	var b [32]byte
	for limb := 0; limb < 4; limb++ {
		binary.BigEndian.PutUint64(b[limb*8:], d.sum[limb])
	}
	return spec.Digest{Algorithm: spec.DigestAlgorithm, Rows: d.rows, Sum: hex.EncodeToString(b[:])}
}

func digestColumns(s *arrow.Schema) []int {
	cols := make([]int, 0, s.NumFields())
	for i, f := range s.Fields() {
		if v, ok := f.Metadata.GetValue(MetaDigest); ok && v == "exclude" {
			continue
		}
		cols = append(cols, i)
	}
	return cols
}

// AppendCanonical appends the canonical encoding of arr[i] (SPEC.md §6): 0x00
// for NULL, else 0x01, a uvarint length and the value's bytes.
func AppendCanonical(b []byte, arr arrow.Array, i int) []byte {
	if arr.IsNull(i) {
		return append(b, 0)
	}
	b = append(b, 1)
	var scratch [32]byte
	var v []byte
	switch a := arr.(type) {
	case *array.Int8:
		v = binary.BigEndian.AppendUint64(scratch[:0], uint64(int64(a.Value(i))))
	case *array.Int16:
		v = binary.BigEndian.AppendUint64(scratch[:0], uint64(int64(a.Value(i))))
	case *array.Int32:
		v = binary.BigEndian.AppendUint64(scratch[:0], uint64(int64(a.Value(i))))
	case *array.Int64:
		v = binary.BigEndian.AppendUint64(scratch[:0], uint64(a.Value(i)))
	case *array.Uint8:
		v = binary.BigEndian.AppendUint64(scratch[:0], uint64(a.Value(i)))
	case *array.Uint16:
		v = binary.BigEndian.AppendUint64(scratch[:0], uint64(a.Value(i)))
	case *array.Uint32:
		v = binary.BigEndian.AppendUint64(scratch[:0], uint64(a.Value(i)))
	case *array.Uint64:
		v = binary.BigEndian.AppendUint64(scratch[:0], a.Value(i))
	case *array.Float32:
		v = binary.BigEndian.AppendUint32(scratch[:0], math.Float32bits(a.Value(i)))
	case *array.Float64:
		v = binary.BigEndian.AppendUint64(scratch[:0], math.Float64bits(a.Value(i)))
	case *array.Boolean:
		if a.Value(i) {
			v = append(scratch[:0], 1)
		} else {
			v = append(scratch[:0], 0)
		}
	case *array.String:
		return appendBytes(b, []byte(a.Value(i)))
	case *array.LargeString:
		return appendBytes(b, []byte(a.Value(i)))
	case *array.Binary:
		return appendBytes(b, a.Value(i))
	case *array.LargeBinary:
		return appendBytes(b, a.Value(i))
	case *array.FixedSizeBinary:
		return appendBytes(b, a.Value(i))
	case *array.Decimal128:
		x := a.Value(i)
		v = binary.BigEndian.AppendUint64(scratch[:0], uint64(x.HighBits()))
		v = binary.BigEndian.AppendUint64(v, x.LowBits())
	case *array.Decimal256:
		x := a.Value(i).Array() // little-endian limbs
		v = scratch[:0]
		for k := 3; k >= 0; k-- {
			v = binary.BigEndian.AppendUint64(v, x[k])
		}
	case *array.Date32:
		v = binary.BigEndian.AppendUint64(scratch[:0], uint64(int64(a.Value(i))))
	case *array.Date64:
		v = binary.BigEndian.AppendUint64(scratch[:0], uint64(int64(a.Value(i))))
	case *array.Timestamp:
		v = binary.BigEndian.AppendUint64(scratch[:0], uint64(int64(a.Value(i))))
	case *array.Time32:
		v = binary.BigEndian.AppendUint64(scratch[:0], uint64(int64(a.Value(i))))
	case *array.Time64:
		v = binary.BigEndian.AppendUint64(scratch[:0], uint64(int64(a.Value(i))))
	case *array.Duration:
		v = binary.BigEndian.AppendUint64(scratch[:0], uint64(int64(a.Value(i))))
	case array.ExtensionArray:
		return AppendCanonical(b[:len(b)-1], a.Storage(), i)
	default:
		// Nested or rare types: their text form is canonical enough and stable
		// across arrow-go versions for the types imbundle never writes.
		return appendBytes(b, []byte(fmt.Sprint(arr.GetOneForMarshal(i))))
	}
	return appendBytes(b, v)
}

func appendBytes(b, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}
