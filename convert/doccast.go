package convert

import (
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// docCast is a mapping's cast onto an existing table's column (SPEC.md
// §11.3): the field's value becomes another BSON type first, exactly or
// not at all, and the column's rule then takes it as any value of that
// type. string: Int32, Int64 and Decimal128 as their decimal text, a
// Double as the shortest text that reads back as the same bits, an
// ObjectId as its hex digits, a String as it is. int64: integers, and
// Doubles, Decimal128s and Strings whose value is a whole number in
// int64's range. double: Doubles, and integers, Decimal128s and Strings
// whose value a double holds exactly. Null stays Null.
type docCast func(v bson.RawValue) (bson.RawValue, string)

func docCastTo(to string) docCast {
	return func(v bson.RawValue) (bson.RawValue, string) {
		if v.Type == bson.TypeNull {
			return v, ""
		}
		switch to {
		case "string":
			var s string
			switch v.Type {
			case bson.TypeString:
				return v, ""
			case bson.TypeInt32:
				s = strconv.FormatInt(int64(v.Int32()), 10)
			case bson.TypeInt64:
				s = strconv.FormatInt(v.Int64(), 10)
			case bson.TypeDouble:
				s = strconv.FormatFloat(v.Double(), 'g', -1, 64)
			case bson.TypeDecimal128:
				s = v.Decimal128().String()
			case bson.TypeObjectID:
				s = v.ObjectID().Hex()
			default:
				return v, fmt.Sprintf("cast to string: a %s has no text of its own", v.Type)
			}
			return bson.RawValue{Type: bson.TypeString, Value: bsoncore.AppendString(nil, s)}, ""
		case "int64":
			r, why := exactRat(v)
			if why != "" {
				return v, "cast to int64: " + why
			}
			if !r.IsInt() || !r.Num().IsInt64() {
				return v, fmt.Sprintf("cast to int64: %s is not a whole number in int64's range", r.RatString())
			}
			return bson.RawValue{Type: bson.TypeInt64, Value: bsoncore.AppendInt64(nil, r.Num().Int64())}, ""
		default: // double
			r, why := exactRat(v)
			if why != "" {
				return v, "cast to double: " + why
			}
			f, exact := r.Float64()
			if !exact {
				return v, fmt.Sprintf("cast to double: %s has no exact double", r.RatString())
			}
			return bson.RawValue{Type: bson.TypeDouble, Value: bsoncore.AppendDouble(nil, f)}, ""
		}
	}
}

var numericText = regexp.MustCompile(`^[-+]?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$`)

// exactRat is a number's (or a numeric String's) exact value.
func exactRat(v bson.RawValue) (*big.Rat, string) {
	switch v.Type {
	case bson.TypeInt32:
		return new(big.Rat).SetInt64(int64(v.Int32())), ""
	case bson.TypeInt64:
		return new(big.Rat).SetInt64(v.Int64()), ""
	case bson.TypeDouble:
		if d := v.Double(); !math.IsNaN(d) && !math.IsInf(d, 0) {
			return new(big.Rat).SetFloat64(d), ""
		}
		return nil, fmt.Sprintf("%v is no finite number", v.Double())
	case bson.TypeDecimal128:
		return decimalRat(v.Decimal128())
	case bson.TypeString:
		// Decimal text only: big.Rat also reads 0x10, 1_0 and 1/3.
		r, ok := new(big.Rat).SetString(v.StringValue())
		if !numericText.MatchString(v.StringValue()) || !ok {
			return nil, fmt.Sprintf("%q is not a number", v.StringValue())
		}
		return r, ""
	}
	return nil, fmt.Sprintf("a %s is not a number", v.Type)
}
