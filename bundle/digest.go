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

// AppendCanonical appends the canonical encoding of arr[i] (SPEC.md §6):
// 0x00 for NULL; else 0x01, the length of the value bytes as a uvarint, and
// the value bytes. Integers of every width are 8 bytes big-endian (signed
// ones sign-extended), floats their IEEE bits, decimals big-endian two's
// complement, temporal types their int64 count of units, strings and binary
// their bytes; a list or map is a uvarint count and its elements' encodings,
// a struct its fields' encodings, an extension type its storage's. It
// panics on a type CheckType refuses: bundles never hold one.
func AppendCanonical(b []byte, arr arrow.Array, i int) []byte {
	if arr.IsNull(i) {
		return append(b, 0)
	}
	if ext, ok := arr.(array.ExtensionArray); ok {
		return AppendCanonical(b, ext.Storage(), i)
	}
	b = append(b, 1)
	var scratch [32]byte
	var v []byte
	switch a := arr.(type) {
	case *array.Int8:
		v = be64(scratch[:0], int64(a.Value(i)))
	case *array.Int16:
		v = be64(scratch[:0], int64(a.Value(i)))
	case *array.Int32:
		v = be64(scratch[:0], int64(a.Value(i)))
	case *array.Int64:
		v = be64(scratch[:0], a.Value(i))
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
		v = be64(scratch[:0], int64(a.Value(i)))
	case *array.Date64:
		v = be64(scratch[:0], int64(a.Value(i)))
	case *array.Timestamp:
		v = be64(scratch[:0], int64(a.Value(i)))
	case *array.Time32:
		v = be64(scratch[:0], int64(a.Value(i)))
	case *array.Time64:
		v = be64(scratch[:0], int64(a.Value(i)))
	case *array.Duration:
		v = be64(scratch[:0], int64(a.Value(i)))
	case *array.Map: // a count, then key and item of each entry
		start, end := a.ValueOffsets(i)
		v = binary.AppendUvarint(nil, uint64(end-start))
		for j := int(start); j < int(end); j++ {
			v = AppendCanonical(v, a.Keys(), j)
			v = AppendCanonical(v, a.Items(), j)
		}
	case *array.List:
		start, end := a.ValueOffsets(i)
		v = appendElements(nil, a.ListValues(), start, end)
	case *array.LargeList:
		start, end := a.ValueOffsets(i)
		v = appendElements(nil, a.ListValues(), start, end)
	case *array.FixedSizeList:
		start, end := a.ValueOffsets(i)
		v = appendElements(nil, a.ListValues(), start, end)
	case *array.Struct:
		for k := 0; k < a.NumField(); k++ {
			v = AppendCanonical(v, a.Field(k), i)
		}
	default:
		panic(fmt.Sprintf("bundle: Arrow type %s has no canonical encoding (SPEC.md §6); CheckType refuses it", arr.DataType()))
	}
	return appendBytes(b, v)
}

func be64(b []byte, v int64) []byte { return binary.BigEndian.AppendUint64(b, uint64(v)) }

func appendElements(v []byte, values arrow.Array, start, end int64) []byte {
	v = binary.AppendUvarint(v, uint64(end-start))
	for j := int(start); j < int(end); j++ {
		v = AppendCanonical(v, values, j)
	}
	return v
}

func appendBytes(b, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}
