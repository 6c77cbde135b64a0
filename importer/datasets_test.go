package importer

import (
	"context"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/spec"
)

// namesTarget records the datasets it is given.
type namesTarget struct {
	recordingTarget
	names []string
}

func (n *namesTarget) Place(items []*Item) error {
	for _, it := range items {
		n.names = append(n.names, it.Dataset.Name)
	}
	return nil
}

// TestImportOnlyTheNamedDatasets: --datasets loads those and no other,
// whichever order the manifest lists them in (the filter once let every
// dataset after the last named one through).
func TestImportOnlyTheNamedDatasets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.imb")
	w, err := bundle.Create(path, bundle.Options{Tool: spec.Tool{Name: "imbundle", Version: "test"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddSource(spec.Source{ID: "s0", Engine: "test"}); err != nil {
		t.Fatal(err)
	}
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}}, nil)
	for _, name := range []string{"a", "b", "c", "d"} {
		dw, err := w.CreateDataset(spec.Dataset{Name: name, Source: "s0", Kind: spec.KindTable, Namespace: "db", Object: name, PrimaryKey: []string{"id"}}, schema)
		if err != nil {
			t.Fatal(err)
		}
		b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		b.Field(0).(*array.Int64Builder).Append(1)
		rec := b.NewRecordBatch()
		if err := dw.Write(rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
		b.Release()
		if err := dw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := bundle.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, want := range [][]string{{"a", "b"}, {"b"}, {"a", "c"}, {"d", "a"}} {
		tg := &namesTarget{}
		if _, err := Import(context.Background(), r, tg, Options{Datasets: want}); err != nil {
			t.Fatal(err)
		}
		w := append([]string(nil), want...)
		sort.Strings(w)
		sort.Strings(tg.names)
		if strings.Join(tg.names, ",") != strings.Join(w, ",") {
			t.Errorf("--datasets %v loaded %v", want, tg.names)
		}
	}
	if _, err := Import(context.Background(), r, &namesTarget{}, Options{Datasets: []string{"a", "x"}}); err == nil || !strings.Contains(err.Error(), `"x" is not in the bundle`) {
		t.Errorf("a name the bundle lacks: %v", err)
	}
}
