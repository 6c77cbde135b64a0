package verify

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/convert"
	"github.com/imbundle/imbundle/spec"
)

// TestComputedEndColumns: an end's computed column is its key (an integer
// as its decimal text, matching a text column), nil leaves the row out,
// the check's other expressions read it, and a value that is no key is an
// error at the end.
func TestComputedEndColumns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.imb")
	w, err := bundle.Create(path, bundle.Options{Tool: spec.Tool{Name: "imbundle", Version: "test"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddSource(spec.Source{ID: "s0", Engine: "mysql", URL: "mysql://db:3306/d"}); err != nil {
		t.Fatal(err)
	}
	ints := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}}, nil)
	dw, err := w.CreateDataset(spec.Dataset{Name: "d.a", Source: "s0", Kind: spec.KindTable, PrimaryKey: []string{"id"}}, ints)
	if err != nil {
		t.Fatal(err)
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, ints)
	b.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 2, 3, 0}, nil)
	write(t, dw, b.NewRecordBatch())
	b.Release()
	texts := arrow.NewSchema([]arrow.Field{{Name: "k", Type: arrow.BinaryTypes.String}}, nil)
	dw, err = w.CreateDataset(spec.Dataset{Name: "d.b", Source: "s0", Kind: spec.KindTable, PrimaryKey: []string{"k"}}, texts)
	if err != nil {
		t.Fatal(err)
	}
	b = array.NewRecordBuilder(memory.DefaultAllocator, texts)
	b.Field(0).(*array.StringBuilder).AppendValues([]string{"2", "4"}, nil)
	write(t, dw, b.NewRecordBatch())
	b.Release()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := bundle.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	m, err := convert.ParseMapping("m.yaml", []byte(`version: 1
checks:
  - name: doubled
    relation:
      from: {of: "d.a(k)", compute: {k: "id == 0 ? nil : id * 2"}}
      to: "d.b(k)"
  - name: seen
    compare:
      left: "d.b(k)"
      right: {of: "d.a(k)", compute: {k: "string(id * 2)"}}
      max: {top: "k"}
      assert: "top == k"
  - name: no-key
    unique:
      of: {of: "d.a(k)", compute: {k: "[id]"}}
`))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Checks(context.Background(), r, m, RelationOptions{TempDir: t.TempDir(), Memory: 1 << 20}, nil)
	if err == nil || !strings.Contains(err.Error(), "m.yaml:15:11: check no-key: column k: a key column takes a string or a number, not []interface {}") {
		t.Errorf("a list as a key: %v", err)
	}
	if len(res) != 2 {
		t.Fatalf("results %+v", res)
	}
	if d := res[0]; d.Rows != 3 || d.Violations != 1 || strings.Join(d.First, " ") != `"6"` {
		t.Errorf("doubled: %+v, want 3 values (id 0 gives nil), the orphan 6", d)
	}
	if s := res[1]; s.Rows != 2 || s.Violations != 0 {
		t.Errorf("seen: %+v, want 2 rows, each its own top", s)
	}
}
