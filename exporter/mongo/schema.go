package mongo

import (
	"context"
	"fmt"
	"sort"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/internal/mongotype"
	"github.com/imbundle/imbundle/spec"
)

// DiffSchema compares what the target holds besides the documents with
// what the bundle recorded (exporter.SchemaDiffer, for verify --against):
// for each collection its type, its options (validator, validationLevel,
// validationAction, capped, collation, ...) and its index specs by name
// (v and ns ignored, as the exporter drops them), and the bundle's views.
// Each difference names the object and shows both sides as canonical
// Extended JSON. Field order at the top of an options document or an
// index spec is not compared (servers differ in it); within a value, such
// as an index's key, it is.
func (s *source) DiffSchema(ctx context.Context, m *spec.Manifest, dss []*spec.Dataset) ([]string, error) {
	var diffs []string
	// Where each source database of the bundle went, for its views.
	type nsKey struct{ source, ns string }
	targetDB := map[nsKey]string{}
	orig := map[string]*spec.Dataset{}
	if m != nil {
		for i := range m.Datasets {
			orig[m.Datasets[i].Name] = &m.Datasets[i]
		}
	}
	for _, ds := range dss {
		if ds.Kind != spec.KindCollection {
			continue
		}
		db := s.databaseOf(ds)
		if o := orig[ds.Name]; o != nil {
			targetDB[nsKey{o.Source, o.Namespace}] = db
		}
		name := db + "." + ds.Object
		want, err := mongotype.CollectionFromOptions(ds.Options)
		if err != nil {
			return diffs, fmt.Errorf("dataset %q: %w", ds.Name, err)
		}
		typ, opts, found, err := s.collectionInfo(ctx, db, ds.Object)
		if err != nil {
			return diffs, err
		}
		if !found {
			diffs = append(diffs, fmt.Sprintf("collection %s: not on the target", name))
			continue
		}
		if typ != want.Type {
			diffs = append(diffs, fmt.Sprintf("collection %s: type %s on the target, %s in the bundle", name, typ, want.Type))
			continue
		}
		for _, d := range compareFields(want.Options, opts) {
			diffs = append(diffs, fmt.Sprintf("collection %s: option %s", name, d))
		}
		have, err := s.indexes(ctx, db, ds.Object)
		if err != nil {
			return diffs, err
		}
		diffs = append(diffs, compareIndexes(name, want.Indexes, have)...)
	}
	if m == nil {
		return diffs, nil
	}
	for _, o := range m.Objects {
		if o.Kind != spec.ObjectView {
			continue
		}
		db, ok := targetDB[nsKey{o.Source, o.Namespace}]
		if !ok {
			continue // none of this database's collections is compared
		}
		name := db + "." + o.Name
		typ, opts, found, err := s.collectionInfo(ctx, db, o.Name)
		switch {
		case err != nil:
			return diffs, err
		case !found:
			diffs = append(diffs, fmt.Sprintf("view %s: not on the target (bundle: %s)", name, o.Definition))
		case typ != "view":
			diffs = append(diffs, fmt.Sprintf("view %s: a %s on the target (bundle: %s)", name, typ, o.Definition))
		default:
			def, err := mongotype.ViewDefinition(opts)
			if err != nil {
				def = fmt.Sprintf("%s (%v)", opts, err)
			}
			if def != o.Definition {
				diffs = append(diffs, fmt.Sprintf("view %s: target %s, bundle %s", name, def, o.Definition))
			}
		}
	}
	return diffs, nil
}

// collectionInfo is listCollections' type and options of db.name.
func (s *source) collectionInfo(ctx context.Context, db, name string) (typ string, opts bson.Raw, found bool, err error) {
	cur, err := s.client.Database(db).ListCollections(ctx, bson.D{{Key: "name", Value: name}})
	if err != nil {
		return "", nil, false, mongotype.Step(s.redacted, "listCollections on "+db, err)
	}
	defer cur.Close(ctx)
	if !cur.Next(ctx) {
		return "", nil, false, mongotype.Step(s.redacted, "listCollections on "+db, cur.Err())
	}
	typ, _ = cur.Current.Lookup("type").StringValueOK()
	if typ == "" {
		typ = "collection"
	}
	o, _ := cur.Current.Lookup("options").DocumentOK()
	return typ, append(bson.Raw(nil), o...), true, nil
}

// indexes lists db.coll's index specs as the exporter records them.
func (s *source) indexes(ctx context.Context, db, coll string) ([]bson.Raw, error) {
	cur, err := s.client.Database(db).Collection(coll).Indexes().List(ctx)
	if err != nil {
		return nil, mongotype.Step(s.redacted, "listIndexes on "+db+"."+coll, err)
	}
	defer cur.Close(ctx)
	var out []bson.Raw
	for cur.Next(ctx) {
		ix, err := mongotype.CleanIndexSpec(cur.Current)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: index spec %s: %w", db, coll, cur.Current, err)
		}
		out = append(out, ix)
	}
	return out, mongotype.Step(s.redacted, "listIndexes on "+db+"."+coll, cur.Err())
}

func compareIndexes(coll string, want, have []bson.Raw) []string {
	byName := func(list []bson.Raw) map[string]bson.Raw {
		m := map[string]bson.Raw{}
		for _, ix := range list {
			m[mongotype.IndexName(ix)] = ix
		}
		return m
	}
	w, h := byName(want), byName(have)
	var names []string
	for n := range w {
		names = append(names, n)
	}
	for n := range h {
		if _, ok := w[n]; !ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var diffs []string
	for _, n := range names {
		wi, inBundle := w[n]
		hi, onTarget := h[n]
		switch {
		case !onTarget:
			diffs = append(diffs, fmt.Sprintf("collection %s: index %s not on the target (bundle: %s)", coll, n, extJSON(wi)))
		case !inBundle:
			diffs = append(diffs, fmt.Sprintf("collection %s: index %s on the target is not in the bundle (target: %s)", coll, n, extJSON(hi)))
		default:
			for _, d := range compareFields(wi, hi) {
				diffs = append(diffs, fmt.Sprintf("collection %s: index %s: %s", coll, n, d))
			}
		}
	}
	return diffs
}

// compareFields compares two documents field by field, ignoring the order
// of their top-level fields; each difference reads "NAME: target X,
// bundle Y" (absent for a missing field).
func compareFields(bundle, target bson.Raw) []string {
	fields := func(d bson.Raw) (map[string]string, []string) {
		m := map[string]string{}
		var keys []string
		els, _ := d.Elements()
		for _, el := range els {
			k := el.Key()
			m[k] = extJSONValue(el.Value())
			keys = append(keys, k)
		}
		return m, keys
	}
	b, bk := fields(bundle)
	t, tk := fields(target)
	var keys []string
	seen := map[string]bool{}
	for _, k := range append(bk, tk...) {
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	var diffs []string
	for _, k := range keys {
		bv, inB := b[k]
		tv, inT := t[k]
		if inB && inT && bv == tv {
			continue
		}
		if !inB {
			bv = "absent"
		}
		if !inT {
			tv = "absent"
		}
		diffs = append(diffs, fmt.Sprintf("%s: target %s, bundle %s", k, tv, bv))
	}
	return diffs
}

func extJSON(d bson.Raw) string {
	js, err := bson.MarshalExtJSON(d, true, false)
	if err != nil {
		return d.String()
	}
	return string(js)
}

// extJSONValue renders one value as canonical Extended JSON (wrapped in a
// document, since a bare value has no Extended JSON form of its own).
func extJSONValue(v bson.RawValue) string {
	js, err := bson.MarshalExtJSON(bson.D{{Key: "v", Value: v}}, true, false)
	if err != nil {
		return v.String()
	}
	return string(js[len(`{"v":`) : len(js)-1])
}
