package bundletest

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/redistype"
	"github.com/imbundle/imbundle/spec"
)

// WriteDelta writes at out a delta bundle (SPEC.md §14) that takes a
// target holding the bundle at parentPath to the content of the full
// bundle at statePath (an export of the changed source): the delta an
// `export --since` would write, made by hand for tests of its import. It
// compares the two datasets by dataset entity by entity, in memory (small
// bundles only): an entity whose rows differ in any column (TTLs
// included) is changed, one the state lacks is removed, one the parent
// lacks is new. A dataset without entities (no key), or whose columns or
// DDL changed, or that the parent lacks, is carried whole; the parent's
// datasets the state lacks are dropped. The parent must be a full bundle
// or a delta whose datasets' rows are whole (WriteDelta reads its rows as
// the parent's state). It returns the delta's summary per dataset, for
// assertions.
func WriteDelta(t testing.TB, out, parentPath, statePath string) map[string]spec.DatasetDelta {
	t.Helper()
	parent, err := bundle.Open(parentPath)
	if err != nil {
		t.Fatal(err)
	}
	defer parent.Close()
	state, err := bundle.Open(statePath)
	if err != nil {
		t.Fatal(err)
	}
	defer state.Close()
	pm, sm := parent.Manifest(), state.Manifest()
	d := &spec.Delta{Parent: parent.ID(), Base: parent.ID(), Depth: 1}
	if pm.Delta != nil {
		d.Base, d.Depth = pm.Delta.Base, pm.Delta.Depth+1
	}
	have := map[string]bool{}
	for _, ds := range sm.Datasets {
		have[ds.Name] = true
	}
	for _, ds := range pm.Datasets {
		if !have[ds.Name] {
			d.Dropped = append(d.Dropped, spec.DroppedDataset{Name: ds.Name, Kind: ds.Kind, Namespace: ds.Namespace, Object: ds.Object})
		}
	}
	w, err := bundle.Create(out, bundle.Options{Tool: spec.Tool{Name: "imbundle", Version: "test"}, Delta: d})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	for _, s := range sm.Sources {
		if err := w.AddSource(s); err != nil {
			t.Fatal(err)
		}
	}
	w.AddObjects(sm.Objects...)
	sums := map[string]spec.DatasetDelta{}
	for i := range sm.Datasets {
		sds := &sm.Datasets[i]
		var pds *spec.Dataset
		for j := range pm.Datasets {
			if pm.Datasets[j].Name == sds.Name {
				pds = &pm.Datasets[j]
			}
		}
		sums[sds.Name] = writeDeltaDataset(t, w, parent, state, pds, sds)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return sums
}

// EntityKey names the columns whose values name an entity of ds (SPEC.md
// §14.1): a table's primary key, a collection's _id, a Redis key; none
// for a dataset without entities.
func EntityKey(ds *spec.Dataset) []string {
	switch ds.Kind {
	case spec.KindTable:
		return ds.PrimaryKey
	case spec.KindCollection:
		return []string{"_id"}
	case spec.KindKeyspace:
		if l := ds.Options["layout"]; l == "" || l == redistype.LayoutName {
			return []string{"key"}
		}
	}
	return nil
}

// entity is one entity's rows, in the order the bundle holds them.
type entity struct {
	key  string
	rows []arrow.RecordBatch // one row each
	sig  string              // every column's value of every row
}

func writeDeltaDataset(t testing.TB, w *bundle.Writer, parent, state *bundle.Reader, pds, sds *spec.Dataset) spec.DatasetDelta {
	t.Helper()
	schema := schemaOf(t, state, sds, parent, pds)
	key := EntityKey(sds)
	dw, err := w.CreateDataset(*sds, schema)
	if err != nil {
		t.Fatal(err)
	}
	dd := spec.DatasetDelta{State: sds.Digest}
	var removed bundle.Digest
	whole := pds == nil || len(key) == 0 || pds.DDL != sds.DDL || !sameColumns(pds.Columns, sds.Columns)
	if whole {
		if pds != nil && len(key) == 0 && pds.Digest.Sum == sds.Digest.Sum && pds.Digest.Rows == sds.Digest.Rows {
			dd.Change = spec.ChangeNone
		} else {
			dd.Change = spec.ChangeWhole
			if err := state.EachRecord(sds, func(rec arrow.RecordBatch) error { return dw.Write(rec) }); err != nil {
				t.Fatal(err)
			}
		}
		dd.Removed = removed.Spec()
		dw.SetDelta(dd)
		if err := dw.Close(); err != nil {
			t.Fatal(err)
		}
		return dd
	}
	before, _ := entities(t, parent, pds, key)
	after, order := entities(t, state, sds, key)
	var named []string
	for k, e := range after {
		if b, ok := before[k]; !ok {
			dd.Inserted++
			named = append(named, k)
		} else if b.sig != e.sig {
			dd.Changed++
			named = append(named, k)
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			dd.Removals++
			named = append(named, k)
		}
	}
	sort.Strings(named) // deleted keys in key order
	dd.Key = key
	if len(named) == 0 {
		dd.Change, dd.Key = spec.ChangeNone, nil
	} else {
		dd.Change = spec.ChangeRows
		kidx := make([]int, len(key))
		var kfields []arrow.Field
		for i, k := range key {
			idx := schema.FieldIndices(k)
			if len(idx) != 1 {
				t.Fatalf("dataset %q: key column %q not in its schema", sds.Name, k)
			}
			kidx[i] = idx[0]
			kfields = append(kfields, schema.Field(idx[0]))
		}
		kschema := arrow.NewSchema(kfields, nil)
		kw, err := dw.CreateDeleted(kschema)
		if err != nil {
			t.Fatal(err)
		}
		isNamed := map[string]bool{}
		for _, k := range named {
			isNamed[k] = true
			e := after[k]
			if e == nil {
				e = before[k]
			}
			if b := before[k]; b != nil {
				for _, r := range b.rows {
					removed.AddRecord(r)
				}
			}
			r := e.rows[0]
			cols := make([]arrow.Array, len(kidx))
			for i, c := range kidx {
				cols[i] = r.Column(c)
			}
			kr := array.NewRecordBatch(kschema, cols, 1)
			if err := kw.Write(kr); err != nil {
				t.Fatal(err)
			}
		}
		if err := kw.Close(); err != nil {
			t.Fatal(err)
		}
		// The rows of new and changed entities, in the state's order.
		for _, k := range order {
			if !isNamed[k] {
				continue
			}
			for _, r := range after[k].rows {
				if err := dw.Write(r); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	dd.Removed = removed.Spec()
	dw.SetDelta(dd)
	if err := dw.Close(); err != nil {
		t.Fatal(err)
	}
	return dd
}

// entities reads ds's rows grouped by entity, and the entities' order.
func entities(t testing.TB, r *bundle.Reader, ds *spec.Dataset, key []string) (map[string]*entity, []string) {
	t.Helper()
	out := map[string]*entity{}
	var order []string
	err := r.EachRecord(ds, func(rec arrow.RecordBatch) error {
		var kidx []int
		for _, k := range key {
			idx := rec.Schema().FieldIndices(k)
			if len(idx) != 1 {
				return fmt.Errorf("dataset %q: no key column %q", ds.Name, k)
			}
			kidx = append(kidx, idx[0])
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			var kb, sig bytes.Buffer
			for _, c := range kidx {
				fmt.Fprintf(&kb, "%q\x00", rec.Column(c).ValueStr(i))
			}
			for c := 0; c < int(rec.NumCols()); c++ {
				fmt.Fprintf(&sig, "%q\x00", rec.Column(c).ValueStr(i))
			}
			k := kb.String()
			e := out[k]
			if e == nil {
				e = &entity{key: k}
				out[k] = e
				order = append(order, k)
			}
			one := rec.NewSlice(int64(i), int64(i+1))
			e.rows = append(e.rows, copyRecord(one))
			one.Release()
			e.sig += sig.String() + "\n"
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out, order
}

// copyRecord copies a record out of the part's buffers, which the reader
// reuses once the batch is done.
func copyRecord(rec arrow.RecordBatch) arrow.RecordBatch {
	cols := make([]arrow.Array, rec.NumCols())
	for i := range cols {
		c, err := array.Concatenate([]arrow.Array{rec.Column(i)}, memory.DefaultAllocator)
		if err != nil {
			panic(err)
		}
		cols[i] = c
	}
	return array.NewRecordBatch(rec.Schema(), cols, rec.NumRows())
}

// schemaOf is the Arrow schema of a dataset's parts, from whichever side
// has one.
func schemaOf(t testing.TB, r *bundle.Reader, ds *spec.Dataset, other *bundle.Reader, ods *spec.Dataset) *arrow.Schema {
	t.Helper()
	for _, side := range []struct {
		r  *bundle.Reader
		ds *spec.Dataset
	}{{r, ds}, {other, ods}} {
		if side.ds == nil || len(side.ds.Parts) == 0 {
			continue
		}
		pr, err := side.r.OpenPart(side.ds, 0)
		if err != nil {
			t.Fatal(err)
		}
		s := pr.Schema()
		pr.Close()
		return s
	}
	// Empty on both sides: the layout's own schema, for the layouts that
	// have one.
	switch {
	case ds.Kind == spec.KindKeyspace && ds.Options["layout"] == redistype.GroupsLayoutName:
		return redistype.GroupsSchema
	case ds.Kind == spec.KindKeyspace:
		return redistype.Schema
	}
	t.Fatalf("dataset %q has no part on either side: a hand-made delta needs a schema", ds.Name)
	return nil
}

func sameColumns(a, b []spec.Column) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || a[i].Type != b[i].Type || a[i].Native != b[i].Native || strings.Join(mapPairs(a[i].Metadata), ",") != strings.Join(mapPairs(b[i].Metadata), ",") {
			return false
		}
	}
	return true
}

func mapPairs(m map[string]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}
