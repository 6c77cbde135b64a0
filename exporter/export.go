package exporter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/records"
	"github.com/imbundle/imbundle/progress"
	"github.com/imbundle/imbundle/spec"
)

// Export describes every source, then reads their datasets with jobs
// goroutines into w. On error the caller aborts w; nothing is renamed into
// place.
func Export(ctx context.Context, sources []Source, w *bundle.Writer, jobs int) error {
	return ExportSelected(ctx, sources, w, jobs, nil, nil)
}

// ExportSelected is Export of sources opened with Options.Filter f: each
// source's manifest entry records f, and a --tables pattern or --where
// that selected no dataset of any source fails the export before a row is
// read. prog counts each dataset's rows and uncompressed bytes as they are
// read, with its stage (nil counts nothing).
func ExportSelected(ctx context.Context, sources []Source, w *bundle.Writer, jobs int, f *Filter, prog *progress.Counter) error {
	return ExportResumable(ctx, sources, w, jobs, f, nil, prog)
}

// job is one dataset to export and its source.
type job struct {
	src Source
	ds  Dataset
	// after, of a dataset continued from a killed run's parts
	// (keepFinished): the last kept key, to read after; keptRows, the
	// rows of those parts.
	after    []string
	keptRows int64
}

// ExportResumable is ExportSelected into a writer that may resume a killed
// run of the same export (bundle.Options.Command): the datasets that run
// finished and that still hold (keepFinished) are kept, not read again;
// log says which and why others are not.
func ExportResumable(ctx context.Context, sources []Source, w *bundle.Writer, jobs int, f *Filter, log *slog.Logger, prog *progress.Counter) error {
	return ExportLogical(ctx, sources, w, jobs, f, nil, log, prog)
}

// ExportLogical is ExportResumable reading the tables shards match as
// logical datasets (logical.go).
func ExportLogical(ctx context.Context, sources []Source, w *bundle.Writer, jobs int, f *Filter, shards Shards, log *slog.Logger, prog *progress.Counter) error {
	return ExportThrough(ctx, sources, w, jobs, f, shards, nil, log, prog)
}

// Sink takes a dataset's record batches in place of its bundle dataset
// writer, and writes into that writer when it is closed: a delta's
// comparison with the parent bundle (package delta, SPEC.md §14).
type Sink interface {
	Write(arrow.RecordBatch) error
	Close() error
}

// SinkFunc starts the Sink of a dataset (as described, with its schema)
// writing into dw.
type SinkFunc func(ds *spec.Dataset, schema *arrow.Schema, dw *bundle.DatasetWriter) (Sink, error)

// ExportThrough is ExportLogical with every dataset's batches going
// through the sink sinkFor starts (nil: straight into the bundle).
func ExportThrough(ctx context.Context, sources []Source, w *bundle.Writer, jobs int, f *Filter, shards Shards, sinkFor SinkFunc, log *slog.Logger, prog *progress.Counter) error {
	if jobs < 1 {
		jobs = 1
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var work []job
	names := map[string]bool{}
	for i, src := range sources {
		desc, err := src.Describe(ctx)
		if err != nil {
			return err
		}
		if err := groupShards(desc, shards); err != nil {
			return err
		}
		for _, d := range desc.Datasets {
			if len(d.Spec.Members) > 0 {
				var names []string
				for _, md := range MemberDatasets(&d.Spec) {
					names = append(names, md.Name)
				}
				prog.Unite(d.Spec.Name, names)
			}
		}
		desc.Source.ID = fmt.Sprintf("s%d", i)
		desc.Source.Filter = f.Record()
		if err := w.AddSource(desc.Source); err != nil {
			return err
		}
		for _, n := range desc.Notes {
			w.AddNote(desc.Source.ID + ": " + n)
		}
		for _, o := range desc.Objects {
			o.Source = desc.Source.ID
			w.AddObjects(o)
		}
		for _, u := range desc.Uncarried {
			u.Source = desc.Source.ID
			w.AddUncarried(u)
		}
		rename := map[string]string{}
		for _, d := range desc.Datasets {
			d.Spec.Source = desc.Source.ID
			if names[d.Spec.Name] {
				// Two sources hold a dataset of the same name: qualify it.
				old := d.Spec.Name
				d.Spec.Name = desc.Source.ID + "/" + old
				rename[old] = d.Spec.Name
			}
			names[d.Spec.Name] = true
			work = append(work, job{src: src, ds: d})
		}
		for _, r := range desc.Relations {
			if n, ok := rename[r.From.Dataset]; ok {
				r.From.Dataset = n
			}
			if n, ok := rename[r.To.Dataset]; ok {
				r.To.Dataset = n
			}
			w.AddRelations(r)
		}
	}
	if err := f.Unmatched(); err != nil {
		return err
	}
	work, err := keepFinished(ctx, w, work, log)
	if err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan job)
	var (
		wg   sync.WaitGroup
		once sync.Once
		ferr error
	)
	for i := 0; i < jobs; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range ch {
				if err := exportDataset(ctx, j, w, sinkFor, log, prog); err != nil {
					once.Do(func() { ferr = err; cancel() })
				}
			}
		}()
	}
	for _, j := range work {
		select {
		case ch <- j:
		case <-ctx.Done():
		}
	}
	close(ch)
	wg.Wait()
	if ferr != nil {
		return ferr
	}
	return ctx.Err()
}

// CounterReporter is implemented by sources that count per-dataset events
// (skipped unsupported keys, keys vanished during the scan, ...).
type CounterReporter interface {
	Counters(ds *spec.Dataset) (skipped int64, counters map[string]int64)
}

// SchemaKeysReporter is implemented by sources that list, per dataset,
// the schema keys of tables and collections kept in Redis (SPEC.md §8.1).
type SchemaKeysReporter interface {
	SchemaKeys(ds *spec.Dataset) map[string]string
}

func exportDataset(ctx context.Context, j job, w *bundle.Writer, sinkFor SinkFunc, log *slog.Logger, prog *progress.Counter) error {
	src, d := j.src, j.ds
	name := d.Spec.Name
	// Progress counts the dataset's records (a Redis database's keys),
	// not its bundle rows.
	count := records.Of(&d.Spec)
	prog.Records(name, count.Unit)
	prog.StageOf(name, progress.StageReading)
	dw, err := w.CreateDataset(d.Spec, d.Schema)
	if err != nil {
		return err
	}
	var sink Sink = plainSink{dw}
	if sinkFor != nil {
		if sink, err = sinkFor(&d.Spec, d.Schema, dw); err != nil {
			return &DatasetError{Dataset: name, Err: err}
		}
	}
	// The source reads the next batch while the writer digests and
	// compresses this one: one batch waits between them. A write error
	// cancels the read.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	recs := make(chan arrow.RecordBatch, 1)
	written := make(chan error, 1)
	go func() {
		var werr error
		for rec := range recs {
			if werr == nil {
				if werr = sink.Write(rec); werr != nil {
					cancel(werr)
				}
				prog.SetCompressed(name, dw.CompressedBytes())
			}
			rec.Release()
		}
		written <- werr
	}()
	var readRows int64
	emit := func(rec arrow.RecordBatch) error {
		if !rec.Schema().Equal(d.Schema) {
			return fmt.Errorf("dataset %q: source emitted schema %s, described %s", d.Spec.Name, rec.Schema(), d.Schema)
		}
		rec.Retain()
		select {
		case recs <- rec:
			readRows += rec.NumRows()
			prog.AddTo(name, count.Count(rec), bundle.RecordBytes(rec))
			return nil
		case <-ctx.Done():
			rec.Release()
			return context.Cause(ctx)
		}
	}
	journalParts := func(check string) {
		if check != "" && continuable(j) == "" {
			dw.JournalParts(check)
		}
	}
	check, err := readChecked(ctx, src, &d.Spec, journalParts, func() error {
		if j.after != nil {
			return src.(ResumeReader).ReadAfter(ctx, &d.Spec, j.after, emit)
		}
		return ReadDataset(ctx, src, &d.Spec, emit, func(i int, n int64) { d.Spec.Members[i].Rows = n })
	})
	close(recs)
	// Read to the end: what is left is compressing the batches queued
	// and the last part, and copying it in (Close).
	prog.StageOf(name, progress.StageWriting)
	if werr := <-written; werr != nil {
		err = werr // the cause; the source saw only the cancellation
	}
	if cerr := sink.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		var ee *DatasetError
		if errors.As(err, &ee) {
			return err
		}
		return &DatasetError{Dataset: d.Spec.Name, Err: err}
	}
	if cr, ok := src.(CounterReporter); ok {
		dw.SetCounters(cr.Counters(&d.Spec))
	}
	if sk, ok := src.(SchemaKeysReporter); ok {
		dw.SetSchemaKeys(sk.SchemaKeys(&d.Spec))
	}
	if len(d.Spec.Members) > 0 {
		dw.SetMembers(d.Spec.Members)
	}
	dw.SetResumeCheck(check)
	if err := dw.Close(); err != nil {
		return err
	}
	prog.SetCompressed(name, dw.CompressedBytes())
	prog.Done(name)
	if j.after != nil {
		log.Info("resume: finished a dataset continued after the parts a killed run kept", "dataset", name, "kept_rows", j.keptRows, "read_rows", readRows)
	}
	return nil
}

// plainSink writes batches straight into the bundle.
type plainSink struct{ dw *bundle.DatasetWriter }

func (p plainSink) Write(rec arrow.RecordBatch) error { return p.dw.Write(rec) }
func (p plainSink) Close() error                      { return nil }

// DatasetError names the dataset an export or verify failed on.
type DatasetError struct {
	Dataset string
	Err     error
}

func (e *DatasetError) Error() string { return fmt.Sprintf("dataset %q: %v", e.Dataset, e.Err) }
func (e *DatasetError) Unwrap() error { return e.Err }
