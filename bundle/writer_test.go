package bundle

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/spec"
)

func newTestWriter(t *testing.T) (*Writer, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "w.imb")
	// Staged in files from the first byte, as a large part is: the
	// staging tests need one (TestSmallPartsStagedInMemory, the other way).
	w, err := Create(path, Options{PartBytes: 16 << 10, MemoryStageBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddSource(spec.Source{ID: "s0", Engine: "mysql", URL: "mysql://db:3306/im"}); err != nil {
		t.Fatal(err)
	}
	return w, path
}

func TestCreateDatasetRefusesWhatABundleCannotHold(t *testing.T) {
	w, path := newTestWriter(t)
	f := func(name string, dt arrow.DataType) *arrow.Schema {
		return arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: name, Type: dt}}, nil)
	}
	for _, tc := range []struct {
		ds     spec.Dataset
		schema *arrow.Schema
		want   string
	}{
		{spec.Dataset{Name: "a", Source: "s0"}, f("d", &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}), `dataset "a": column "d": Arrow type dictionary`},
		{spec.Dataset{Name: "a", Source: "s0"}, f("v", arrow.BinaryTypes.StringView), `column "v": Arrow type string_view is not allowed`},
		{spec.Dataset{Name: "a", Source: "s0"}, f("h", arrow.FixedWidthTypes.Float16), `column "h": Arrow type float16 is not allowed`},
		{spec.Dataset{Name: "a", Source: "s0"}, f("l", arrow.ListOf(arrow.FixedWidthTypes.MonthInterval)), `column "l": Arrow type month_interval is not allowed`},
		{spec.Dataset{Name: "a", Source: "s0"}, f("id", arrow.PrimitiveTypes.Int32), `column "id" appears twice`},
		{spec.Dataset{Name: "a", Source: "s0", PrimaryKey: []string{"uid"}}, testSchema(), `primary key column "uid" is not in the schema`},
		{spec.Dataset{Name: "a", Source: "s1"}, testSchema(), `names source "s1", which was not added`},
		{spec.Dataset{Name: "", Source: "s0"}, testSchema(), `empty name`},
	} {
		if _, err := w.CreateDataset(tc.ds, tc.schema); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("CreateDataset(%+v): %v; want %q", tc.ds.Name, err, tc.want)
		}
	}
	// Refusals leave no half-registered dataset behind.
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if n := len(r.Manifest().Datasets); n != 0 {
		t.Fatalf("%d datasets recorded", n)
	}
}

func TestAddSourceRefusesCredentials(t *testing.T) {
	w, _ := newTestWriter(t)
	defer w.Abort()
	for _, u := range []string{"mysql://root:pw@db:3306/im", "redis://:secret@cache:6379/0", "mongodb://db/im?password=x", "mysql://db/im?apiKey=abc"} {
		if err := w.AddSource(spec.Source{ID: "s9", URL: u}); err == nil || !strings.Contains(err.Error(), "credentials") {
			t.Errorf("AddSource(%s): %v", u, err)
		}
	}
	if err := w.AddSource(spec.Source{ID: "s1", URL: "mongodb://db/im?authSource=admin&password=REDACTED"}); err != nil {
		t.Errorf("redacted URL refused: %v", err)
	}
	if err := w.AddSource(spec.Source{ID: "s1", URL: "mysql://x/y"}); err == nil {
		t.Error("a repeated source id was accepted")
	}
}

func TestCloseRefusesInvalidUTF8(t *testing.T) {
	w, path := newTestWriter(t)
	dw, err := w.CreateDataset(spec.Dataset{Name: "im.t", Source: "s0", DDL: "CREATE TABLE t (c char(1) DEFAULT '\xe9')"}, testSchema())
	if err != nil {
		t.Fatal(err)
	}
	dw.Close()
	err = w.Close()
	if err == nil || !strings.Contains(err.Error(), "manifest.Datasets[0].DDL is not valid UTF-8") {
		t.Fatalf("Close: %v", err)
	}
	for _, p := range []string{path, path + ".partial"} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Fatalf("%s left behind after a failed Close", p)
		}
	}
}

func TestCloseWithOpenDatasetLeavesNothing(t *testing.T) {
	w, path := newTestWriter(t)
	if _, err := w.CreateDataset(spec.Dataset{Name: "im.t", Source: "s0"}, testSchema()); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err == nil || !strings.Contains(err.Error(), "still open") {
		t.Fatalf("Close: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 0 {
		t.Fatalf("left behind: %v", entries)
	}
}

// Datasets written from several goroutines interleave their parts in the
// container; each dataset's parts stay in order and the bundle reads back.
func TestConcurrentDatasets(t *testing.T) {
	w, path := newTestWriter(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dw, err := w.CreateDataset(spec.Dataset{Name: "im.t" + string(rune('0'+g)), Source: "s0", PrimaryKey: []string{"id"}}, testSchema())
			if err != nil {
				errs[g] = err
				return
			}
			for i := 0; i < 4000; i += 500 {
				rec := testRecord(t, i, 500)
				if err := dw.Write(rec); err != nil {
					errs[g] = err
				}
				rec.Release()
			}
			errs[g] = dw.Close()
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.ID() != w.ID() || len(w.ID()) != 64 {
		t.Fatalf("reader id %s, writer id %s", r.ID(), w.ID())
	}
	for _, ds := range r.Manifest().Datasets {
		if ds.Rows != 4000 || len(ds.Parts) < 2 {
			t.Fatalf("%s: %d rows in %d parts", ds.Name, ds.Rows, len(ds.Parts))
		}
	}
	if err := readAllParts(r); err != nil {
		t.Fatal(err)
	}
}

func TestEmptyDatasetHasNoParts(t *testing.T) {
	w, path := newTestWriter(t)
	dw, err := w.CreateDataset(spec.Dataset{Name: "im.empty", Source: "s0"}, testSchema())
	if err != nil {
		t.Fatal(err)
	}
	if err := dw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ds := r.Manifest().Datasets[0]
	if ds.Rows != 0 || len(ds.Parts) != 0 || ds.Digest.Sum != strings.Repeat("0", 64) || ds.Digest.Algorithm != spec.DigestAlgorithm {
		t.Fatalf("empty dataset = %+v", ds)
	}
}

// The manifest is written compact (SPEC.md §3): a stored entry, where
// indentation was 30% of a many-table bundle's manifest.
func TestManifestIsCompact(t *testing.T) {
	base := entriesOf(t, writeTestBundle(t, 100, 16<<10))
	body := base[len(base)-2].data
	var compact bytes.Buffer
	if err := json.Compact(&compact, body); err != nil {
		t.Fatal(err)
	}
	if want := append(compact.Bytes(), '\n'); !bytes.Equal(body, want) {
		t.Errorf("manifest is %d bytes, compact it is %d", len(body), len(want))
	}
}
