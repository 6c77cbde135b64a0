package importer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/bundletest"
	"github.com/imbundle/imbundle/spec"
)

// recordingTarget records what an import asked of it. With resume set it
// reports every part as loaded by an earlier run without reading it, as
// the engines do for a part their bookkeeping lists.
type recordingTarget struct {
	resume bool
	mu     sync.Mutex
	calls  []string
	rows   int64
}

func (f *recordingTarget) Accepts(*spec.Dataset, *spec.Source) bool { return true }
func (f *recordingTarget) Place([]*Item) error                      { return nil }
func (f *recordingTarget) Close() error                             { return nil }
func (f *recordingTarget) note(s string) {
	f.mu.Lock()
	f.calls = append(f.calls, s)
	f.mu.Unlock()
}
func (f *recordingTarget) Prepare(context.Context, *Plan) error { f.note("prepare"); return nil }
func (f *recordingTarget) Finish(context.Context, *Plan) error  { f.note("finish"); return nil }

func (f *recordingTarget) LoadPart(_ context.Context, _ *Plan, _ *Item, part int, recs RecordSource) (PartResult, error) {
	f.note("load")
	if f.resume {
		return PartResult{Resumed: true}, nil
	}
	var n int64
	err := Drain(recs, func(rec arrow.RecordBatch) error { n += rec.NumRows(); return nil })
	f.mu.Lock()
	f.rows += n
	f.mu.Unlock()
	return PartResult{Rows: n}, err
}

func (f *recordingTarget) called(s string) bool {
	for _, c := range f.calls {
		if c == s {
			return true
		}
	}
	return false
}

// preflightBundle writes 4000 rows of one dataset in parts of 8 KiB (one
// part with parts=1) and returns the file's bytes.
func preflightBundle(t *testing.T, partBytes int64) []byte {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}}, nil)
	path := filepath.Join(t.TempDir(), "b.imb")
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	var recs []arrow.RecordBatch
	for batch := 0; batch < 8; batch++ {
		for i := 0; i < 500; i++ {
			b.Field(0).(*array.Int64Builder).Append(int64(batch*500 + i))
		}
		recs = append(recs, b.NewRecordBatch())
	}
	bundletest.Write(t, path, bundle.Options{PartBytes: partBytes}, spec.Source{Engine: "test"},
		spec.Dataset{Name: "t", Kind: spec.KindTable, PrimaryKey: []string{"id"}}, schema, recs...)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// lie changes the manifest's bytes (same length) and its checksum
// consistently: a bundle whose every SHA-256 matches.
func lie(t *testing.T, raw []byte, old, new string) *bundle.Reader {
	t.Helper()
	off, n := bundletest.EntryAt(t, raw, bundle.ManifestEntry)
	body := append([]byte(nil), raw[off:off+n]...)
	if !bytes.Contains(body, []byte(old)) {
		t.Fatalf("manifest has no %q", old)
	}
	body = bytes.ReplaceAll(body, []byte(old), []byte(new))
	bundletest.ReplaceEntry(t, raw, bundle.ManifestEntry, body)
	sum := sha256.Sum256(body)
	bundletest.ReplaceEntry(t, raw, bundle.ManifestSumEntry, []byte(hex.EncodeToString(sum[:])+"\n"))
	r, err := bundle.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// A manifest that agrees with itself but not with the part's record batch
// headers is refused by the pre-flight: the target is never prepared.
func TestImportRefusesRowsThePartDoesNotHold(t *testing.T) {
	r := lie(t, preflightBundle(t, 1<<20), `"rows":4000`, `"rows":4001`)
	ft := &recordingTarget{}
	_, err := Import(context.Background(), r, ft, Options{Jobs: 2})
	if err == nil || !strings.Contains(err.Error(), "bundle failed verification: nothing was written to the target") ||
		!strings.Contains(err.Error(), "its record batches hold 4000 rows, the manifest says 4001") {
		t.Fatalf("Import: %v", err)
	}
	if len(ft.calls) != 0 {
		t.Fatalf("target was called: %v", ft.calls)
	}
}

// Parts that decode to other rows than the manifest's digest fail the
// import with a verification error before the target's Finish runs.
func TestImportComparesContentDigests(t *testing.T) {
	raw := preflightBundle(t, 8<<10)
	r0, err := bundle.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	sum := r0.Manifest().Datasets[0].Digest.Sum
	if len(r0.Manifest().Datasets[0].Parts) < 2 {
		t.Fatal("want several parts")
	}
	forged := strings.Repeat("0", 63) + "1"
	for _, resume := range []bool{false, true} {
		ft := &recordingTarget{resume: resume}
		r := lie(t, append([]byte(nil), raw...), sum, forged)
		_, err := Import(context.Background(), r, ft, Options{Jobs: 2})
		if err == nil || !strings.Contains(err.Error(), "bundle failed verification") ||
			!strings.Contains(err.Error(), `dataset "t": the rows loaded digest to `+sum+` (4000 rows), the manifest says `+forged) {
			t.Fatalf("resume %v: Import: %v", resume, err)
		}
		if !ft.called("load") || ft.called("finish") {
			t.Fatalf("resume %v: calls %v; want loads and no finish", resume, ft.calls)
		}
	}
}

// The true digest passes, whether the target reads the parts or skips them
// all as already loaded (the importer then reads them itself).
func TestImportDigestsResumedParts(t *testing.T) {
	raw := preflightBundle(t, 8<<10)
	for _, resume := range []bool{false, true} {
		r, err := bundle.NewReader(bytes.NewReader(raw), int64(len(raw)))
		if err != nil {
			t.Fatal(err)
		}
		ft := &recordingTarget{resume: resume}
		if _, err := Import(context.Background(), r, ft, Options{Jobs: 2}); err != nil {
			t.Fatalf("resume %v: %v", resume, err)
		}
		if !ft.called("finish") || (!resume && ft.rows != 4000) {
			t.Fatalf("resume %v: calls %v, rows %d", resume, ft.calls, ft.rows)
		}
	}
}
