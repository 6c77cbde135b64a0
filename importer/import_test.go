package importer

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/bundletest"
	"github.com/imbundle/imbundle/progress"
	"github.com/imbundle/imbundle/spec"
)

var errTransient = errors.New("deadlock")

// flakyTarget fails the first attempt at every part after reading one
// batch of it, as a MySQL deadlock does midway through a part. It counts
// the rows each part delivered on its successful attempt.
type flakyTarget struct {
	mu     sync.Mutex // Import loads parts in parallel
	failed map[int]bool
	rows   map[int]int64
}

func (f *flakyTarget) Accepts(*spec.Dataset, *spec.Source) bool { return true }
func (f *flakyTarget) Place([]*Item) error                      { return nil }
func (f *flakyTarget) Prepare(context.Context, *Plan) error     { return nil }
func (f *flakyTarget) Finish(context.Context, *Plan) error      { return nil }
func (f *flakyTarget) Close() error                             { return nil }
func (f *flakyTarget) Retryable(err error) bool                 { return errors.Is(err, errTransient) }

func (f *flakyTarget) LoadPart(_ context.Context, _ *Plan, _ *Item, part int, recs RecordSource) (PartResult, error) {
	var n int64
	err := Drain(recs, func(rec arrow.RecordBatch) error {
		n += rec.NumRows()
		f.mu.Lock()
		defer f.mu.Unlock()
		if !f.failed[part] {
			f.failed[part] = true
			return errTransient
		}
		return nil
	})
	if err != nil {
		return PartResult{}, err
	}
	f.mu.Lock()
	f.rows[part] = n
	f.mu.Unlock()
	return PartResult{Rows: n}, nil
}

func TestTransientErrorReloadsWholePart(t *testing.T) {
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
	bundletest.Write(t, path, bundle.Options{PartBytes: 8 << 10}, spec.Source{Engine: "test"},
		spec.Dataset{Name: "t", Kind: spec.KindTable, PrimaryKey: []string{"id"}}, schema, recs...)
	r, err := bundle.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ds := r.Manifest().Datasets[0]
	if len(ds.Parts) < 2 {
		t.Fatalf("want several parts, got %d", len(ds.Parts))
	}
	ft := &flakyTarget{failed: map[int]bool{}, rows: map[int]int64{}}
	// A clock a second ahead at every reading makes the counter keep a
	// sample at every update.
	var mu sync.Mutex
	now := time.Unix(0, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); now = now.Add(time.Second); return now }
	prog := progress.New(progress.Options{Clock: clock})
	rep, err := Import(context.Background(), r, ft, Options{Jobs: 2, Progress: prog})
	if err != nil {
		t.Fatal(err)
	}
	// The progress moved batch by batch, not part by part, and took back
	// the rows of each failed attempt: it ends at the rows written.
	if got := prog.Rows(); got != 4000 {
		t.Errorf("progress counted %d rows, want 4000 (a failed attempt's rows taken back)", got)
	}
	// Each update is a sample: counted part by part, the rows would
	// change at most once per part.
	changes := 0
	smp := prog.Samples()
	for i := 1; i < len(smp); i++ {
		if smp[i].Rows != smp[i-1].Rows {
			changes++
		}
	}
	within := changes > len(ds.Parts)
	if !within {
		t.Errorf("the rows changed %d times over %d parts: not within a part: %+v", changes, len(ds.Parts), smp)
	}
	if rep.Datasets[0].Written != 4000 {
		t.Fatalf("written %d rows, want 4000", rep.Datasets[0].Written)
	}
	for i, p := range ds.Parts {
		if ft.rows[i] != p.Rows {
			t.Fatalf("part %d delivered %d rows on its retry, manifest says %d: the retry did not start from the first record", i, ft.rows[i], p.Rows)
		}
	}
}
