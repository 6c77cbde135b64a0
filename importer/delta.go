package importer

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/mongotype"
	"github.com/imbundle/imbundle/spec"
)

// A delta bundle (SPEC.md §14.3) is applied in one import: its datasets
// carried whole load as with --mode replace, those changed by rows lose
// the entities their deleted keys name (KeyDeleter) and then load as with
// --mode append, the unchanged ones are left alone, the dropped ones are
// dropped, and the target's last-applied record (Applied) moves to the
// delta. Every entity a delta writes is also in its deleted keys, so an
// interrupted delta import is run again from its start: nothing of an
// earlier run is skipped.

// Applied is implemented by targets that keep the last-applied record:
// the bundle last imported into each target namespace, outside the
// user's data (MySQL imbundle.applied, MongoDB imbundle.applied, Redis
// the hash imbundle:applied of each database).
type Applied interface {
	// LastApplied returns the id of the bundle last applied to each of
	// p.Namespaces; a namespace with none is left out.
	LastApplied(ctx context.Context, p *Plan) (map[string]string, error)
	// RecordApplied records p's bundle (with p.Lineage) as the last one
	// applied to each of p.Namespaces.
	RecordApplied(ctx context.Context, p *Plan) error
	// ForgetApplied removes the record of p.Namespaces: an import that
	// puts back a prior state (a rollback, Options.ForgetApplied) leaves
	// the target holding no bundle it could name.
	ForgetApplied(ctx context.Context, p *Plan) error
}

// KeyDeleter is implemented by targets that remove entities by key, for
// the datasets a delta changes by rows: rows of it's table by primary key
// (MySQL), documents by _id (MongoDB), keys (Redis). keys holds the
// deleted-key rows (columns Dataset.Delta.Key). It returns how many
// entities it removed, and forgets whatever an earlier run of this bundle
// recorded of it's parts: they are all loaded again.
type KeyDeleter interface {
	DeleteKeys(ctx context.Context, p *Plan, it *Item, keys RecordSource) (int64, error)
}

// deltaItems readies the placed items of a delta bundle: the unchanged
// ones leave the plan (their namespaces stay in the last-applied record),
// the others get their mode. A conversion of a delta is refused.
func deltaItems(plan *Plan, rep *Report) error {
	var conv []string
	for _, it := range plan.Items {
		// A conversion, and a logical dataset read as its member tables
		// or routed into tables (both are conversions, convert.go): the
		// deleted keys name the bundle's entities, not the target's rows.
		if it.Conversion != nil || it.Dataset.Delta == nil {
			conv = append(conv, it.Stored().Name)
		}
	}
	if len(conv) > 0 {
		return Refused(fmt.Errorf("bundle %s is a delta, applied as it is to a target of its own engine only: dataset(s) %s would be converted, or split into member tables; nothing was written. Import the chain's full bundles into such a target instead", short(plan.BundleID), strings.Join(conv, ", ")))
	}
	plan.Mode = ModeReplace // schema objects: the delta carries their current definitions
	kept := plan.Items[:0]
	for _, it := range plan.Items {
		switch it.Dataset.Delta.Change {
		case spec.ChangeNone:
			rep.Unchanged = append(rep.Unchanged, it.Dataset.Name)
			continue
		case spec.ChangeRows:
			it.Mode = ModeAppend
		default:
			it.Mode = ModeReplace
		}
		kept = append(kept, it)
	}
	plan.Items = kept
	return nil
}

// droppedItems places the datasets the delta dropped that this target
// holds (by the kind of its engine's datasets); a Redis keyspace is left
// alone: its source no longer selects that database, which says nothing
// of the keys in it.
func droppedItems(t Target, m *spec.Manifest, opts Options) ([]*Item, error) {
	var out []*Item
	for _, d := range m.Delta.Dropped {
		ds := &spec.Dataset{Name: d.Name, Kind: d.Kind, Namespace: d.Namespace, Object: d.Object}
		if d.Kind == spec.KindCollection {
			// The layout every collection dataset has: what a MongoDB
			// target accepts (the manifest keeps no columns of a dropped
			// dataset).
			ds.Columns = bundle.ColumnsOf(mongotype.Schema())
		}
		src := &spec.Source{Engine: engineOfKind[d.Kind]}
		if d.Kind == spec.KindKeyspace {
			opts.Log.Info("a Redis database the delta's source no longer selects: its keys are left alone", "dataset", d.Name)
			continue
		}
		if !t.Accepts(ds, src) {
			continue
		}
		it := &Item{Dataset: ds, Source: src, Namespace: d.Namespace, Object: d.Object}
		if n, ok := opts.Map[it.Namespace]; ok {
			it.Namespace = n
		}
		out = append(out, it)
	}
	if len(out) == 0 {
		return nil, nil
	}
	if err := t.Place(out); err != nil {
		return nil, err
	}
	return out, nil
}

var engineOfKind = map[string]string{spec.KindTable: "mysql", spec.KindCollection: "mongodb", spec.KindKeyspace: "redis"}

// namespacesOf lists the target namespaces of items, sorted, once each.
func namespacesOf(items ...[]*Item) []string {
	var out []string
	for _, its := range items {
		for _, it := range its {
			if !slices.Contains(out, it.Namespace) {
				out = append(out, it.Namespace)
			}
		}
	}
	sort.Strings(out)
	return out
}

// notWhole are the items of a delta that build on the parent's content:
// changed by rows, or unchanged.
func notWhole(items []*Item) []*Item {
	var out []*Item
	for _, it := range items {
		if it.Dataset.Delta != nil && it.Dataset.Delta.Change != spec.ChangeWhole {
			out = append(out, it)
		}
	}
	return out
}

// checkParent refuses a delta whose parent is not what the target last
// applied to the namespaces of checked (unless opts.Force), and reports a
// delta applied already to every namespace (true: nothing to do). Only the
// namespaces where the delta builds on the parent's content are checked
// (datasets changed by rows or unchanged, dropped ones): a namespace all
// of whose datasets the delta carries whole (a database the parent did not
// select) needs nothing of the parent, and has no record yet. A namespace
// that holds the delta itself beside others that hold its parent is an
// earlier run stopped before it recorded them all: applying it again ends
// the same.
func checkParent(ctx context.Context, t Target, plan *Plan, checked []string, opts Options) (bool, error) {
	d := plan.Manifest.Delta
	a, ok := t.(Applied)
	if !ok {
		return false, Refused(fmt.Errorf("bundle %s is a delta and this target keeps no record of the bundle last applied to it; nothing was written", short(plan.BundleID)))
	}
	last, err := a.LastApplied(ctx, plan)
	if err != nil {
		return false, fmt.Errorf("read the bundle last applied to the target: %w", err)
	}
	var wrong []string
	done := len(plan.Namespaces) > 0
	for _, ns := range plan.Namespaces {
		id := last[ns]
		if id == plan.BundleID {
			continue
		}
		done = false
		switch {
		case id == d.Parent || !slices.Contains(checked, ns):
		case id == "":
			wrong = append(wrong, fmt.Sprintf("%s has no bundle recorded", ns))
		default:
			wrong = append(wrong, fmt.Sprintf("%s last applied bundle %s", ns, short(id)))
		}
	}
	if done {
		return true, nil
	}
	if len(wrong) > 0 {
		if opts.Force {
			opts.Log.Warn("--force: applying a delta to a target that does not hold its parent", "bundle", short(plan.BundleID), "parent", short(d.Parent), "target", strings.Join(wrong, "; "))
			return false, nil
		}
		return false, Refused(fmt.Errorf("delta bundle %s applies on top of bundle %s, and the target does not hold it: %s; nothing was written. Import the chain's bundles in order (the base, then each delta), or pass --force to apply it anyway", short(plan.BundleID), short(d.Parent), strings.Join(wrong, "; ")))
	}
	return false, nil
}

func short(id string) string {
	if len(id) > 16 {
		return id[:16]
	}
	return id
}

// deleteEntities removes from the target, for each item a delta changes
// by rows, the entities its deleted keys name, before any part is loaded.
// The keys' rows are digested as they are read and checked against the
// manifest, as a part's rows are.
func deleteEntities(ctx context.Context, r *bundle.Reader, t Target, plan *Plan, reports []DatasetReport) error {
	for i, it := range plan.Items {
		dd := spec.DeletedDataset(it.Dataset)
		if dd == nil || len(dd.Parts) == 0 {
			continue
		}
		kd, ok := t.(KeyDeleter)
		if !ok {
			return fmt.Errorf("dataset %q: this target cannot remove entities by key, which a delta's change of rows needs", it.Dataset.Name)
		}
		var d bundle.Digest
		for p := range dd.Parts {
			pr, err := r.OpenPart(dd, p)
			if err != nil {
				return fmt.Errorf("dataset %q deleted keys part %d: %w", it.Dataset.Name, p, err)
			}
			src := &digestingSource{recs: pr}
			n, err := kd.DeleteKeys(ctx, plan, it, src)
			if err == nil {
				err = src.finish()
			}
			pr.Close()
			if err != nil {
				return fmt.Errorf("dataset %q: delete the entities of deleted keys part %d (%s) from %s.%s: %w", it.Dataset.Name, p, dd.Parts[p].Path, it.Namespace, it.Object, err)
			}
			d.Merge(&src.d)
			reports[i].Deleted += n
		}
		if got := d.Spec(); got.Sum != dd.Digest.Sum || got.Rows != dd.Digest.Rows {
			return verificationFailed(fmt.Errorf("dataset %q: its deleted keys digest to %s (%d rows), the manifest says %s (%d rows): the bundle's writer or an edit of it is at fault; the target lost those entities and holds none of the delta's rows. Restore it from the rollback bundle, or import the chain again from its base", it.Dataset.Name, got.Sum, got.Rows, dd.Digest.Sum, dd.Digest.Rows))
		}
	}
	return nil
}

// dropDatasets drops the delta's dropped tables and collections.
func dropDatasets(ctx context.Context, t Target, plan *Plan) error {
	if len(plan.Dropped) == 0 {
		return nil
	}
	dr, ok := t.(Dropper)
	if !ok {
		return fmt.Errorf("this target cannot drop the datasets the delta dropped: %s", strings.Join(namesOf(plan.Dropped), ", "))
	}
	var objs []spec.RollbackObject
	for _, it := range plan.Dropped {
		objs = append(objs, spec.RollbackObject{Kind: it.Dataset.Kind, Namespace: it.Namespace, Name: it.Object})
	}
	if err := dr.Drop(ctx, objs); err != nil {
		return fmt.Errorf("drop the datasets the delta dropped: %w", err)
	}
	plan.Log.Info("dropped the datasets the delta's sources no longer hold", "datasets", strings.Join(namesOf(plan.Dropped), ", "))
	return nil
}

func namesOf(items []*Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Namespace+"."+it.Object)
	}
	return out
}

// recordApplied writes the last-applied record of a completed import,
// or for a rollback's removes it.
func recordApplied(ctx context.Context, t Target, plan *Plan, forget bool) error {
	a, ok := t.(Applied)
	if !ok || len(plan.Namespaces) == 0 {
		return nil
	}
	if forget {
		if err := a.ForgetApplied(ctx, plan); err != nil {
			return fmt.Errorf("the prior state is restored, and removing the target's record of the bundle last applied failed: %w; run the same command again", err)
		}
		return nil
	}
	if err := a.RecordApplied(ctx, plan); err != nil {
		return fmt.Errorf("the import is complete, and recording bundle %s as the target's last applied failed: %w; run the same command again to record it (a delta bundle next would be refused without it)", short(plan.BundleID), err)
	}
	return nil
}
