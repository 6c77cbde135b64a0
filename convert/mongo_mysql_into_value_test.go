package convert

import (
	"math"
	"math/big"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/internal/mysqltype"
	"github.com/imbundle/imbundle/spec"
)

func rawOf(t *testing.T, v any) bson.RawValue {
	t.Helper()
	typ, b, err := bson.MarshalValue(v)
	if err != nil {
		t.Fatal(err)
	}
	return bson.RawValue{Type: typ, Value: b}
}

func dec(t *testing.T, s string) bson.Decimal128 {
	t.Helper()
	d, err := bson.ParseDecimal128(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestFieldRules: each BSON value goes into a column's type exactly (the
// cell holds the value the MySQL layout stores) or is refused with why.
func TestFieldRules(t *testing.T) {
	cases := []struct {
		typ  string // the column's Arrow type as a manifest spells it
		meta map[string]string
		v    any
		want cell   // when why is ""
		why  string // a fragment of the reason, "" = accepted
	}{
		{"int8", nil, int32(-128), cell{i: -128}, ""},
		{"int8", nil, int32(128), cell{}, "out of the column's range"},
		{"uint8", nil, int32(-1), cell{}, "out of the column's range"},
		{"int64", nil, int64(math.MinInt64), cell{i: math.MinInt64}, ""},
		{"uint64", nil, dec(t, "18446744073709551615"), cell{u: math.MaxUint64}, ""},
		{"uint64", nil, dec(t, "18446744073709551616"), cell{}, "out of the column's range"},
		{"int32", nil, dec(t, "1.0E+3"), cell{i: 1000}, ""},
		{"int32", nil, dec(t, "1.5"), cell{}, "no integer"},
		{"int32", nil, 2.0, cell{i: 2}, ""},
		{"int32", nil, 2.5, cell{}, "no integer"},
		{"int8", nil, true, cell{i: 1}, ""},
		{"int32", nil, "7", cell{}, "not a number"},
		{"float32", nil, float64(float32(0.1)), cell{f: float64(float32(0.1))}, ""},
		{"float32", nil, 0.1, cell{}, "no exact FLOAT"},
		{"float32", nil, int32(16777217), cell{}, "no exact FLOAT"},
		{"float64", nil, int64(1<<53 + 1), cell{}, "no exact double"},
		{"float64", nil, int64(1 << 62), cell{f: 1 << 62}, ""},
		{"decimal(10, 2)", nil, dec(t, "1.5"), cell{n: bigOf(150)}, ""},
		{"decimal(10, 2)", nil, dec(t, "1.505"), cell{}, "more than 2 fractional digits"},
		{"decimal(10, 2)", nil, dec(t, "1.500"), cell{n: bigOf(150)}, ""},
		{"decimal(10, 2)", nil, dec(t, "123456789"), cell{}, "more than 10 digits"},
		{"decimal(10, 2)", nil, 0.5, cell{n: bigOf(50)}, ""},
		{"decimal(10, 2)", nil, 0.1, cell{}, "fractional digits"},
		{"decimal(10, 2)", nil, dec(t, "NaN"), cell{}, "no finite number"},
		{"decimal256(65, 30)", nil, int64(-3), cell{n: new(big.Int).Mul(bigOf(-3), pow10(30))}, ""},
		{"date32", nil, bson.DateTime(-86400000), cell{i: -1}, ""},
		{"date32", nil, bson.DateTime(1), cell{}, "not midnight"},
		{"timestamp[s]", nil, bson.DateTime(2000), cell{i: 2}, ""},
		{"timestamp[s]", nil, bson.DateTime(2001), cell{}, "milliseconds"},
		{"timestamp[us, tz=UTC]", nil, bson.DateTime(-5), cell{i: -5000}, ""},
		{"timestamp[ms]", nil, "2024-01-01", cell{}, "not a Date"},
		{"duration[us]", nil, "-838:59:59.000001", cell{i: -(838*3600+59*60+59)*1000000 - 1}, ""},
		{"duration[s]", nil, "00:00:01.5", cell{}, "more fractional digits"},
		{"duration[ms]", nil, "1:2", cell{}, "TIME form"},
		{"large_utf8", nil, "emoji 😀", cell{b: []byte("emoji 😀")}, ""},
		{"large_utf8", nil, bson.ObjectID{0x65, 0xa1}, cell{b: []byte("65a100000000000000000000")}, ""},
		{"large_utf8", nil, int32(1), cell{}, "not a String"},
		{"large_binary", nil, bson.Binary{Data: []byte{0, 0xff}}, cell{b: []byte{0, 0xff}}, ""},
		{"large_binary", nil, bson.Binary{Subtype: 4, Data: make([]byte, 16)}, cell{}, "subtype 4"},
		{"large_binary", nil, "abc", cell{b: []byte("abc")}, ""},
		{"large_binary", map[string]string{mysqltype.MetaCharset: "latin1"}, "é", cell{}, "character set"},
	}
	for _, c := range cases {
		at, err := arrowType(c.typ)
		if err != nil {
			t.Fatalf("%s: %v", c.typ, err)
		}
		rule, _, err := fieldRuleFor(spec.Column{Name: "c", Type: c.typ, Metadata: c.meta}, at)
		if err != nil {
			t.Fatalf("%s: %v", c.typ, err)
		}
		got, why := rule(rawOf(t, c.v))
		switch {
		case c.why != "" && !strings.Contains(why, c.why):
			t.Errorf("%s <- %T %v: reason %q, want %q", c.typ, c.v, c.v, why, c.why)
		case c.why == "" && why != "":
			t.Errorf("%s <- %T %v: refused: %s", c.typ, c.v, c.v, why)
		case c.why == "" && !sameCell(got, c.want):
			t.Errorf("%s <- %T %v: cell %+v, want %+v", c.typ, c.v, c.v, got, c.want)
		}
	}
}

// TestArrowTypes: every Arrow type of a MySQL table (SPEC.md §7.4) parses
// back to itself; another is refused.
func TestArrowTypes(t *testing.T) {
	for _, dt := range []arrow.DataType{
		arrow.PrimitiveTypes.Int8, arrow.PrimitiveTypes.Uint64, arrow.PrimitiveTypes.Float32, arrow.FixedWidthTypes.Date32,
		&arrow.Decimal128Type{Precision: 38, Scale: 10}, &arrow.Decimal256Type{Precision: 65, Scale: 30},
		&arrow.TimestampType{Unit: arrow.Millisecond}, &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"},
		&arrow.DurationType{Unit: arrow.Second}, arrow.BinaryTypes.LargeString, arrow.BinaryTypes.LargeBinary,
	} {
		got, err := arrowType(dt.String())
		if err != nil || !arrow.TypeEqual(got, dt) {
			t.Errorf("%s: %v %v", dt, got, err)
		}
	}
	if _, err := arrowType("list<item: int32>"); err == nil {
		t.Error("a list type is no MySQL column's")
	}
}

func bigOf(i int64) *big.Int { return big.NewInt(i) }

func pow10(n int64) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(n), nil) }

func sameCell(a, b cell) bool {
	if (a.n == nil) != (b.n == nil) || (a.n != nil && a.n.Cmp(b.n) != 0) {
		return false
	}
	return a.null == b.null && a.i == b.i && a.u == b.u && math.Float64bits(a.f) == math.Float64bits(b.f) && string(a.b) == string(b.b)
}
