package convert

import (
	"fmt"
	"math"
	"math/big"

	"github.com/apache/arrow-go/v18/arrow"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/mysqltype"
	"github.com/imbundle/imbundle/spec"
)

// fieldRule converts a non-null BSON value into a column's cell, or says
// why the column cannot hold it exactly.
type fieldRule func(v bson.RawValue) (cell, string)

// arrowType parses the Arrow types of SPEC.md §7.4 as a manifest spells
// them.
func arrowType(s string) (arrow.DataType, error) {
	simple := map[string]arrow.DataType{
		"int8": arrow.PrimitiveTypes.Int8, "int16": arrow.PrimitiveTypes.Int16, "int32": arrow.PrimitiveTypes.Int32, "int64": arrow.PrimitiveTypes.Int64,
		"uint8": arrow.PrimitiveTypes.Uint8, "uint16": arrow.PrimitiveTypes.Uint16, "uint32": arrow.PrimitiveTypes.Uint32, "uint64": arrow.PrimitiveTypes.Uint64,
		"float32": arrow.PrimitiveTypes.Float32, "float64": arrow.PrimitiveTypes.Float64, "date32": arrow.FixedWidthTypes.Date32,
		"large_utf8": bundle.Text, "utf8": bundle.Text, "large_binary": bundle.Bytes, "binary": bundle.Bytes,
	}
	if t, ok := simple[s]; ok {
		return t, nil
	}
	var p, sc int32
	if _, err := fmt.Sscanf(s, "decimal(%d, %d)", &p, &sc); err == nil {
		return &arrow.Decimal128Type{Precision: p, Scale: sc}, nil
	}
	if _, err := fmt.Sscanf(s, "decimal128(%d, %d)", &p, &sc); err == nil {
		return &arrow.Decimal128Type{Precision: p, Scale: sc}, nil
	}
	if _, err := fmt.Sscanf(s, "decimal256(%d, %d)", &p, &sc); err == nil {
		return &arrow.Decimal256Type{Precision: p, Scale: sc}, nil
	}
	for _, u := range []arrow.TimeUnit{arrow.Second, arrow.Millisecond, arrow.Microsecond} {
		for _, tz := range []string{"", "UTC"} {
			if t := (&arrow.TimestampType{Unit: u, TimeZone: tz}); t.String() == s {
				return t, nil
			}
		}
		if t := (&arrow.DurationType{Unit: u}); t.String() == s {
			return t, nil
		}
	}
	return nil, fmt.Errorf("Arrow type %s is not one a MySQL table has (SPEC.md §7.4)", s)
}

// fieldRuleFor picks a column's rule from its Arrow type (SPEC.md §11.3's
// table), with a note where the rule is not the obvious one.
func fieldRuleFor(col spec.Column, t arrow.DataType) (fieldRule, string, error) {
	switch t := t.(type) {
	case *arrow.Int8Type:
		return intRule(true, 8), "", nil
	case *arrow.Int16Type:
		return intRule(true, 16), "", nil
	case *arrow.Int32Type:
		return intRule(true, 32), "", nil
	case *arrow.Int64Type:
		return intRule(true, 64), "", nil
	case *arrow.Uint8Type:
		return intRule(false, 8), "", nil
	case *arrow.Uint16Type:
		return intRule(false, 16), "", nil
	case *arrow.Uint32Type:
		return intRule(false, 32), "", nil
	case *arrow.Uint64Type:
		return intRule(false, 64), "", nil
	case *arrow.Float32Type:
		return float32Rule, "a Double only when a FLOAT holds it exactly", nil
	case *arrow.Float64Type:
		return float64Rule, "", nil
	case *arrow.Decimal128Type:
		return decimalRule(t.Precision, t.Scale), "", nil
	case *arrow.Decimal256Type:
		return decimalRule(t.Precision, t.Scale), "", nil
	case *arrow.Date32Type:
		return dateRule, "a Date only at midnight UTC", nil
	case *arrow.TimestampType:
		return timestampRule(t.Unit), "", nil
	case *arrow.DurationType:
		return durationRule(t.Unit), "a String in MySQL's TIME form", nil
	case *arrow.LargeStringType:
		if col.Metadata[mysqltype.MetaJSON] == "true" {
			return stringRule, "a String holding the JSON text", nil
		}
		return stringRule, "a String; an ObjectId as its 24 hex digits", nil
	case *arrow.LargeBinaryType:
		if cs := col.Metadata[mysqltype.MetaCharset]; cs != "" {
			return binaryRule(false), fmt.Sprintf("text in %s: only a Binary (its bytes as stored)", cs), nil
		}
		return binaryRule(true), "a Binary (subtype 0), or a String's UTF-8 bytes", nil
	}
	return nil, "", fmt.Errorf("no BSON value maps onto Arrow type %s", t)
}

// wholeNumber is v as an integer when it is one exactly: Int32, Int64,
// Boolean (0 or 1), an integral Double, an integral Decimal128.
func wholeNumber(v bson.RawValue) (*big.Int, string) {
	switch v.Type {
	case bson.TypeInt32:
		return big.NewInt(int64(v.Int32())), ""
	case bson.TypeInt64:
		return big.NewInt(v.Int64()), ""
	case bson.TypeBoolean:
		if v.Boolean() {
			return big.NewInt(1), ""
		}
		return big.NewInt(0), ""
	case bson.TypeDouble:
		d := v.Double()
		if math.IsNaN(d) || math.IsInf(d, 0) || d != math.Trunc(d) {
			return nil, fmt.Sprintf("%v is no integer", d)
		}
		n, _ := new(big.Float).SetFloat64(d).Int(nil)
		return n, ""
	case bson.TypeDecimal128:
		r, why := decimalRat(v.Decimal128())
		if why != "" {
			return nil, why
		}
		if !r.IsInt() {
			return nil, fmt.Sprintf("%s is no integer", v.Decimal128())
		}
		return r.Num(), ""
	}
	return nil, "not a number"
}

func intRule(signed bool, bits uint) fieldRule {
	lo, hi := big.NewInt(0), new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), bits), big.NewInt(1))
	if signed {
		lo = new(big.Int).Neg(new(big.Int).Lsh(big.NewInt(1), bits-1))
		hi = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), bits-1), big.NewInt(1))
	}
	return func(v bson.RawValue) (cell, string) {
		n, why := wholeNumber(v)
		if why != "" {
			return cell{}, why
		}
		if n.Cmp(lo) < 0 || n.Cmp(hi) > 0 {
			return cell{}, fmt.Sprintf("%s is out of the column's range %s to %s", n, lo, hi)
		}
		if signed {
			return cell{i: n.Int64()}, ""
		}
		return cell{u: n.Uint64()}, ""
	}
}

// exactFloat is v as a float64 when it is one exactly.
func exactFloat(v bson.RawValue) (float64, string) {
	switch v.Type {
	case bson.TypeDouble:
		return v.Double(), ""
	case bson.TypeInt32:
		return float64(v.Int32()), ""
	case bson.TypeInt64:
		i := v.Int64()
		if f := float64(i); f < math.MaxInt64 && int64(f) == i {
			return f, ""
		}
		return 0, fmt.Sprintf("%d has no exact double", i)
	}
	return 0, "not a number a double holds exactly"
}

func float64Rule(v bson.RawValue) (cell, string) {
	f, why := exactFloat(v)
	return cell{f: f}, why
}

func float32Rule(v bson.RawValue) (cell, string) {
	f, why := exactFloat(v)
	if why != "" {
		return cell{}, why
	}
	if float64(float32(f)) != f {
		return cell{}, fmt.Sprintf("%v has no exact FLOAT (float32)", f)
	}
	return cell{f: f}, ""
}

// decimalRat is a Decimal128 as an exact fraction.
func decimalRat(d bson.Decimal128) (*big.Rat, string) {
	coef, exp, err := d.BigInt()
	if err != nil {
		return nil, fmt.Sprintf("%s is no finite number", d)
	}
	r := new(big.Rat).SetInt(coef)
	p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(exp))), nil)
	if exp >= 0 {
		return r.Mul(r, new(big.Rat).SetInt(p)), ""
	}
	return r.Quo(r, new(big.Rat).SetInt(p)), ""
}

func abs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}

// decimalRule takes a Decimal128, an integer or a Double whose value has
// at most scale fractional digits and precision digits in all: the value
// itself, never rounded.
func decimalRule(precision, scale int32) fieldRule {
	unit := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil))
	max := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(precision)), nil)
	return func(v bson.RawValue) (cell, string) {
		var r *big.Rat
		switch v.Type {
		case bson.TypeDecimal128:
			var why string
			if r, why = decimalRat(v.Decimal128()); why != "" {
				return cell{}, why
			}
		case bson.TypeDouble:
			d := v.Double()
			if math.IsNaN(d) || math.IsInf(d, 0) {
				return cell{}, fmt.Sprintf("%v is no finite number", d)
			}
			r = new(big.Rat).SetFloat64(d)
		case bson.TypeInt32, bson.TypeInt64:
			n, _ := wholeNumber(v)
			r = new(big.Rat).SetInt(n)
		default:
			return cell{}, "not a number"
		}
		scaled := new(big.Rat).Mul(r, unit)
		if !scaled.IsInt() {
			return cell{}, fmt.Sprintf("%s has more than %d fractional digits", r.FloatString(40), scale)
		}
		if n := scaled.Num(); new(big.Int).Abs(n).Cmp(max) >= 0 {
			return cell{}, fmt.Sprintf("%s has more than %d digits", r.FloatString(int(scale)), precision)
		} else {
			return cell{n: n}, ""
		}
	}
}

func dateRule(v bson.RawValue) (cell, string) {
	if v.Type != bson.TypeDateTime {
		return cell{}, "not a Date"
	}
	ms := v.DateTime()
	if ms%86400000 != 0 {
		return cell{}, fmt.Sprintf("%s is not midnight UTC, and a DATE holds a day", bson.DateTime(ms).Time().UTC().Format("2006-01-02T15:04:05.000Z"))
	}
	return cell{i: ms / 86400000}, ""
}

func timestampRule(u arrow.TimeUnit) fieldRule {
	return func(v bson.RawValue) (cell, string) {
		if v.Type != bson.TypeDateTime {
			return cell{}, "not a Date"
		}
		ms := v.DateTime()
		switch u {
		case arrow.Second:
			if ms%1000 != 0 {
				return cell{}, fmt.Sprintf("%s has milliseconds, the column holds seconds", bson.DateTime(ms).Time().UTC().Format("2006-01-02T15:04:05.000Z"))
			}
			return cell{i: ms / 1000}, ""
		case arrow.Microsecond:
			return cell{i: ms * 1000}, ""
		}
		return cell{i: ms}, ""
	}
}

func durationRule(u arrow.TimeUnit) fieldRule {
	per := map[arrow.TimeUnit]int64{arrow.Second: 1000000, arrow.Millisecond: 1000, arrow.Microsecond: 1}[u]
	return func(v bson.RawValue) (cell, string) {
		s, ok := v.StringValueOK()
		if !ok {
			return cell{}, "not a String in MySQL's TIME form"
		}
		us, ok := mysqltype.ParseTime([]byte(s))
		if !ok {
			return cell{}, fmt.Sprintf("%q is not in MySQL's TIME form [-]HHH:MM:SS[.ffffff]", s)
		}
		if us%per != 0 {
			return cell{}, fmt.Sprintf("%q has more fractional digits than the column", s)
		}
		return cell{i: us / per}, ""
	}
}

func stringRule(v bson.RawValue) (cell, string) {
	switch v.Type {
	case bson.TypeString:
		return cell{b: []byte(v.StringValue())}, ""
	case bson.TypeObjectID:
		return cell{b: []byte(v.ObjectID().Hex())}, ""
	}
	return cell{}, "not a String"
}

func binaryRule(fromString bool) fieldRule {
	return func(v bson.RawValue) (cell, string) {
		switch v.Type {
		case bson.TypeBinary:
			sub, data := v.Binary()
			if sub != 0 {
				return cell{}, fmt.Sprintf("Binary subtype %d: only subtype 0 is plain bytes", sub)
			}
			return cell{b: data}, ""
		case bson.TypeString:
			if fromString {
				return cell{b: []byte(v.StringValue())}, ""
			}
			return cell{}, "a String is UTF-8, the column's character set is not: give the bytes as a Binary"
		}
		return cell{}, "not a Binary"
	}
}
