package verify

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/convert"
	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/internal/records"
	"github.com/imbundle/imbundle/spec"
)

// DatasetResult compares one dataset of the bundle with the target.
type DatasetResult struct {
	Dataset    string
	Target     string // namespace.object read on the target
	BundleRows int64
	TargetRows int64
	// TargetRecords is the target's records as the operator counts
	// them (internal/records): its keys for a Redis database, else its
	// rows.
	TargetRecords int64 `json:",omitempty"`
	BundleSum     string
	TargetSum     string
	Match         bool
	Differences   []Difference // the first few, when they can be located
	Err           error        // the target could not be read
	// Conversion names the mapping the bundle's rows went through, when
	// the target is of another engine; BundleRows and BundleSum are then
	// those of the converted rows, and Rejected counts the rows the
	// conversion refuses (the import's reject file holds them).
	Conversion string `json:",omitempty"`
	Rejected   int64  `json:",omitempty"`
	Filtered   int64  `json:",omitempty"` // rows a mapping's filter leaves out
	// Union lists the bundle's datasets a mapping entry's union loaded
	// into the one object compared (union.go); Dataset is then the
	// entry's match.
	Union []string `json:",omitempty"`
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
	Mapping   *convert.Mapping  // the mapping file the import used, or nil
	MaxDiffs  int               // differing keys to name per dataset (default 5)
	OnDataset func(DatasetResult)
	// OnStart is called with a dataset's name before it is read back
	// (for progress), nil for none.
	OnStart func(dataset string)
	// Spill is where and with how much memory a conversion that merges
	// records by key sorts (SPEC.md §11.9), as on import.
	Spill convert.Spill
}

// Against reads each dataset back from src, digests it exactly as export
// did, and compares with the manifest.
func Against(ctx context.Context, r *bundle.Reader, src exporter.Source, o AgainstOptions) ([]DatasetResult, error) {
	if o.MaxDiffs <= 0 {
		o.MaxDiffs = 5
	}
	m := r.Manifest()
	var out []DatasetResult
	sel, err := selected(ctx, m, src, o)
	if err != nil {
		return nil, err
	}
	idx := make([]int, 0, len(sel))
	for i := range sel {
		idx = append(idx, i)
	}
	sort.Ints(idx) // the manifest's order, not the map's
	unions := unionGroups(m, sel, idx)
	for _, i := range idx {
		for _, s := range sel[i] {
			var res DatasetResult
			if o.OnStart != nil {
				o.OnStart(m.Datasets[i].Name)
			}
			if s.union != nil {
				k := unionKey{s.union, s.Namespace, s.Object}
				members, first := unions[k]
				if !first {
					continue // compared with the union's first dataset
				}
				delete(unions, k)
				res = compareUnion(ctx, r, src, members, o.MaxDiffs)
			} else {
				res = compare(ctx, r, src, &m.Datasets[i], s, o.MaxDiffs)
			}
			if o.OnDataset != nil {
				o.OnDataset(res)
			}
			out = append(out, res)
		}
	}
	return out, nil
}

// selection is one dataset to compare: a copy of the bundle's with its
// namespace mapped as the import mapped it, or, for a dataset of another
// engine than the target's, its conversion into the target's layout.
type selection struct {
	*spec.Dataset
	conv  *convert.Conversion
	union *convert.DatasetRule // the entry uniting it with others (union.go), or nil
}

// selected returns, by index into m.Datasets, the datasets o selects: one
// each, or one per output of a conversion with several (convert.Split).
// A converted dataset whose target object exists is converted onto that
// object's shape where the import would have (convert.Into).
func selected(ctx context.Context, m *spec.Manifest, src exporter.Source, o AgainstOptions) (map[int][]selection, error) {
	engines := map[string]string{}
	sources := map[string]*spec.Source{}
	for i, s := range m.Sources {
		engines[s.ID] = s.Engine
		sources[s.ID] = &m.Sources[i]
	}
	want := map[string]bool{}
	for _, n := range o.Datasets {
		want[n] = true
	}
	// As on import: with datasets of the target's own engine in the
	// bundle, the others were converted only if asked for (convert.Chosen).
	hasOwn := false
	for _, ds := range m.Datasets {
		if (len(want) == 0 || want[ds.Name]) && (o.Engine == "" || engines[ds.Source] == o.Engine) {
			hasOwn = true
		}
	}
	o.Mapping.Bind(m)
	out := map[int][]selection{}
	for i := range m.Datasets {
		ds := m.Datasets[i] // a copy: Namespace is rewritten
		if len(want) > 0 && !want[ds.Name] {
			continue
		}
		// A dataset embedded into another's documents (§11.1) is compared
		// within its parent's, where the import loaded it.
		if _, parent := o.Mapping.Embedder(m, ds.Name); parent != nil && o.Engine != "" && engines[parent.Source] != o.Engine && (len(want) == 0 || want[parent.Name]) {
			continue
		}
		rule := o.Mapping.For(ds.Name)
		if skip, err := rule.Skips(&m.Datasets[i]); err != nil {
			return nil, err
		} else if skip {
			continue
		}
		if o.Engine != "" && rule.SendsElsewhere(o.Engine) {
			continue // the import sent it to another engine's target
		}
		var conv *convert.Conversion
		if o.Engine != "" && engines[ds.Source] == o.Engine && rule.Routes() {
			// Routed into tables of its own engine: each output is
			// compared with its table.
			for _, c := range convert.SameEngineRoute(&m.Datasets[i], sources[ds.Source], rule).Split {
				sd := *c.Dataset
				if n, ok := o.Map[sd.Namespace]; ok {
					sd.Namespace = n
				}
				out[i] = append(out[i], selection{&sd, c, nil})
			}
			continue
		}
		if o.Engine != "" && engines[ds.Source] != o.Engine {
			if !convert.Chosen(ds.Name, want[ds.Name], o.Mapping, hasOwn) {
				continue
			}
			if conv = conversionTo(&m.Datasets[i], sources[ds.Source], o.Engine, rule); conv == nil {
				continue
			}
			conv.Spill = o.Spill
			if len(conv.Split) > 0 {
				for _, c := range conv.Split {
					c.Spill = o.Spill // an output merging keys sorts too (§11.9)
					sd := *c.Dataset
					if n, ok := o.Map[sd.Namespace]; ok {
						sd.Namespace = n
					}
					// An output onto an existing object (a route's tables,
					// §11.6) converts onto its shape, as the import did.
					into, err := intoExisting(ctx, c, &m.Datasets[i], sources[ds.Source], o.Engine, &sd, src)
					if err != nil {
						return nil, err
					}
					if into != nil {
						ns, obj := sd.Namespace, sd.Object
						sd, c = *into.Dataset, into
						sd.Namespace, sd.Object = ns, obj
					}
					out[i] = append(out[i], selection{&sd, c, nil})
				}
				continue
			}
			ds = *conv.Dataset
		}
		if n, ok := o.Map[ds.Namespace]; ok {
			ds.Namespace = n
		}
		if conv != nil {
			into, err := intoExisting(ctx, conv, &m.Datasets[i], sources[ds.Source], o.Engine, &ds, src)
			if err != nil {
				return nil, err
			}
			if into != nil {
				into.Spill = o.Spill
				conv = into
				// Placed where the import placed it (a mapping's target
				// names the object), not where the rule names it.
				ns, obj := ds.Namespace, ds.Object
				ds = *into.Dataset
				ds.Namespace, ds.Object = ns, obj
			}
		}
		var union *convert.DatasetRule
		if conv != nil && rule.Unites() {
			union = rule
		}
		out[i] = []selection{{&ds, conv, union}}
	}
	dropShadowedMembers(m, out)
	return out, nil
}

// dropShadowedMembers leaves out an empty logical dataset one of whose
// member tables another selected dataset loads, as the import left its
// members out (a hybrid WildfireChat site's empty message shards, which
// the message collection's route fills): it holds no row to compare, and
// the table holds the other's.
func dropShadowedMembers(m *spec.Manifest, out map[int][]selection) {
	// By object: the selections keep their sources' namespaces (a hybrid
	// site's MySQL and MongoDB databases), which the target's URL
	// replaces by its one database.
	loaded := map[string]bool{}
	for i, sels := range out {
		if len(m.Datasets[i].Members) > 0 {
			continue
		}
		for _, s := range sels {
			loaded[s.Object] = true
		}
	}
	for i, sels := range out {
		if ds := &m.Datasets[i]; len(ds.Members) == 0 || ds.Rows != 0 {
			continue
		}
	shadowed:
		for _, s := range sels {
			objects := []string{s.Object}
			for _, mb := range s.Members { // read as its members (exporter.ReadDataset)
				objects = append(objects, mb.Object)
			}
			for _, o := range objects {
				if loaded[o] {
					delete(out, i)
					break shadowed
				}
			}
		}
	}
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
	sel, err := selected(ctx, r.Manifest(), src, o)
	if err != nil {
		return nil, true, err
	}
	idx := make([]int, 0, len(sel))
	for i := range sel {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	ds := make([]*spec.Dataset, 0, len(idx))
	for _, i := range idx {
		for _, s := range sel[i] {
			if s.conv == nil { // a converted dataset has no schema of the target's engine to compare
				// A logical dataset's schema is its member tables'.
				for _, md := range exporter.MemberDatasets(s.Dataset) {
					ds = append(ds, &md)
				}
			}
		}
	}
	diffs, err = sd.DiffSchema(ctx, r.Manifest(), ds)
	return diffs, true, err
}

// compare reads one dataset back from the target and compares its digest
// with the bundle's: the manifest's, or, for a dataset of another engine,
// that of the bundle's rows converted as the import converts them (the
// manifest has no digest of those). Rows the conversion refuses are not on
// the target; they are counted, and the import's reject file names them.
func compare(ctx context.Context, r *bundle.Reader, src exporter.Source, orig *spec.Dataset, sel selection, maxDiffs int) DatasetResult {
	mapped := sel.Dataset
	// A delta's dataset is compared with its state (SPEC.md §14.4): what
	// the source held at the delta's export, not the delta's own rows.
	state := spec.StateDigest(orig)
	res := DatasetResult{Dataset: orig.Name, Target: mapped.Namespace + "." + mapped.Object, BundleRows: state.Rows, BundleSum: state.Sum}
	if strings.HasPrefix(mapped.Name, orig.Name+"/") {
		res.Dataset = mapped.Name // one output of several (convert.Split)
	}
	if l, ok := src.(exporter.Locator); ok {
		res.Target = l.Locate(mapped)
	}
	if n := len(mapped.Members); n > 0 {
		res.Target += fmt.Sprintf(" (%d member tables)", n)
	}
	bundleRows := func(fn func(arrow.RecordBatch) error) error { return r.EachRecord(orig, fn) }
	known := state.Algorithm == spec.DigestAlgorithm
	keyed := orig // the dataset whose key names the bundle's rows
	if sel.conv != nil {
		res.Conversion, keyed, known = sel.conv.Rule, mapped, true
		var n leftOut
		bundleRows = func(fn func(arrow.RecordBatch) error) error { return eachConverted(r, orig, sel.conv, &n, fn) }
		var want bundle.Digest
		if err := bundleRows(func(rec arrow.RecordBatch) error { want.AddRecord(rec); return nil }); err != nil {
			res.Err = err
			return res
		}
		ws := want.Spec()
		res.BundleRows, res.BundleSum, res.Rejected, res.Filtered = ws.Rows, ws.Sum, n.rejected, n.filtered
	}
	var d bundle.Digest
	count := records.Of(mapped).Count
	err := exporter.ReadDataset(ctx, src, mapped, conformed(mapped.Columns, func(rec arrow.RecordBatch) error {
		d.AddRecord(rec)
		res.TargetRecords += count(rec)
		return nil
	}), nil)
	if err != nil {
		res.Err = err
		return res
	}
	got := d.Spec()
	res.TargetRows, res.TargetSum = got.Rows, got.Sum
	res.Match = got.Rows == res.BundleRows && got.Sum == res.BundleSum && known
	if res.Match {
		if sc, ok := src.(exporter.SideChecker); ok {
			res.Differences, res.Err = sc.CheckSide(ctx, mapped, bundleRows, maxDiffs)
			res.Match = res.Err == nil && len(res.Differences) == 0
		}
		return res
	}
	if partial(orig) && sel.conv == nil {
		// The bundle's rows are what changed, not the state: no row of
		// them locates a difference. The digests and counts say it.
		return res
	}
	if df, ok := src.(exporter.Differ); ok {
		res.Differences, res.Err = df.Diff(ctx, mapped, bundleRows, maxDiffs)
		return res
	}
	if len(keyed.PrimaryKey) > 0 {
		res.Differences, res.Err = walkDiff(ctx, src, keyed, mapped, bundleRows, maxDiffs)
	}
	return res
}

// partial reports a dataset of a delta bundle whose rows are not its
// whole content (SPEC.md §14.1: changed by rows, or unchanged).
func partial(ds *spec.Dataset) bool {
	return ds.Delta != nil && ds.Delta.Change != spec.ChangeWhole
}
