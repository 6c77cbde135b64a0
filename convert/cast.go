package convert

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/imbundle/imbundle/internal/mysqltype"
	"github.com/imbundle/imbundle/spec"
)

// A mapping's cast gives a column another BSON type than its default one
// (cast: {user_id: string}). Every cast is exact or the row a reject:
//   - string: integers and decimals in their exact decimal text, floats in
//     the shortest text that reads back as the same bits, dates and times
//     as MySQL prints them (a zero date's own text), text as it is, bytes
//     when they are UTF-8;
//   - int64: integers in range, decimals without a fraction, text that
//     parses whole, floats that are whole numbers within 2^53;
//   - double: integers and decimals that a double holds exactly, floats,
//     text that parses to a double that is exactly its value.
var casts = map[string]bool{"string": true, "int64": true, "double": true}

// castRule is the value rule of a cast column.
func castRule(to string, c spec.Column) (valueRule, error) {
	if !casts[to] {
		return nil, fmt.Errorf("cast to %q: want string, int64 or double", to)
	}
	return func(doc []byte, key string, col arrow.Array, i int) ([]byte, string) {
		text, num, isNum, why := castSource(col, i)
		if why != "" {
			return nil, why
		}
		switch to {
		case "string":
			if !utf8.ValidString(text) {
				return nil, "its bytes are not UTF-8: no string holds them"
			}
			return bsoncore.AppendStringElement(doc, key, text), ""
		case "int64":
			if !isNum {
				r, ok := new(big.Rat).SetString(strings.TrimSpace(text))
				if !ok || strings.TrimSpace(text) != text {
					return nil, fmt.Sprintf("%q is not a number", text)
				}
				num = r
			}
			if !num.IsInt() || !num.Num().IsInt64() {
				return nil, fmt.Sprintf("%s is not a whole number in int64's range", text)
			}
			return bsoncore.AppendInt64Element(doc, key, num.Num().Int64()), ""
		default: // double
			if !isNum {
				r, ok := new(big.Rat).SetString(text)
				if !ok {
					return nil, fmt.Sprintf("%q is not a number", text)
				}
				num = r
			}
			f, exact := num.Float64()
			if !exact {
				return nil, fmt.Sprintf("%s has no exact double", text)
			}
			return bsoncore.AppendDoubleElement(doc, key, f), ""
		}
	}, nil
}

// castSource reads row i as text, and, for numbers, as an exact rational.
func castSource(col arrow.Array, i int) (text string, num *big.Rat, isNum bool, why string) {
	switch a := col.(type) {
	case *array.Int8, *array.Int16, *array.Int32, *array.Int64:
		v := intOf(a, i)
		return strconv.FormatInt(v, 10), new(big.Rat).SetInt64(v), true, ""
	case *array.Uint8, *array.Uint16, *array.Uint32, *array.Uint64:
		v := uintOf(a, i)
		return strconv.FormatUint(v, 10), new(big.Rat).SetInt(new(big.Int).SetUint64(v)), true, ""
	case *array.Float32:
		v := a.Value(i)
		return strconv.FormatFloat(float64(v), 'g', -1, 32), ratOfFloat(float64(v)), !math.IsInf(float64(v), 0), ""
	case *array.Float64:
		v := a.Value(i)
		return strconv.FormatFloat(v, 'g', -1, 64), ratOfFloat(v), !math.IsInf(v, 0), ""
	case *array.Decimal128:
		scale := a.DataType().(*arrow.Decimal128Type).Scale
		coef := a.Value(i).BigInt()
		return decimalText(coef, scale), new(big.Rat).SetFrac(coef, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)), true, ""
	case *array.Decimal256:
		scale := a.DataType().(*arrow.Decimal256Type).Scale
		coef := a.Value(i).BigInt()
		return decimalText(coef, scale), new(big.Rat).SetFrac(coef, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)), true, ""
	case *array.LargeString:
		return a.Value(i), nil, false, ""
	case *array.String:
		return a.Value(i), nil, false, ""
	case *array.LargeBinary:
		return string(a.Value(i)), nil, false, ""
	case *array.Binary:
		return string(a.Value(i)), nil, false, ""
	case *array.Date32:
		return string(mysqltype.AppendDate(nil, int64(a.Value(i)))), nil, false, ""
	case *array.Timestamp:
		u := a.DataType().(*arrow.TimestampType).Unit
		return clockDigits(string(mysqltype.AppendDatetime(nil, toMicros(int64(a.Value(i)), u))), u), nil, false, ""
	case *array.Duration:
		u := a.DataType().(*arrow.DurationType).Unit
		return clockDigits(string(mysqltype.AppendTime(nil, toMicros(int64(a.Value(i)), u))), u), nil, false, ""
	}
	return "", nil, false, fmt.Sprintf("no cast from %s", col.DataType())
}

func ratOfFloat(f float64) *big.Rat {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return nil
	}
	return new(big.Rat).SetFloat64(f)
}

func intOf(a arrow.Array, i int) int64 {
	switch a := a.(type) {
	case *array.Int8:
		return int64(a.Value(i))
	case *array.Int16:
		return int64(a.Value(i))
	case *array.Int32:
		return int64(a.Value(i))
	case *array.Int64:
		return a.Value(i)
	}
	return 0
}

func uintOf(a arrow.Array, i int) uint64 {
	switch a := a.(type) {
	case *array.Uint8:
		return uint64(a.Value(i))
	case *array.Uint16:
		return uint64(a.Value(i))
	case *array.Uint32:
		return uint64(a.Value(i))
	case *array.Uint64:
		return a.Value(i)
	}
	return 0
}

// defaultValue appends a mapping's default for a NULL (defaults: {f: v}):
// the YAML scalar's own type, integer Int64, float Double, string String,
// boolean Boolean.
func defaultValue(doc []byte, key string, v any) ([]byte, error) {
	switch v := v.(type) {
	case int:
		return bsoncore.AppendInt64Element(doc, key, int64(v)), nil
	case int64:
		return bsoncore.AppendInt64Element(doc, key, v), nil
	case uint64:
		if v > math.MaxInt64 {
			return nil, fmt.Errorf("default %d is beyond int64", v)
		}
		return bsoncore.AppendInt64Element(doc, key, int64(v)), nil
	case float64:
		return bsoncore.AppendDoubleElement(doc, key, v), nil
	case string:
		return bsoncore.AppendStringElement(doc, key, v), nil
	case bool:
		return bsoncore.AppendBooleanElement(doc, key, v), nil
	}
	return nil, fmt.Errorf("default %v (%T): want a number, a string or a boolean", v, v)
}

func toMicros(v int64, u arrow.TimeUnit) int64 {
	switch u {
	case arrow.Second:
		return v * 1000000
	case arrow.Millisecond:
		return v * 1000
	}
	return v
}

// clockDigits keeps the fractional digits the unit has: none for seconds,
// three for milliseconds (the column's precision, as MySQL prints it).
func clockDigits(s string, u arrow.TimeUnit) string {
	switch u {
	case arrow.Second:
		return strings.TrimSuffix(s, ".000000")
	case arrow.Millisecond:
		return s[:len(s)-3]
	}
	return s
}
