package verify

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/convert"
	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/spec"
)

// A union (a mapping entry's union: true, SPEC.md §11.6) loads several
// datasets into one object, which holds their rows together: it is read
// back once and compared with the sum of the datasets' converted digests
// and rows (digests are sums of row hashes, §6), as one result.

// unionKey groups the selections of one union entry placed on one object.
type unionKey struct {
	rule   *convert.DatasetRule
	ns, ob string
}

// unionMember is one dataset of a union: the bundle's and its selection.
type unionMember struct {
	orig *spec.Dataset
	sel  selection
}

// unionGroups gathers the united selections by entry and object, in the
// manifest's order (idx).
func unionGroups(m *spec.Manifest, sel map[int][]selection, idx []int) map[unionKey][]unionMember {
	out := map[unionKey][]unionMember{}
	for _, i := range idx {
		for _, s := range sel[i] {
			if s.union != nil {
				k := unionKey{s.union, s.Namespace, s.Object}
				out[k] = append(out[k], unionMember{&m.Datasets[i], s})
			}
		}
	}
	return out
}

// compareUnion compares the object of a union with its datasets' rows,
// each converted by its own conversion. The result names the entry's match
// and lists the datasets in Union.
func compareUnion(ctx context.Context, r *bundle.Reader, src exporter.Source, members []unionMember, maxDiffs int) DatasetResult {
	first := members[0]
	mapped := first.sel.Dataset
	res := DatasetResult{Dataset: fmt.Sprintf("%s (union of %d)", first.sel.union.Match, len(members)), Target: mapped.Namespace + "." + mapped.Object, Conversion: first.sel.conv.Rule}
	for _, u := range members {
		res.Union = append(res.Union, u.orig.Name)
	}
	if l, ok := src.(exporter.Locator); ok {
		res.Target = l.Locate(mapped)
	}
	var n leftOut
	bundleRows := func(fn func(arrow.RecordBatch) error) error {
		var total leftOut
		for _, u := range members {
			if err := eachConverted(r, u.orig, u.sel.conv, &n, fn); err != nil {
				return err
			}
			total.rejected += n.rejected
			total.filtered += n.filtered
		}
		n = total
		return nil
	}
	var want bundle.Digest
	if err := bundleRows(func(rec arrow.RecordBatch) error { want.AddRecord(rec); return nil }); err != nil {
		res.Err = err
		return res
	}
	ws := want.Spec()
	res.BundleRows, res.BundleSum, res.Rejected, res.Filtered = ws.Rows, ws.Sum, n.rejected, n.filtered
	var d bundle.Digest
	if err := exporter.ReadDataset(ctx, src, mapped, conformed(mapped.Columns, func(rec arrow.RecordBatch) error {
		d.AddRecord(rec)
		return nil
	}), nil); err != nil {
		res.Err = err
		return res
	}
	got := d.Spec()
	res.TargetRows, res.TargetSum, res.TargetRecords = got.Rows, got.Sum, got.Rows
	res.Match = got.Rows == res.BundleRows && got.Sum == res.BundleSum
	if res.Match {
		if sc, ok := src.(exporter.SideChecker); ok {
			res.Differences, res.Err = sc.CheckSide(ctx, mapped, bundleRows, maxDiffs)
			res.Match = res.Err == nil && len(res.Differences) == 0
		}
		return res
	}
	if df, ok := src.(exporter.Differ); ok {
		res.Differences, res.Err = df.Diff(ctx, mapped, bundleRows, maxDiffs)
	}
	return res
}
