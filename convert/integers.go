package convert

import (
	"encoding/binary"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// integerAt reads row i of an integer column of any width and sign: v is
// its value when it fits an int64 (fits), else (a BIGINT UNSIGNED past
// 2^63-1) big is. ok is false for a column of another type.
func integerAt(col arrow.Array, i int) (v int64, big uint64, fits, ok bool) {
	switch a := col.(type) {
	case *array.Int8:
		return int64(a.Value(i)), 0, true, true
	case *array.Int16:
		return int64(a.Value(i)), 0, true, true
	case *array.Int32:
		return int64(a.Value(i)), 0, true, true
	case *array.Int64:
		return a.Value(i), 0, true, true
	case *array.Uint8:
		return int64(a.Value(i)), 0, true, true
	case *array.Uint16:
		return int64(a.Value(i)), 0, true, true
	case *array.Uint32:
		return int64(a.Value(i)), 0, true, true
	case *array.Uint64:
		if u := a.Value(i); u > math.MaxInt64 {
			return 0, u, false, true
		}
		return int64(a.Value(i)), 0, true, true
	}
	return 0, 0, false, false
}

// appendInteger appends row i of an integer column so that the bytes sort
// as the numbers do, whatever the column's width and sign: 'i' and the
// value's 8 bytes big-endian with the sign bit flipped, or for an
// unsigned value past 2^63-1 'j' and its 8 bytes. ok is false for a
// column of another type (nothing appended).
func appendInteger(dst []byte, col arrow.Array, i int) ([]byte, bool) {
	v, big, fits, ok := integerAt(col, i)
	switch {
	case !ok:
		return dst, false
	case fits:
		return binary.BigEndian.AppendUint64(append(dst, 'i'), uint64(v)^1<<63), true
	}
	return binary.BigEndian.AppendUint64(append(dst, 'j'), big), true
}
