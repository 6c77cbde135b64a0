package verify

import (
	"context"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/spec"
)

// DatasetResult compares one dataset of the bundle with the target.
type DatasetResult struct {
	Dataset     string
	Target      string // namespace.object read on the target
	BundleRows  int64
	TargetRows  int64
	BundleSum   string
	TargetSum   string
	Match       bool
	Differences []Difference // the first few, when they can be located
	Err         error        // the target could not be read
}

// Difference, Differ and SideChecker are the exporter's: sources implement
// them without importing verify.
type (
	Difference  = exporter.Difference
	Differ      = exporter.Differ
	SideChecker = exporter.SideChecker
)

// AgainstOptions tune Against.
type AgainstOptions struct {
	Map       map[string]string // namespace renames applied on import
	Engine    string            // only datasets of sources of this engine; "" = all
	Datasets  []string          // names to check; empty = all
	MaxDiffs  int               // differing keys to name per dataset (default 5)
	OnDataset func(DatasetResult)
}

// Against reads each dataset back from src, digests it exactly as export
// did, and compares with the manifest.
func Against(ctx context.Context, r *bundle.Reader, src exporter.Source, o AgainstOptions) ([]DatasetResult, error) {
	if o.MaxDiffs <= 0 {
		o.MaxDiffs = 5
	}
	m := r.Manifest()
	var out []DatasetResult
	sel := selected(m, o)
	idx := make([]int, 0, len(sel))
	for i := range sel {
		idx = append(idx, i)
	}
	sort.Ints(idx) // the manifest's order, not the map's
	for _, i := range idx {
		res := compare(ctx, r, src, &m.Datasets[i], sel[i], o.MaxDiffs)
		if o.OnDataset != nil {
			o.OnDataset(res)
		}
		out = append(out, res)
	}
	return out, nil
}

// selected returns, by index into m.Datasets, copies of the datasets o
// selects with their namespaces mapped as the import mapped them.
func selected(m *spec.Manifest, o AgainstOptions) map[int]*spec.Dataset {
	engines := map[string]string{}
	for _, s := range m.Sources {
		engines[s.ID] = s.Engine
	}
	want := map[string]bool{}
	for _, n := range o.Datasets {
		want[n] = true
	}
	out := map[int]*spec.Dataset{}
	for i := range m.Datasets {
		ds := m.Datasets[i] // a copy: Namespace is rewritten
		if len(want) > 0 && !want[ds.Name] {
			continue
		}
		if o.Engine != "" && engines[ds.Source] != o.Engine {
			continue
		}
		if n, ok := o.Map[ds.Namespace]; ok {
			ds.Namespace = n
		}
		out[i] = &ds
	}
	return out
}

// Schema compares the target's schema (tables' definitions, indexes,
// objects) with the bundle's, where the source can (exporter.SchemaDiffer).
// Each returned line names one drifted object. ok is false when the source
// cannot compare schemas at all.
func Schema(ctx context.Context, r *bundle.Reader, src exporter.Source, o AgainstOptions) (diffs []string, ok bool, err error) {
	sd, ok := src.(exporter.SchemaDiffer)
	if !ok {
		return nil, false, nil
	}
	sel := selected(r.Manifest(), o)
	idx := make([]int, 0, len(sel))
	for i := range sel {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	ds := make([]*spec.Dataset, 0, len(idx))
	for _, i := range idx {
		ds = append(ds, sel[i])
	}
	diffs, err = sd.DiffSchema(ctx, r.Manifest(), ds)
	return diffs, true, err
}

func compare(ctx context.Context, r *bundle.Reader, src exporter.Source, orig, mapped *spec.Dataset, maxDiffs int) DatasetResult {
	res := DatasetResult{Dataset: orig.Name, Target: mapped.Namespace + "." + mapped.Object, BundleRows: orig.Rows, BundleSum: orig.Digest.Sum}
	if l, ok := src.(exporter.Locator); ok {
		res.Target = l.Locate(mapped)
	}
	var d bundle.Digest
	err := src.Read(ctx, mapped, conformed(orig.Columns, func(rec arrow.RecordBatch) error {
		d.AddRecord(rec)
		return nil
	}))
	if err != nil {
		res.Err = err
		return res
	}
	got := d.Spec()
	res.TargetRows, res.TargetSum = got.Rows, got.Sum
	res.Match = got.Rows == orig.Rows && got.Sum == orig.Digest.Sum && orig.Digest.Algorithm == spec.DigestAlgorithm
	bundleRows := func(fn func(arrow.RecordBatch) error) error { return r.EachRecord(orig, fn) }
	if res.Match {
		if sc, ok := src.(exporter.SideChecker); ok {
			res.Differences, res.Err = sc.CheckSide(ctx, mapped, bundleRows, maxDiffs)
			res.Match = res.Err == nil && len(res.Differences) == 0
		}
		return res
	}
	if df, ok := src.(exporter.Differ); ok {
		res.Differences, res.Err = df.Diff(ctx, mapped, bundleRows, maxDiffs)
		return res
	}
	if len(orig.PrimaryKey) > 0 {
		res.Differences, res.Err = walkDiff(ctx, src, orig, mapped, bundleRows, maxDiffs)
	}
	return res
}
