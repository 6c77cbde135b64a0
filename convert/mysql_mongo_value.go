package convert

import (
	"fmt"
	"math"
	"math/big"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/imbundle/imbundle/internal/mysqltype"
	"github.com/imbundle/imbundle/spec"
)

// valueRule appends the non-null value of col at row i as the BSON element
// key, or says why no BSON value holds it exactly.
type valueRule func(doc []byte, key string, col arrow.Array, i int) ([]byte, string)

// valueRuleFor picks a column's rule from its Arrow type (SPEC.md §11.1's
// table), with a note when the rule is not the obvious one or may reject.
func valueRuleFor(c spec.Column) (valueRule, string, error) {
	t := c.Type
	switch {
	case t == "int8" || t == "int16" || t == "int32" || t == "uint8" || t == "uint16":
		return appendInt32, "", nil
	case t == "int64" || t == "uint32":
		return appendInt64, "", nil
	case t == "uint64":
		return appendUint64, "Int64; a value above 2^63-1 becomes a Decimal128 integer (exact)", nil
	case t == "float32":
		return appendFloat32, "Double (every FLOAT is a double exactly)", nil
	case t == "float64":
		return appendFloat64, "", nil
	case strings.HasPrefix(t, "decimal(") || strings.HasPrefix(t, "decimal128(") || strings.HasPrefix(t, "decimal256("):
		note := "Decimal128, scale kept"
		if p := decimalPrecision(t); p > 34 {
			note += fmt.Sprintf("; precision %d is above Decimal128's 34 digits: a value with more than 34 significant digits (trailing zeros aside) is rejected", p)
		}
		return appendDecimal, note, nil
	case t == "date32":
		return appendDate32, "BSON date at 00:00 UTC", nil
	case strings.HasPrefix(t, "timestamp[s") || strings.HasPrefix(t, "timestamp[ms"):
		return appendTimestamp, "BSON date (milliseconds)", nil
	case strings.HasPrefix(t, "timestamp[us"):
		return appendTimestamp, "BSON date (milliseconds): a value with microseconds is rejected", nil
	case strings.HasPrefix(t, "duration["):
		return appendDuration, "string in MySQL's TIME form ([-]HH:MM:SS.ffffff): BSON has no duration", nil
	case t == "large_utf8" || t == "utf8":
		if c.Metadata[mysqltype.MetaJSON] == "true" {
			return appendString, "JSON kept as its text (a string), so that it comes back byte for byte", nil
		}
		return appendString, "", nil
	case t == "large_binary" || t == "binary":
		return appendBinary, "Binary (subtype 0)", nil
	}
	return nil, "", fmt.Errorf("Arrow type %s has no BSON counterpart in this mapping", t)
}

func decimalPrecision(t string) int {
	var p, s int
	if _, err := fmt.Sscanf(t[strings.IndexByte(t, '(')+1:], "%d, %d", &p, &s); err != nil {
		return 0
	}
	return p
}

func appendInt32(doc []byte, key string, col arrow.Array, i int) ([]byte, string) {
	var v int64
	switch a := col.(type) {
	case *array.Int8:
		v = int64(a.Value(i))
	case *array.Int16:
		v = int64(a.Value(i))
	case *array.Int32:
		v = int64(a.Value(i))
	case *array.Uint8:
		v = int64(a.Value(i))
	case *array.Uint16:
		v = int64(a.Value(i))
	default:
		return nil, fmt.Sprintf("unexpected array %T", col)
	}
	return bsoncore.AppendInt32Element(doc, key, int32(v)), ""
}

func appendInt64(doc []byte, key string, col arrow.Array, i int) ([]byte, string) {
	switch a := col.(type) {
	case *array.Int64:
		return bsoncore.AppendInt64Element(doc, key, a.Value(i)), ""
	case *array.Uint32:
		return bsoncore.AppendInt64Element(doc, key, int64(a.Value(i))), ""
	}
	return nil, fmt.Sprintf("unexpected array %T", col)
}

func appendUint64(doc []byte, key string, col arrow.Array, i int) ([]byte, string) {
	a, ok := col.(*array.Uint64)
	if !ok {
		return nil, fmt.Sprintf("unexpected array %T", col)
	}
	v := a.Value(i)
	if v <= math.MaxInt64 {
		return bsoncore.AppendInt64Element(doc, key, int64(v)), ""
	}
	d, ok := bson.ParseDecimal128FromBigInt(new(big.Int).SetUint64(v), 0)
	if !ok {
		return nil, fmt.Sprintf("%d does not fit a Decimal128", v)
	}
	h, l := d.GetBytes()
	return bsoncore.AppendDecimal128Element(doc, key, h, l), ""
}

func appendFloat32(doc []byte, key string, col arrow.Array, i int) ([]byte, string) {
	a, ok := col.(*array.Float32)
	if !ok {
		return nil, fmt.Sprintf("unexpected array %T", col)
	}
	return bsoncore.AppendDoubleElement(doc, key, float64(a.Value(i))), ""
}

func appendFloat64(doc []byte, key string, col arrow.Array, i int) ([]byte, string) {
	a, ok := col.(*array.Float64)
	if !ok {
		return nil, fmt.Sprintf("unexpected array %T", col)
	}
	return bsoncore.AppendDoubleElement(doc, key, a.Value(i)), ""
}

// appendDecimal keeps the value's scale where it fits: DECIMAL(10,2) 1.50
// is the Decimal128 150E-2, which prints as 1.50. A coefficient of more
// than 34 digits sheds trailing zeros first (DECIMAL(65,30) 1.5 is
// 1.500...0 with 31 digits): the column's type, not the value, holds a
// MySQL decimal's scale, so the value comes back the same. What still has
// more than 34 significant digits is rejected.
func appendDecimal(doc []byte, key string, col arrow.Array, i int) ([]byte, string) {
	var coef *big.Int
	var scale int32
	switch a := col.(type) {
	case *array.Decimal128:
		coef, scale = a.Value(i).BigInt(), a.DataType().(*arrow.Decimal128Type).Scale
	case *array.Decimal256:
		coef, scale = a.Value(i).BigInt(), a.DataType().(*arrow.Decimal256Type).Scale
	default:
		return nil, fmt.Sprintf("unexpected array %T", col)
	}
	text := decimalText(coef, scale)
	c, exp := new(big.Int).Set(coef), -int(scale)
	ten, r := big.NewInt(10), new(big.Int)
	for len(new(big.Int).Abs(c).String()) > 34 {
		q, m := new(big.Int).QuoRem(c, ten, r)
		if m.Sign() != 0 {
			return nil, fmt.Sprintf("%s has %d significant digits, a Decimal128 holds 34", text, len(strings.TrimRight(new(big.Int).Abs(c).String(), "0")))
		}
		c, exp = q, exp+1
	}
	d, ok := bson.ParseDecimal128FromBigInt(c, exp)
	if !ok {
		return nil, fmt.Sprintf("%s does not fit a Decimal128", text)
	}
	h, l := d.GetBytes()
	return bsoncore.AppendDecimal128Element(doc, key, h, l), ""
}

func decimalText(coef *big.Int, scale int32) string {
	return new(big.Float).SetPrec(256).Quo(new(big.Float).SetInt(coef), new(big.Float).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil))).Text('f', int(scale))
}

func appendDate32(doc []byte, key string, col arrow.Array, i int) ([]byte, string) {
	a, ok := col.(*array.Date32)
	if !ok {
		return nil, fmt.Sprintf("unexpected array %T", col)
	}
	return bsoncore.AppendDateTimeElement(doc, key, int64(a.Value(i))*86400000), ""
}

func appendTimestamp(doc []byte, key string, col arrow.Array, i int) ([]byte, string) {
	a, ok := col.(*array.Timestamp)
	if !ok {
		return nil, fmt.Sprintf("unexpected array %T", col)
	}
	v := int64(a.Value(i))
	switch u := a.DataType().(*arrow.TimestampType).Unit; u {
	case arrow.Second:
		v *= 1000
	case arrow.Millisecond:
	case arrow.Microsecond:
		if v%1000 != 0 {
			return nil, fmt.Sprintf("%s has microseconds, a BSON date holds milliseconds", time.UnixMicro(v).UTC().Format("2006-01-02 15:04:05.000000"))
		}
		v /= 1000
	default:
		return nil, fmt.Sprintf("timestamp unit %s", u)
	}
	return bsoncore.AppendDateTimeElement(doc, key, v), ""
}

// appendDuration writes TIME as MySQL prints it with six fractional
// digits, "-838:59:59.000000", which MySQL parses back into any TIME(n).
func appendDuration(doc []byte, key string, col arrow.Array, i int) ([]byte, string) {
	a, ok := col.(*array.Duration)
	if !ok {
		return nil, fmt.Sprintf("unexpected array %T", col)
	}
	us := int64(a.Value(i))
	switch a.DataType().(*arrow.DurationType).Unit {
	case arrow.Second:
		us *= 1000000
	case arrow.Millisecond:
		us *= 1000
	}
	return bsoncore.AppendStringElement(doc, key, string(mysqltype.AppendTime(nil, us))), ""
}

func appendString(doc []byte, key string, col arrow.Array, i int) ([]byte, string) {
	switch a := col.(type) {
	case *array.LargeString:
		return bsoncore.AppendStringElement(doc, key, a.Value(i)), ""
	case *array.String:
		return bsoncore.AppendStringElement(doc, key, a.Value(i)), ""
	}
	return nil, fmt.Sprintf("unexpected array %T", col)
}

func appendBinary(doc []byte, key string, col arrow.Array, i int) ([]byte, string) {
	switch a := col.(type) {
	case *array.LargeBinary:
		return bsoncore.AppendBinaryElement(doc, key, 0, a.Value(i)), ""
	case *array.Binary:
		return bsoncore.AppendBinaryElement(doc, key, 0, a.Value(i)), ""
	}
	return nil, fmt.Sprintf("unexpected array %T", col)
}

func rawText(col arrow.Array, i int) string {
	switch a := col.(type) {
	case *array.LargeString:
		return a.Value(i)
	case *array.String:
		return a.Value(i)
	}
	return ""
}
