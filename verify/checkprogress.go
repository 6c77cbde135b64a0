package verify

import (
	"context"
	"fmt"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/progress"
	"github.com/imbundle/imbundle/spec"
)

// progressRows counts the rows the offline checks read, for the
// operator's progress (RelationOptions.Progress): a check sorts and
// merges whole datasets, which on a big bundle takes minutes. Each
// dataset a check reads is a bar, "CHECK: DATASET", in the stage
// checking, its total the dataset's rows in the bundle (a dataset read
// twice by one check, a relation of a table to itself, is "#2" the
// second time).
type progressRows struct {
	rowsOf
	prog *progress.Counter
	mu   sync.Mutex
	name string // the check being run
	seen map[string]int
}

// withProgress is in counted on prog; in itself when prog is nil.
func withProgress(in rowsOf, prog *progress.Counter) rowsOf {
	if prog == nil {
		return in
	}
	return &progressRows{rowsOf: in, prog: prog, seen: map[string]int{}}
}

// checking names the check that reads next, when in counts progress.
func checking(in rowsOf, name string) {
	if p, ok := in.(*progressRows); ok {
		p.mu.Lock()
		p.name = name
		p.mu.Unlock()
	}
}

func (p *progressRows) each(ctx context.Context, ds *spec.Dataset, fn func(arrow.RecordBatch) error) error {
	p.mu.Lock()
	task := p.name + ": " + ds.Name
	p.seen[task]++
	if n := p.seen[task]; n > 1 {
		task += fmt.Sprintf(" #%d", n)
	}
	p.mu.Unlock()
	p.prog.Expect(task, ds.Rows, 0)
	p.prog.StageOf(task, progress.StageChecking)
	defer p.prog.Done(task)
	return p.rowsOf.each(ctx, ds, func(rec arrow.RecordBatch) error {
		p.prog.AddTo(task, rec.NumRows(), 0)
		return fn(rec)
	})
}
