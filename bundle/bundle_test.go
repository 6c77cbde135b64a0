package bundle

import (
	"io"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/imbundle/imbundle/spec"
)

func testSchema() *arrow.Schema {
	return arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Uint64, Metadata: arrow.NewMetadata([]string{MetaNative}, []string{"bigint unsigned"})},
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
}

func testRecord(t testing.TB, from, n int) arrow.RecordBatch {
	b := array.NewRecordBuilder(memory.DefaultAllocator, testSchema())
	defer b.Release()
	for i := from; i < from+n; i++ {
		b.Field(0).(*array.Uint64Builder).Append(uint64(i))
		if i%7 == 0 {
			b.Field(1).AppendNull()
		} else {
			b.Field(1).(*array.StringBuilder).Append("user😀" + string(rune('a'+i%26)))
		}
	}
	return b.NewRecordBatch()
}

// writeTestBundle writes a bundle of one dataset with rows rows in parts of
// about partBytes, and returns its path.
func writeTestBundle(t testing.TB, rows, partBytes int) string {
	t.Helper()
	return writeTestBundleWith(t, rows, Options{PartBytes: int64(partBytes)})
}

// writeTestBundleWith is writeTestBundle with the writer's options.
func writeTestBundleWith(t testing.TB, rows int, opts Options) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "t.imb")
	opts.Tool = spec.Tool{Name: "test", Version: "0"}
	w, err := Create(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddSource(spec.Source{ID: "s0", Engine: "mysql", URL: "mysql://127.0.0.1:3306/db"}); err != nil {
		t.Fatal(err)
	}
	dw, err := w.CreateDataset(spec.Dataset{Name: "db.users", Source: "s0", Kind: spec.KindTable, PrimaryKey: []string{"id"}}, testSchema())
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < rows; i += 1000 {
		rec := testRecord(t, i, min(1000, rows-i))
		if err := dw.Write(rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
	}
	if err := dw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRoundTrip(t *testing.T) {
	path := writeTestBundle(t, 10000, 32<<10)
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ds, ok := r.Dataset("db.users")
	if !ok {
		t.Fatal("dataset missing")
	}
	if ds.Rows != 10000 || len(ds.Parts) < 2 {
		t.Fatalf("rows %d parts %d, want 10000 rows in several parts", ds.Rows, len(ds.Parts))
	}
	if ds.Columns[0].Native != "bigint unsigned" || ds.Columns[0].Type != "uint64" {
		t.Fatalf("column 0 = %+v", ds.Columns[0])
	}
	if ds.Parts[0].KeyRange == nil || ds.Parts[0].KeyRange.First[0] != "0" {
		t.Fatalf("key range = %+v", ds.Parts[0].KeyRange)
	}
	var d Digest
	var next uint64
	for i := range ds.Parts {
		if err := r.VerifyPart(ds.Parts[i]); err != nil {
			t.Fatal(err)
		}
		pr, err := r.OpenPart(ds, i)
		if err != nil {
			t.Fatal(err)
		}
		for {
			rec, err := pr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			ids := rec.Column(0).(*array.Uint64)
			for j := 0; j < ids.Len(); j++ {
				if ids.Value(j) != next {
					t.Fatalf("row %d has id %d", next, ids.Value(j))
				}
				next++
			}
			d.AddRecord(rec)
		}
		pr.Close()
	}
	if got := d.Spec(); got != ds.Digest {
		t.Fatalf("recomputed digest %+v, manifest %+v", got, ds.Digest)
	}
}

func TestDigestSeesDuplicates(t *testing.T) {
	rec := testRecord(t, 0, 3)
	defer rec.Release()
	var once, twice Digest
	once.AddRecord(rec.NewSlice(0, 1))
	twice.AddRecord(rec.NewSlice(0, 1))
	twice.AddRecord(rec.NewSlice(0, 1))
	var none Digest
	if once.Spec().Sum == twice.Spec().Sum || twice.Spec().Sum == none.Spec().Sum {
		t.Fatal("a doubled row must change the digest (XOR would cancel it)")
	}
	// Order independence.
	var a, b Digest
	a.AddRecord(rec)
	b.AddRecord(rec.NewSlice(2, 3))
	b.AddRecord(rec.NewSlice(0, 2))
	if a.Spec() != b.Spec() {
		t.Fatal("digest depends on row order")
	}
}
