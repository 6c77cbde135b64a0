package importer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/convert"
	"github.com/imbundle/imbundle/internal/records"
	"github.com/imbundle/imbundle/progress"
	"github.com/imbundle/imbundle/spec"
)

// Report is what an import did, per dataset.
type Report struct {
	BundleID string
	Datasets []DatasetReport
	Left     []string // datasets of the bundle this target does not take
	// Of a delta bundle (delta.go): the datasets it leaves as they are,
	// and whether the target held the delta already (nothing written).
	Unchanged      []string
	AlreadyApplied bool
}

// DatasetReport counts one dataset's import.
type DatasetReport struct {
	Dataset      string
	Target       string // namespace.object on the target
	Rows         int64  // rows in the bundle
	Written      int64
	Rejected     int64
	Filtered     int64 // rows a mapping's filter left out
	Expired      int64
	PartsResumed int
	Deleted      int64 // entities a delta's deleted keys removed first
}

// Import verifies every part of the bundle, then loads the datasets t
// accepts. Nothing is written to the target unless the whole bundle checks
// out: a corrupt bundle is rejected before any target is touched.
func Import(ctx context.Context, r *bundle.Reader, t Target, opts Options) (*Report, error) {
	if opts.Mode == "" {
		opts.Mode = ModeFail
	}
	if opts.Jobs < 1 {
		opts.Jobs = 2
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	m := r.Manifest()
	plan := &Plan{BundleID: r.ID(), Manifest: m, Mode: opts.Mode, Rejects: opts.Rejects, Log: opts.Log, DryRun: opts.DryRun}
	plan.ReadPart = func(ds *spec.Dataset, part int) (PartRecords, error) { return readPart(r, plan, ds, part) }
	rep := &Report{BundleID: r.ID()}
	want, missing := map[string]bool{}, map[string]bool{}
	for _, n := range opts.Datasets {
		want[n], missing[n] = true, true
	}
	srcs := map[string]*spec.Source{}
	for i := range m.Sources {
		srcs[m.Sources[i].ID] = &m.Sources[i]
	}
	opts.Mapping.Bind(m)
	// A bundle holding datasets of the target's own engine loads those;
	// its other engines' datasets are converted only when asked for
	// (convert.Chosen), so that importing a whole site's bundle into its
	// MySQL server does not also turn the site's Redis keyspace into tables.
	hasOwn := false
	for i := range m.Datasets {
		if ds := &m.Datasets[i]; (len(want) == 0 || want[ds.Name]) && srcs[ds.Source] != nil && t.Accepts(ds, srcs[ds.Source]) {
			hasOwn = true
		}
	}
	for i := range m.Datasets {
		ds := &m.Datasets[i]
		if len(want) > 0 && !want[ds.Name] {
			continue
		}
		delete(missing, ds.Name)
		src := srcs[ds.Source]
		if src == nil {
			return nil, fmt.Errorf("dataset %q names source %q, which the manifest lacks", ds.Name, ds.Source)
		}
		it := &Item{Dataset: ds, Source: src, Namespace: ds.Namespace, Object: ds.Object}
		if by, err := embeddedBy(t, m, srcs, want, opts.Mapping, ds); err != nil {
			return nil, err
		} else if by != nil {
			opts.Log.Info("embedded by the mapping", "dataset", ds.Name, "into", by.Match, "entry", by.Where())
			continue
		}
		rule := opts.Mapping.For(ds.Name)
		if skip, err := rule.Skips(ds); err != nil {
			return nil, err
		} else if skip {
			opts.Log.Info("left out by the mapping", "dataset", ds.Name, "entry", rule.Where())
			continue
		}
		if t.Accepts(ds, src) && rule.SentTo() != "" && rule.SentTo() != src.Engine {
			// The entry sends it to a target of another engine (a hybrid
			// site's message shards to MongoDB): not loaded here as it is.
			opts.Log.Info("left for another engine's target by the mapping", "dataset", ds.Name, "engine", rule.SentTo(), "entry", rule.Where())
			rep.Left = append(rep.Left, ds.Name)
			continue
		}
		if t.Accepts(ds, src) && rule.Routes() {
			if err := routeSameEngine(it, rule, opts.Log); err != nil {
				return nil, err
			}
		} else if t.Accepts(ds, src) {
			if err := sameEngineRule(rule); err != nil {
				return nil, err
			}
			if err := intoMembers(it, opts.Log); err != nil {
				return nil, err
			}
		} else if !convert.Chosen(ds.Name, want[ds.Name], opts.Mapping, hasOwn) {
			rep.Left = append(rep.Left, ds.Name)
			continue
		} else {
			ok, err := convertItem(t, it, opts.Log, rule)
			if err != nil {
				return nil, err
			}
			if !ok {
				rep.Left = append(rep.Left, ds.Name)
				continue
			}
			it.union = unionOf(rule)
		}
		for _, it := range splitItems(it) {
			if n, ok := opts.Map[it.Namespace]; ok {
				it.Namespace = n
			}
			plan.Items = append(plan.Items, it)
		}
	}
	for n := range missing {
		return nil, fmt.Errorf("dataset %q is not in the bundle (imbundle inspect lists them)", n)
	}
	var err error
	if plan.Items, err = place(t, plan.Items); err != nil {
		return nil, err
	}
	plan.Namespaces = namespacesOf(plan.Items)
	if m.Delta != nil {
		if plan.Dropped, err = droppedItems(t, m, opts); err != nil {
			return nil, err
		}
		plan.Namespaces = namespacesOf(plan.Items, plan.Dropped)
		checked := namespacesOf(notWhole(plan.Items), plan.Dropped)
		if err := deltaItems(plan, rep); err != nil {
			return nil, err
		}
		done, err := checkParent(ctx, t, plan, checked, opts)
		if err != nil {
			return nil, err
		}
		if done {
			rep.AlreadyApplied = true
			return rep, nil
		}
	}
	if err := intoExisting(ctx, plan, opts.Existing); err != nil {
		return nil, err
	}
	if err := convertedObjects(plan, opts); err != nil {
		return nil, err
	}
	setSpill(plan.Items, opts)
	if len(plan.Items) == 0 && len(rep.Left) > 0 && len(plan.Namespaces) == 0 {
		return nil, noneTaken(m, rep.Left)
	}

	opts.Progress.SetStage(progress.StageVerifying)
	if err := VerifyParts(ctx, r, plan.Items, opts); err != nil {
		if errors.Is(err, bundle.ErrTooLarge) {
			return nil, fmt.Errorf("nothing was written to the target: %w", err)
		}
		return nil, verificationFailed(fmt.Errorf("nothing was written to the target: %w", err))
	}
	digests := newDatasetDigests(plan.Items)
	for _, it := range plan.Items {
		var b int64
		for _, p := range it.Dataset.Parts {
			b += p.Bytes
		}
		cnt := itemRecords(it)
		opts.Progress.Records(it.Dataset.Name, cnt.Unit)
		if cnt.PerRow {
			opts.Progress.Expect(it.Dataset.Name, it.Dataset.Rows, b)
		} else if n, ok := records.Total(it.Stored()); ok {
			opts.Progress.Expect(it.Dataset.Name, n, b)
		} // else an older bundle's keyspace, whose keys it does not record: no total
	}
	if opts.BeforeWrite != nil && !opts.DryRun {
		if err := opts.BeforeWrite(ctx, plan); err != nil {
			return nil, err
		}
	}
	opts.Progress.SetStage(progress.StagePreparing)
	if err := t.Prepare(ctx, plan); err != nil {
		return nil, err
	}
	reports := make([]DatasetReport, len(plan.Items))
	for i, it := range plan.Items {
		reports[i] = DatasetReport{Dataset: it.Dataset.Name, Target: it.Namespace + "." + it.Object, Rows: it.Dataset.Rows}
	}
	if opts.DryRun {
		rep.Datasets = reports
		return rep, nil
	}

	if err := deleteEntities(ctx, r, t, plan, reports); err != nil {
		rep.Datasets = reports
		return rep, err
	}
	opts.Progress.SetStage(progress.StageWriting)
	partsLeft := make([]int, len(plan.Items))
	for i, it := range plan.Items {
		partsLeft[i] = len(it.Dataset.Parts)
	}
	type job struct {
		item *Item
		idx  int
		part int
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg   sync.WaitGroup
		rmu  sync.Mutex
		once sync.Once
		ferr error
	)
	ch := make(chan job)
	for w := 0; w < opts.Jobs; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range ch {
				opts.Progress.StageOf(j.item.Dataset.Name, progress.StageWriting)
				// The bar moves with each batch the target takes, not a
				// whole part at a time (a part of a big table is 64 MiB).
				var shown int64
				name := j.item.Dataset.Name
				cnt := itemRecords(j.item)
				res, d, err := loadPart(ctx, r, t, plan, j.item, j.part, cnt.Count, func(n int64) {
					shown += n
					opts.Progress.AddTo(name, n, 0)
				})
				if err != nil {
					once.Do(func() {
						ferr = fmt.Errorf("dataset %q part %d (%s): %w", j.item.Dataset.Name, j.part, j.item.Dataset.Parts[j.part].Path, err)
						if errors.Is(err, bundle.ErrCorrupt) {
							ferr = verificationFailed(ferr)
						}
						cancel()
					})
					continue
				}
				digests.add(j.idx, d)
				rmu.Lock()
				dr := &reports[j.idx]
				dr.Written += res.Rows
				dr.Rejected += res.Rejected
				dr.Filtered += res.Filtered
				dr.Expired += res.Expired
				if res.Resumed {
					dr.PartsResumed++
				}
				partsLeft[j.idx]--
				last := partsLeft[j.idx] == 0
				rmu.Unlock()
				// Rows a target left unread (a part resumed) are counted
				// now; a keyspace's keys were all read, by the digest.
				rest := int64(0)
				if cnt.PerRow {
					rest = j.item.Dataset.Parts[j.part].Rows - shown
				}
				opts.Progress.AddTo(name, rest, j.item.Dataset.Parts[j.part].Bytes)
				if last {
					// Its indexes are built by Finish, shown as the
					// run's stage.
					opts.Progress.Done(j.item.Dataset.Name)
				}
			}
		}()
	}
feed:
	for i, it := range plan.Items {
		for p := range it.Dataset.Parts {
			select {
			case ch <- job{it, i, p}:
			case <-ctx.Done():
				break feed
			}
		}
	}
	close(ch)
	wg.Wait()
	rep.Datasets = reports
	if ferr != nil {
		return rep, ferr
	}
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	if err := digests.check(plan.Items); err != nil {
		return rep, err
	}
	// Finish builds the secondary indexes (MySQL, MongoDB): on a large
	// table the longest stage, shown as such.
	opts.Progress.SetStage(progress.StageIndexes)
	if err := t.Finish(ctx, plan); err != nil {
		return rep, err
	}
	if err := dropDatasets(ctx, t, plan); err != nil {
		return rep, err
	}
	if err := recordApplied(ctx, t, plan, opts.ForgetApplied); err != nil {
		return rep, err
	}
	for _, it := range plan.Items {
		opts.Progress.Done(it.Dataset.Name)
	}
	opts.Progress.SetStage(progress.StageDone)
	return rep, nil
}

// maxAttempts bounds how often a part is loaded again after an error the
// target calls transient (Retrier).
const maxAttempts = 5

// loadPart loads one part, again from its first record after a transient
// error: the target rolled the attempt back whole, so nothing doubles. It
// returns the content digest of the part's rows (digestingSource).
// loadPart loads one part, again after a transient error where the
// target says so; read is told the rows of each batch read from the part
// (less those of an attempt that is then made again), for the progress.
func loadPart(ctx context.Context, r *bundle.Reader, t Target, plan *Plan, it *Item, part int, count func(arrow.RecordBatch) int64, read func(n int64)) (PartResult, *bundle.Digest, error) {
	rt, _ := t.(Retrier)
	for attempt := 1; ; attempt++ {
		var n int64
		res, d, err := loadPartOnce(ctx, r, t, plan, it, part, count, func(k int64) { n += k; read(k) })
		if err == nil || rt == nil || !rt.Retryable(err) || attempt == maxAttempts {
			return res, d, err
		}
		read(-n)
		plan.Log.Warn("transient error, loading the part again", "dataset", it.Dataset.Name, "part", part, "attempt", attempt, "error", err)
		select {
		case <-time.After(time.Duration(attempt*attempt) * 50 * time.Millisecond):
		case <-ctx.Done():
			return res, d, err
		}
	}
}

func loadPartOnce(ctx context.Context, r *bundle.Reader, t Target, plan *Plan, it *Item, part int, count func(arrow.RecordBatch) int64, read func(n int64)) (PartResult, *bundle.Digest, error) {
	pr, err := openInput(r, it, part)
	if err != nil {
		return PartResult{}, nil, err
	}
	defer pr.Close()
	src := &digestingSource{recs: pr, count: count, read: read}
	var recs RecordSource = src
	var converted, filtered int64
	if it.Conversion != nil {
		recs = convertRecords(it, src, pr, part, func(rj convert.Reject) error {
			if rj.Filtered {
				filtered++
				return nil
			}
			converted++
			return rejectConverted(plan, it, part, rj)
		})
		defer closeRecords(recs)
	}
	if it.sharedDigest {
		src.off = true
	}
	res, err := t.LoadPart(ctx, plan, it, part, recs)
	if err == nil && !it.sharedDigest {
		err = src.finish()
	}
	res.Rejected += converted
	res.Filtered = filtered
	return res, &src.d, err
}

// itemRecords is how an item's progress counts: the bundle dataset's
// records (a Redis database's keys), or, for a conversion, the bundle
// rows read, named as the bundle's (not the target's: a MySQL table
// converted into Redis keys is counted in the table's rows).
func itemRecords(it *Item) records.Counting {
	if it.Conversion != nil {
		unit := "rows" // a keyspace's rows, not its keys
		if c := records.Of(it.Stored()); c.PerRow {
			unit = c.Unit // a table's rows, a collection's documents
		}
		return records.Counting{Unit: unit, Count: records.Rows, PerRow: true}
	}
	return records.Of(it.Dataset)
}

// Drain reads a RecordSource to the end, calling fn on each batch. It is a
// convenience for targets.
func Drain(recs RecordSource, fn func(arrow.RecordBatch) error) error { return bundle.Drain(recs, fn) }
