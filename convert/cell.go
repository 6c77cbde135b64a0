package convert

import (
	"fmt"
	"math/big"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/decimal256"
)

// cell is one converted value, in the field of its column's Arrow type
// (i: signed integers, days, timestamp and duration counts; u: unsigned
// integers; f: floats; b: text and bytes; n: decimals' unscaled value).
type cell struct {
	null bool
	i    int64
	u    uint64
	f    float64
	b    []byte
	n    *big.Int
}

// appendCell appends c to the builder of its column.
func appendCell(b array.Builder, c cell) {
	if c.null {
		b.AppendNull()
		return
	}
	switch b := b.(type) {
	case *array.Int8Builder:
		b.Append(int8(c.i))
	case *array.Int16Builder:
		b.Append(int16(c.i))
	case *array.Int32Builder:
		b.Append(int32(c.i))
	case *array.Int64Builder:
		b.Append(c.i)
	case *array.Uint8Builder:
		b.Append(uint8(c.u))
	case *array.Uint16Builder:
		b.Append(uint16(c.u))
	case *array.Uint32Builder:
		b.Append(uint32(c.u))
	case *array.Uint64Builder:
		b.Append(c.u)
	case *array.Float32Builder:
		b.Append(float32(c.f))
	case *array.Float64Builder:
		b.Append(c.f)
	case *array.Decimal128Builder:
		b.Append(decimal128.FromBigInt(c.n))
	case *array.Decimal256Builder:
		b.Append(decimal256.FromBigInt(c.n))
	case *array.Date32Builder:
		b.Append(arrow.Date32(c.i))
	case *array.TimestampBuilder:
		b.Append(arrow.Timestamp(c.i))
	case *array.DurationBuilder:
		b.Append(arrow.Duration(c.i))
	case *array.LargeStringBuilder:
		b.BinaryBuilder.Append(c.b)
	case *array.BinaryBuilder:
		b.Append(c.b)
	default:
		panic(fmt.Sprintf("convert: no cell for %T", b))
	}
}
