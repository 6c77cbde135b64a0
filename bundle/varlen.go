package bundle

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Engines write text as large_utf8 and bytes as large_binary (SPEC.md §4.4):
// ZSTD squeezes 64-bit offsets to a fifth of what it leaves of 32-bit ones.
// Format 1 bundles hold utf8 and binary, and other writers may too, so
// readers take either width through VarLen.
var (
	Text  arrow.DataType = arrow.BinaryTypes.LargeString
	Bytes arrow.DataType = arrow.BinaryTypes.LargeBinary
)

// VarLen reads the values of a utf8, large_utf8, binary or large_binary
// array as bytes shared with the array.
type VarLen struct {
	arrow.Array
	data  []byte
	off32 []int32
	off64 []int64
	base  int
}

// AsVarLen wraps a, or reports false if a is not of one of the four types.
func AsVarLen(a arrow.Array) (VarLen, bool) {
	v := VarLen{Array: a, base: a.Data().Offset()}
	bufs := a.Data().Buffers()
	if len(bufs) < 3 {
		return VarLen{}, false
	}
	if bufs[2] != nil {
		v.data = bufs[2].Bytes()
	}
	switch a.DataType().ID() {
	case arrow.STRING, arrow.BINARY:
		if bufs[1] != nil {
			v.off32 = arrow.Int32Traits.CastFromBytes(bufs[1].Bytes())
		}
	case arrow.LARGE_STRING, arrow.LARGE_BINARY:
		if bufs[1] != nil {
			v.off64 = arrow.Int64Traits.CastFromBytes(bufs[1].Bytes())
		}
	default:
		return VarLen{}, false
	}
	if a.Len() > 0 && v.off32 == nil && v.off64 == nil {
		return VarLen{}, false
	}
	return v, true
}

// Value is the bytes of value i ("" for NULL). The slice aliases the array.
func (v VarLen) Value(i int) []byte {
	j := i + v.base
	if v.off64 != nil {
		return v.data[v.off64[j]:v.off64[j+1]]
	}
	if v.off32 != nil {
		return v.data[v.off32[j]:v.off32[j+1]]
	}
	return nil
}

// VarLenColumns wraps the columns of rec named by idx, which must be of
// the four VarLen types.
func VarLenColumns(rec arrow.RecordBatch, idx ...int) ([]VarLen, error) {
	out := make([]VarLen, len(idx))
	for k, i := range idx {
		v, ok := AsVarLen(rec.Column(i))
		if !ok {
			return nil, fmt.Errorf("column %s is %s, want a string or binary type", rec.ColumnName(i), rec.Column(i).DataType())
		}
		out[k] = v
	}
	return out, nil
}

// VarLenBuilder returns the byte builder behind a builder of one of the four
// VarLen types (string builders embed one), or false.
func VarLenBuilder(b array.Builder) (*array.BinaryBuilder, bool) {
	switch bb := b.(type) {
	case *array.BinaryBuilder:
		return bb, true
	case *array.StringBuilder:
		return bb.BinaryBuilder, true
	case *array.LargeStringBuilder:
		return bb.BinaryBuilder, true
	}
	return nil, false
}

// SameValues reports whether manifest types a and b hold the same values
// with the same digest encoding (SPEC.md §6): equal, or the two offset
// widths of text or of bytes.
func SameValues(a, b string) bool {
	return a == b || widthless(a) == widthless(b)
}

func widthless(t string) string {
	switch t {
	case "large_utf8":
		return "utf8"
	case "large_binary":
		return "binary"
	}
	return t
}
