package bundle

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
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
	h    hash.Hash // reused: sha256.Sum256 allocates per call
	out  [32]byte
}

// AddRecord adds every row of rec.
func (d *Digest) AddRecord(rec arrow.RecordBatch) {
	cols := digestColumns(rec.Schema())
	for i := 0; i < int(rec.NumRows()); i++ {
		d.addHash(d.rowHash(rec, cols, i))
	}
}

// EachRowHash calls fn with the row hash of every row of rec, in order
// (a delta compares rows by them, SPEC.md §14.2). The hash is only valid
// during the call.
func (d *Digest) EachRowHash(rec arrow.RecordBatch, fn func(i int, h *[32]byte)) {
	cols := digestColumns(rec.Schema())
	for i := 0; i < int(rec.NumRows()); i++ {
		h := d.rowHash(rec, cols, i)
		fn(i, &h)
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
	if d.h == nil {
		d.h = sha256.New()
	}
	d.h.Reset()
	d.h.Write(d.buf)
	d.h.Sum(d.out[:0])
	return d.out
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
	// Fixed-width values are appended in place (tag, length, bytes): no
	// scratch buffer, which would escape to the heap once per value.
	switch a := arr.(type) {
	case *array.Int8:
		return appendInt(b, int64(a.Value(i)))
	case *array.Int16:
		return appendInt(b, int64(a.Value(i)))
	case *array.Int32:
		return appendInt(b, int64(a.Value(i)))
	case *array.Int64:
		return appendInt(b, a.Value(i))
	case *array.Uint8:
		return appendUint(b, uint64(a.Value(i)))
	case *array.Uint16:
		return appendUint(b, uint64(a.Value(i)))
	case *array.Uint32:
		return appendUint(b, uint64(a.Value(i)))
	case *array.Uint64:
		return appendUint(b, a.Value(i))
	case *array.Float32:
		return binary.BigEndian.AppendUint32(append(b, 1, 4), math.Float32bits(a.Value(i)))
	case *array.Float64:
		return appendUint(b, math.Float64bits(a.Value(i)))
	case *array.Boolean:
		if a.Value(i) {
			return append(b, 1, 1, 1)
		}
		return append(b, 1, 1, 0)
	case *array.String:
		return appendString(b, a.Value(i))
	case *array.LargeString:
		return appendString(b, a.Value(i))
	case *array.Binary:
		return appendBytes(b, a.Value(i))
	case *array.LargeBinary:
		return appendBytes(b, a.Value(i))
	case *array.FixedSizeBinary:
		return appendBytes(b, a.Value(i))
	case *array.Decimal128:
		x := a.Value(i)
		b = binary.BigEndian.AppendUint64(append(b, 1, 16), uint64(x.HighBits()))
		return binary.BigEndian.AppendUint64(b, x.LowBits())
	case *array.Decimal256:
		x := a.Value(i).Array() // little-endian limbs
		b = append(b, 1, 32)
		for k := 3; k >= 0; k-- {
			b = binary.BigEndian.AppendUint64(b, x[k])
		}
		return b
	case *array.Date32:
		return appendInt(b, int64(a.Value(i)))
	case *array.Date64:
		return appendInt(b, int64(a.Value(i)))
	case *array.Timestamp:
		return appendInt(b, int64(a.Value(i)))
	case *array.Time32:
		return appendInt(b, int64(a.Value(i)))
	case *array.Time64:
		return appendInt(b, int64(a.Value(i)))
	case *array.Duration:
		return appendInt(b, int64(a.Value(i)))
	}
	// Nested values: their length is known only once encoded.
	var v []byte
	switch a := arr.(type) {
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
		v = []byte{}
		for k := 0; k < a.NumField(); k++ {
			v = AppendCanonical(v, a.Field(k), i)
		}
	default:
		panic(fmt.Sprintf("bundle: Arrow type %s has no canonical encoding (SPEC.md §6); CheckType refuses it", arr.DataType()))
	}
	return appendBytes(b, v)
}

// appendInt and appendUint append a non-NULL 8-byte integer: 01 08 and
// the value big-endian.
func appendInt(b []byte, v int64) []byte { return appendUint(b, uint64(v)) }

func appendUint(b []byte, v uint64) []byte {
	return binary.BigEndian.AppendUint64(append(b, 1, 8), v)
}

func appendElements(v []byte, values arrow.Array, start, end int64) []byte {
	v = binary.AppendUvarint(v, uint64(end-start))
	for j := int(start); j < int(end); j++ {
		v = AppendCanonical(v, values, j)
	}
	return v
}

// appendString and appendBytes append a non-NULL variable-length value:
// 01, its length as a uvarint, its bytes.
func appendString(b []byte, v string) []byte {
	b = binary.AppendUvarint(append(b, 1), uint64(len(v)))
	return append(b, v...)
}

func appendBytes(b, v []byte) []byte {
	b = binary.AppendUvarint(append(b, 1), uint64(len(v)))
	return append(b, v...)
}

// digestFromSpec is the Digest a manifest records (the zero Digest for
// an empty spec.Digest), to go on adding rows to: a resumed export
// continues a dataset from its kept parts' digests.
func digestFromSpec(s spec.Digest) (Digest, error) {
	var d Digest
	if s == (spec.Digest{}) {
		return d, nil
	}
	b, err := hex.DecodeString(s.Sum)
	if s.Algorithm != spec.DigestAlgorithm || err != nil || len(b) != 32 || s.Rows < 0 {
		return d, fmt.Errorf("digest %s:%s of %d rows is not one this imbundle writes", s.Algorithm, s.Sum, s.Rows)
	}
	for limb := 0; limb < 4; limb++ {
		d.sum[limb] = binary.BigEndian.Uint64(b[limb*8:])
	}
	d.rows = s.Rows
	return d, nil
}
