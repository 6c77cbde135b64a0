package enginetest

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/convert"
	"github.com/imbundle/imbundle/importer"
)

// errInjected is the failure the suite injects into an import.
var errInjected = errors.New("enginetest: injected failure")

// failAfter wraps a real target: the first n LoadPart calls go through,
// the next one fails after its first record batch has reached the target
// (a part half-written), and every later one fails before writing. It is
// what a lost connection or a full disk does to an import, at a chosen
// place; the database underneath is the real one.
type failAfter struct {
	importer.Target // only Target's methods: the injected error is never retried
	n               int64
	calls           atomic.Int64
}

func (f *failAfter) LoadPart(ctx context.Context, p *importer.Plan, it *importer.Item, part int, recs importer.RecordSource) (importer.PartResult, error) {
	switch i := f.calls.Add(1) - 1; {
	case i < f.n:
		return f.Target.LoadPart(ctx, p, it, part, recs)
	case i == f.n:
		res, err := f.Target.LoadPart(ctx, p, it, part, &failingRecords{recs: recs, left: 1})
		if err == nil {
			err = errInjected // the target swallowed the error: still a failed run
		}
		return res, err
	default:
		return importer.PartResult{}, errInjected
	}
}

// Unites is the real target's (importer.Uniter): a union loads through
// the wrapper as through the target.
func (f *failAfter) Unites() bool {
	u, ok := f.Target.(importer.Uniter)
	return ok && u.Unites()
}

// failingRecords yields left batches, then errInjected instead of the rest
// (or of io.EOF).
type failingRecords struct {
	recs importer.RecordSource
	left int
}

func (r *failingRecords) Next() (arrow.RecordBatch, error) {
	if r.left == 0 {
		return nil, errInjected
	}
	r.left--
	return r.recs.Next()
}

// ImportFailing imports the bundle at path into target in --mode fail,
// in-process through importer.Import as the import command does, with a
// failure after n parts; it fails t if the import does not fail.
func ImportFailing(t *testing.T, path, target string, rename map[string]string, n int) {
	t.Helper()
	ImportFailingMapped(t, path, target, rename, nil, n)
}

// ImportFailingMapped is ImportFailing with a mapping file (--map FILE).
func ImportFailingMapped(t *testing.T, path, target string, rename map[string]string, mapping *convert.Mapping, n int) {
	t.Helper()
	ctx := context.Background()
	r, err := bundle.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rejects := importer.NewRejects(filepath.Join(t.TempDir(), "failing-run.rejects.jsonl"))
	defer rejects.Close()
	opts := importer.Options{Mode: importer.ModeFail, Jobs: 2, Map: rename, Rejects: rejects, Mapping: mapping}
	tg, err := importer.Open(ctx, target, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	_, err = importer.Import(ctx, r, &failAfter{Target: tg, n: int64(n)}, opts)
	if err == nil {
		t.Fatalf("import with a failure injected after %d parts succeeded", n)
	}
	t.Logf("import failed as injected after %d parts: %v", n, err)
}
