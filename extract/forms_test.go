package extract

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/decimal256"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/spec"
)

func TestTextForms(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{decimalText("12340", 3), "12.340"},
		{decimalText("-5", 3), "-0.005"},
		{decimalText("0", 2), "0.00"},
		{decimalText("7", -2), "700"},
		{decimalText("-123", 0), "-123"},
		{durationText(math.MinInt64, arrow.Nanosecond), "-2562047:47:16.854775808"},
		{durationText(-1, arrow.Microsecond), "-0:00:00.000001"},
		{durationText(90061, arrow.Second), "25:01:01"},
		{timestampText(-1, &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"}), "1969-12-31T23:59:59.999999999Z"},
		{timestampText(-62135596800-86400, &arrow.TimestampType{Unit: arrow.Second}), "0000-12-31T00:00:00"},
		{timestampText(253402300800, &arrow.TimestampType{Unit: arrow.Second}), "+10000-01-01T00:00:00"},
		{dateText(-719529), "-0001-12-31"},
		{dateText(-719163), "0000-12-31"},
		{dateText(0), "1970-01-01"},
		{floatText(math.Copysign(0, -1), 64), "-0"},
		{floatText(float64(float32(0.1)), 32), "0.1"},
		{floatText(math.Inf(-1), 64), "-Infinity"},
		{uuidText([]byte("0123456789abcdef")), "30313233-3435-3637-3839-616263646566"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// formsRecord is one row of nested and special types, and one row of
// NULLs.
func formsRecord(t *testing.T) arrow.RecordBatch {
	mem := memory.NewGoAllocator()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "f", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "nan", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
		{Name: "dec", Type: &arrow.Decimal128Type{Precision: 10, Scale: 2}, Nullable: true},
		{Name: "d256", Type: &arrow.Decimal256Type{Precision: 65, Scale: 30}, Nullable: true},
		{Name: "list", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
		{Name: "st", Type: arrow.StructOf(arrow.Field{Name: "a\"", Type: arrow.PrimitiveTypes.Int64, Nullable: true}), Nullable: true},
		{Name: "m", Type: arrow.MapOf(arrow.PrimitiveTypes.Int32, arrow.BinaryTypes.Binary), Nullable: true},
		{Name: "u", Type: extensions.NewUUIDType(), Nullable: true},
		{Name: "t64", Type: arrow.FixedWidthTypes.Time64us, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	b.Field(0).(*array.Float64Builder).AppendValues([]float64{math.Copysign(0, -1), 0}, []bool{true, false})
	b.Field(1).(*array.Float32Builder).AppendValues([]float32{float32(math.NaN()), 0}, []bool{true, false})
	b.Field(2).(*array.Decimal128Builder).AppendValues([]decimal128.Num{decimal128.FromI64(-105), {}}, []bool{true, false})
	d, _ := decimal256.FromString("-1.5", 65, 30)
	b.Field(3).(*array.Decimal256Builder).AppendValues([]decimal256.Num{d, {}}, []bool{true, false})
	lb := b.Field(4).(*array.ListBuilder)
	lb.Append(true)
	lb.ValueBuilder().(*array.StringBuilder).AppendValues([]string{"x\u0001", ""}, nil)
	lb.ValueBuilder().(*array.StringBuilder).AppendNull()
	lb.AppendNull()
	sb := b.Field(5).(*array.StructBuilder)
	sb.Append(true)
	sb.FieldBuilder(0).(*array.Int64Builder).Append(math.MinInt64)
	sb.AppendNull()
	mb := b.Field(6).(*array.MapBuilder)
	mb.Append(true)
	mb.KeyBuilder().(*array.Int32Builder).Append(1)
	mb.ItemBuilder().(*array.BinaryBuilder).Append([]byte{0xff})
	mb.AppendNull()
	ub := b.Field(7).(*extensions.UUIDBuilder)
	ub.AppendBytes([16]byte([]byte("0123456789abcdef")))
	ub.AppendNull()
	b.Field(8).(*array.Time64Builder).AppendValues([]arrow.Time64{86399999999, 0}, []bool{true, false})
	b.Field(9).(*array.StringBuilder).AppendValues([]string{"", ""}, []bool{true, false})
	return b.NewRecordBatch()
}

func TestJSONLForms(t *testing.T) {
	rec := formsRecord(t)
	defer rec.Release()
	var out bytes.Buffer
	s := &jsonlSink{w: &out}
	if err := s.write(rec); err != nil {
		t.Fatal(err)
	}
	s.close()
	want := `{"f":-0,"nan":"NaN","dec":"-1.05","d256":"-1.500000000000000000000000000000","list":["x\u0001","",null],"st":{"a\"":-9223372036854775808},"m":[{"key":1,"value":"/w=="}],"u":"30313233-3435-3637-3839-616263646566","t64":"23:59:59.999999","s":""}
{"f":null,"nan":null,"dec":null,"d256":null,"list":null,"st":null,"m":null,"u":null,"t64":null,"s":null}
`
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}

func TestCSVForms(t *testing.T) {
	rec := formsRecord(t)
	defer rec.Release()
	ds := &spec.Dataset{Name: "t"}
	for _, f := range rec.Schema().Fields() {
		ds.Columns = append(ds.Columns, spec.Column{Name: f.Name})
	}
	for null, want := range map[string]string{
		"":   "f,nan,dec,d256,list,st,m,u,t64,s\r\n-0,NaN,-1.05,-1.500000000000000000000000000000,\"[\"\"x\\u0001\"\",\"\"\"\",null]\",\"{\"\"a\\\"\"\"\":-9223372036854775808}\",\"[{\"\"key\"\":1,\"\"value\"\":\"\"/w==\"\"}]\",30313233-3435-3637-3839-616263646566,23:59:59.999999,\"\"\r\n,,,,,,,,,\r\n",
		`\N`: "f,nan,dec,d256,list,st,m,u,t64,s\r\n-0,NaN,-1.05,-1.500000000000000000000000000000,\"[\"\"x\\u0001\"\",\"\"\"\",null]\",\"{\"\"a\\\"\"\"\":-9223372036854775808}\",\"[{\"\"key\"\":1,\"\"value\"\":\"\"/w==\"\"}]\",30313233-3435-3637-3839-616263646566,23:59:59.999999,\"\"\r\n\\N,\\N,\\N,\\N,\\N,\\N,\\N,\\N,\\N,\\N\r\n",
	} {
		var out bytes.Buffer
		s := newCSVSink(ds, rec.Schema(), &out, null, false)
		if err := s.write(rec); err != nil {
			t.Fatal(err)
		}
		s.close()
		if out.String() != want {
			t.Errorf("--null %q: got\n%q\nwant\n%q", null, out.String(), want)
		}
	}
	// A value equal to the NULL text is quoted.
	var out bytes.Buffer
	s := &csvSink{bw: newCSVSink(ds, nil, &out, `\N`, false).bw, nullText: `\N`}
	s.writeField(`\N`)
	s.bw.Flush()
	if out.String() != `"\N"` {
		t.Errorf("the NULL text as a value: %s", out.String())
	}
}

// TestParquetRefusesNestedDecimal256: a decimal256 inside a list has no
// exact Parquet form that DuckDB reads; the sink refuses it by name.
func TestParquetRefusesNestedDecimal256(t *testing.T) {
	s := arrow.NewSchema([]arrow.Field{{Name: "l", Type: arrow.ListOf(&arrow.Decimal256Type{Precision: 50, Scale: 2})}}, nil)
	_, err := newParquetSink(s, &bytes.Buffer{}, false)
	if err == nil || !strings.Contains(err.Error(), "column l") {
		t.Fatalf("err %v, want a refusal naming column l", err)
	}
}

// TestDocsInProcess: BSON types FerretDB does not keep (-0.0, Decimal128,
// NaN) come out as canonical Extended JSON that parses back to the same
// bytes.
func TestDocsInProcess(t *testing.T) {
	doc, err := bson.Marshal(bson.D{{Key: "_id", Value: int32(1)}, {Key: "z", Value: math.Copysign(0, -1)},
		{Key: "dec", Value: bson.NewDecimal128(0x3040000000000000, 110)}, {Key: "nan", Value: math.NaN()}})
	if err != nil {
		t.Fatal(err)
	}
	mem := memory.NewGoAllocator()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: idColumn, Type: arrow.BinaryTypes.LargeBinary, Nullable: true},
		{Name: idJSONColumn, Type: arrow.BinaryTypes.LargeString, Nullable: true},
		{Name: docColumn, Type: arrow.BinaryTypes.LargeBinary},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	b.Field(0).(*array.BinaryBuilder).Append([]byte{0x10, 1, 0, 0, 0})
	b.Field(1).(*array.LargeStringBuilder).Append(`{"$numberInt":"1"}`)
	b.Field(2).(*array.BinaryBuilder).Append(doc)
	rec := b.NewRecordBatch()
	defer rec.Release()
	var out bytes.Buffer
	s := &jsonlSink{w: &out, docs: true}
	if err := s.write(rec); err != nil {
		t.Fatal(err)
	}
	s.close()
	want := `{"_id":{"$numberInt":"1"},"z":{"$numberDouble":"-0.0"},"dec":{"$numberDecimal":"110"},"nan":{"$numberDouble":"NaN"}}` + "\n"
	if out.String() != want {
		t.Errorf("got %s want %s", out.String(), want)
	}
	var back bson.Raw
	if err := bson.UnmarshalExtJSON(out.Bytes(), true, &back); err != nil || !bytes.Equal(back, doc) {
		t.Errorf("reads back as %v (%v), want the same bytes", back, err)
	}
}

// TestDocNotValidUTF8: a BSON string that is not valid UTF-8 has no exact
// Extended JSON (the driver writes U+FFFD): an error naming the _id, never
// a changed document.
func TestDocNotValidUTF8(t *testing.T) {
	doc, err := bson.Marshal(bson.D{{Key: "_id", Value: "k"}, {Key: "s", Value: "a\xffb"}})
	if err != nil {
		t.Fatal(err)
	}
	mem := memory.NewGoAllocator()
	ids := array.NewLargeStringBuilder(mem)
	ids.Append(`"k"`)
	docs := array.NewBinaryBuilder(mem, arrow.BinaryTypes.LargeBinary)
	docs.Append(doc)
	_, err = docJSON(docs.NewArray(), ids.NewArray(), 0)
	if err == nil || !strings.Contains(err.Error(), `_id "k"`) {
		t.Fatalf("err %v, want one naming _id \"k\"", err)
	}
}

// TestFlatType: every flat spelling of SPEC.md §4.3 parses to the type
// that prints it; a nested type is an error.
func TestFlatType(t *testing.T) {
	for _, s := range []string{"bool", "uint64", "large_utf8", "decimal(20, 4)", "decimal256(65, 30)", "timestamp[s]", "timestamp[ms, tz=UTC]", "duration[us]", "time64[ns]", "fixed_size_binary[16]", "date32"} {
		dt, err := flatType(s)
		if err != nil || dt.String() != s {
			t.Errorf("%s: %v %v", s, dt, err)
		}
	}
	if _, err := flatType("list<item: utf8, nullable>"); err == nil {
		t.Error("a list parsed as a flat type")
	}
}

// TestCollectionExtraColumn: a collection dataset with a column beside
// _id, _id_json and doc is refused, since writing the document alone
// would leave it out.
func TestCollectionExtraColumn(t *testing.T) {
	s := arrow.NewSchema([]arrow.Field{
		{Name: idColumn, Type: arrow.BinaryTypes.LargeBinary},
		{Name: idJSONColumn, Type: arrow.BinaryTypes.LargeString},
		{Name: docColumn, Type: arrow.BinaryTypes.LargeBinary},
		{Name: "extra", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	if _, _, err := docColumns(s); err == nil || !strings.Contains(err.Error(), "extra") {
		t.Fatalf("err %v, want a refusal naming extra", err)
	}
}
