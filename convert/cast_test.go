package convert

import (
	"io"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/mongotype"
	"github.com/imbundle/imbundle/spec"
)

type oneBatch struct{ rec arrow.RecordBatch }

func (o *oneBatch) Next() (arrow.RecordBatch, error) {
	if o.rec == nil {
		return nil, io.EOF
	}
	r := o.rec
	o.rec = nil
	return r, nil
}

// TestCastsAndDefaults: each cast is exact or the row is a reject naming
// the column; a default replaces NULL only.
func TestCastsAndDefaults(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "n", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "price", Type: &arrow.Decimal128Type{Precision: 10, Scale: 2}, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.LargeString, Nullable: true},
		{Name: "d", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "nul", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	// Row 0 converts; row 1's price 0.10 has no exact double; row 2's s is no number.
	b.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 2, 3}, nil)
	b.Field(1).(*array.Int32Builder).AppendValues([]int32{-5, 0, 0}, nil)
	b.Field(2).(*array.Decimal128Builder).AppendValues([]decimal128.Num{decimal128.FromI64(125), decimal128.FromI64(10), decimal128.FromI64(0)}, nil)
	b.Field(3).(*array.LargeStringBuilder).AppendValues([]string{"42", "7", "x"}, nil)
	b.Field(4).(*array.Date32Builder).AppendValues([]arrow.Date32{19724, 0, 0}, nil)
	b.Field(5).(*array.Int32Builder).AppendValues([]int32{0, 0, 0}, []bool{false, true, false})
	rec := b.NewRecordBatch()
	ds := &spec.Dataset{Name: "a.t", Kind: spec.KindTable, Namespace: "a", Object: "t", PrimaryKey: []string{"id"},
		Columns: bundle.ColumnsOf(schema), Parts: []spec.Part{{Rows: 3}}}
	m, err := ParseMapping("m.yaml", []byte("version: 1\ndatasets:\n  - match: a.t\n    cast: {n: string, price: double, s: int64, d: string}\n    defaults: {nul: 7}\n"))
	if err != nil {
		t.Fatal(err)
	}
	var conv *Conversion
	for _, c := range ForMapped(ds, &spec.Source{Engine: "mysql"}, m.For("a.t")) {
		if c.To == "mongodb" {
			conv = c.Conversion
		}
	}
	if conv == nil || len(conv.Refused) > 0 {
		t.Fatalf("conversion: %+v", conv)
	}
	var rejects []Reject
	recs := conv.Records(&oneBatch{rec}, 0, func(rj Reject) error { rejects = append(rejects, rj); return nil })
	out, err := recs.Next()
	if err != nil {
		t.Fatal(err)
	}
	rows, err := mongotype.RowsOf(out)
	if err != nil || rows.Len() != 1 {
		t.Fatalf("%d documents (%v), want 1", rows.Len(), err)
	}
	doc := rows.Doc(0)
	for field, want := range map[string]bson.RawValue{
		"n":     {Type: bson.TypeString, Value: bsonString("-5")},
		"price": {Type: bson.TypeDouble},
		"s":     {Type: bson.TypeInt64},
		"d":     {Type: bson.TypeString, Value: bsonString("2024-01-02")},
		"nul":   {Type: bson.TypeInt64},
	} {
		got := doc.Lookup(field)
		if got.Type != want.Type || (want.Value != nil && string(got.Value) != string(want.Value)) {
			t.Errorf("%s: %s %v, want %s", field, got.Type, got, want.Type)
		}
	}
	if doc.Lookup("price").Double() != 1.25 || doc.Lookup("s").Int64() != 42 || doc.Lookup("nul").Int64() != 7 {
		t.Errorf("values: %s", doc)
	}
	if len(rejects) != 2 || !strings.Contains(rejects[0].Reason, "price") || !strings.Contains(rejects[1].Reason, "column s") {
		t.Errorf("rejects %+v, want row 2 for price 0.10 and row 3 for s", rejects)
	}
	if _, err := ParseMapping("m.yaml", []byte("version: 1\ndatasets:\n  - match: a.t\n    cast: {n: text}\n")); err == nil || !strings.Contains(err.Error(), "m.yaml:4:") {
		t.Errorf("cast to an unknown type: %v", err)
	}
}

func bsonString(s string) []byte {
	_, b, _ := bson.MarshalValue(s)
	return b
}
