package redis

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/internal/redistype"
	"github.com/imbundle/imbundle/spec"
)

// Read streams the keys of logical database ds.Namespace: one goroutine
// SCANs and dedupes, s.conns workers read pipelined batches of keys on
// their own connections, and emit is called by one worker at a time. Each
// key's rows are contiguous in the output; a big key is paged while its
// worker holds the emitter, so its rows are not interleaved with others and
// memory stays at one page.
func (s *Source) Read(ctx context.Context, ds *spec.Dataset, emit func(arrow.RecordBatch) error) error {
	db, err := s.dbOf(ds)
	if err != nil {
		return err
	}
	cnt := &counters{skipped: map[string]int64{}}
	s.mu.Lock()
	s.counters[ds.Name] = cnt
	s.mu.Unlock()
	if isStreamState(ds) {
		return s.readStreamState(ctx, db, cnt, emit, nil)
	}
	ft, err := s.fieldTTLMode(ctx, ds, db)
	if err != nil {
		return err
	}
	return s.readWith(ctx, db, cnt, ft, selectionOf(ds), emit, nil)
}

// read is Read with an optional key source: keys == nil scans the database,
// otherwise the given batches are read (verify's lookups of bundle keys).
// Its rows have no field_expire_at_ms column: the digest leaves it out.
func (s *Source) read(ctx context.Context, db int, cnt *counters, emit func(arrow.RecordBatch) error, keys <-chan [][]byte) error {
	return s.readWith(ctx, db, cnt, fieldTTLMode{}, nil, emit, keys)
}

// readWith is read in the layout ft says, of the keys sel holds when it
// scans.
func (s *Source) readWith(ctx context.Context, db int, cnt *counters, ft fieldTTLMode, sel *keySelection, emit func(arrow.RecordBatch) error, keys <-chan [][]byte) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	fail := func(err error) { cancel(err) }

	em := &emitter{emit: emit}
	var wg sync.WaitGroup
	if keys == nil {
		ch := make(chan [][]byte, s.conns)
		keys = ch
		sc, err := s.dial(ctx, db)
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer sc.Close()
			defer close(ch)
			if sel != nil && len(sel.schemaKey) > 0 && sel.has(sel.schemaKey) && s.matchPattern() == "" {
				// Not under the SCAN pattern (keySelection.pattern): read by
				// name; a schema key that is not there is counted vanished.
				select {
				case ch <- [][]byte{sel.schemaKey}:
				case <-ctx.Done():
					return
				}
			}
			if err := s.scan(ctx, sc, db, cnt, "", sel, ch); err != nil {
				fail(err)
			}
		}()
	}
	unsup := &unsupported{db: db}
	for i := 0; i < s.conns; i++ {
		c, err := s.dial(ctx, db)
		if err != nil {
			fail(err)
			break
		}
		w := &worker{s: s, ctx: ctx, c: c, em: em, cnt: cnt, unsup: unsup, b: s.newBuilder(ft.schema()), ft: ft}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			defer w.b.Release()
			if err := w.run(keys); err != nil {
				fail(err) // the producer sees the cancellation and stops
				return
			}
			if ctx.Err() == nil {
				if err := em.send(w.b.Flush()); err != nil {
					fail(err)
				}
			}
		}()
	}
	wg.Wait()
	// Nil unless a worker failed or the caller cancelled.
	return context.Cause(ctx)
}

// batchBytes is smaller than bundle.DefaultBatchBytes: four readers each
// hold a batch under construction and one being written, and at 8 MiB the
// 1M-key benchmark's peak RSS rose from 192 to 255 MiB, for a speed gain
// within this machine's noise (the server's CPU is the limit).
const batchBytes = 4 << 20

func (s *Source) newBuilder(schema *arrow.Schema) *redistype.Builder {
	b := redistype.NewBuilderFor(batchBytes, schema)
	b.MaxRows = s.batchRows
	return b
}

// emitter serialises emit calls from the workers.
type emitter struct {
	mu   sync.Mutex
	emit func(arrow.RecordBatch) error
}

func (e *emitter) send(rec arrow.RecordBatch) error {
	if rec == nil {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.sendLocked(rec)
}

func (e *emitter) sendLocked(rec arrow.RecordBatch) error {
	if rec == nil {
		return nil
	}
	defer rec.Release()
	return e.emit(rec)
}

// unsupported collects keys of types the layout cannot carry.
type unsupported struct {
	mu    sync.Mutex
	db    int
	n     int
	names []string
}

func (u *unsupported) add(key []byte, t string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.n++
	if len(u.names) < maxListed {
		u.names = append(u.names, showKey(key)+" ("+t+")")
	}
}

func (u *unsupported) err() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.n == 0 {
		return nil
	}
	more := ""
	if u.n > len(u.names) {
		more = fmt.Sprintf(" and %d more in this batch", u.n-len(u.names))
	}
	return fmt.Errorf("db %d holds keys of types imbundle cannot export: %s%s; rerun with --skip-unsupported to leave them out (they are counted in the manifest), or remove or convert them first", u.db, strings.Join(u.names, ", "), more)
}
