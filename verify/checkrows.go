package verify

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/convert"
	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/internal/mongotype"
	"github.com/imbundle/imbundle/spec"
)

// rowsOf is what a mapping's checks read: the datasets of a bundle, or
// those of a live database (ChecksAgainst), by the same names.
type rowsOf interface {
	manifest() *spec.Manifest
	each(ctx context.Context, ds *spec.Dataset, fn func(arrow.RecordBatch) error) error
}

// bundleRows reads a bundle's parts in order, each checked as it is read.
type bundleRows struct{ r *bundle.Reader }

func (b bundleRows) manifest() *spec.Manifest { return b.r.Manifest() }

func (b bundleRows) each(ctx context.Context, ds *spec.Dataset, fn func(arrow.RecordBatch) error) (err error) {
	fn, done := readFailures(fn)
	defer func() { err = done(err) }()
	for p := range ds.Parts {
		if err := ctx.Err(); err != nil {
			return err
		}
		pr, err := b.r.OpenPart(ds, p)
		if err != nil {
			return err
		}
		err = bundle.Drain(pr, fn)
		pr.Close()
		if err != nil {
			return fmt.Errorf("dataset %s part %d: %w", ds.Name, p, err)
		}
	}
	return nil
}

// targetRows reads a live database through its exporter, as an export
// would: the datasets its Describe gives, read by Read. The documents of a
// MongoDB database show the columns their _id was made of as fields too
// (keyFields), so that checks written for a bundle's tables read the
// collections an import made of them.
type targetRows struct {
	src  exporter.Source
	m    spec.Manifest
	keys map[string][]string // a collection's name -> the primary key of the bundle's table of that name
}

func newTargetRows(ctx context.Context, src exporter.Source, b *spec.Manifest) (*targetRows, error) {
	desc, err := src.Describe(ctx)
	if err != nil {
		return nil, err
	}
	t := &targetRows{src: src, m: spec.Manifest{Sources: []spec.Source{desc.Source}}, keys: map[string][]string{}}
	for _, ds := range b.Datasets {
		if ds.Kind == spec.KindTable && len(ds.PrimaryKey) > 0 {
			t.keys[ds.Object] = ds.PrimaryKey
		}
	}
	for _, d := range desc.Datasets {
		ds := d.Spec
		ds.Source = desc.Source.ID
		ds.Columns = bundle.ColumnsOf(d.Schema)
		t.m.Datasets = append(t.m.Datasets, ds)
	}
	return t, nil
}

func (t *targetRows) manifest() *spec.Manifest { return &t.m }

func (t *targetRows) each(ctx context.Context, ds *spec.Dataset, fn func(arrow.RecordBatch) error) (err error) {
	fn, done := readFailures(fn)
	defer func() { err = done(err) }()
	if t.m.Sources[0].Engine == "mongodb" {
		fn = keyFields(t.keys[ds.Object], fn)
	}
	if err := t.src.Read(ctx, ds, fn); err != nil {
		return fmt.Errorf("dataset %s on the target: %w", ds.Name, err)
	}
	return nil
}

// ChecksAgainst evaluates the mapping's checks over a live database's
// rows, as Checks does over a bundle's: the datasets are those an export
// of src would write, under the same names (db.table, db.collection,
// redis.dbN), so that a profile's checks of an IM site's invariants run
// on the site a bundle was imported into. The reads are the exporter's
// (src's snapshot, where it has one).
//
// A table converted to a collection (§11.1) keeps its primary key in _id
// (a single column's value, or a document of several): b, the bundle's
// manifest, names each table's key, and a document of a collection of
// that name without such a field gets it from _id.
func ChecksAgainst(ctx context.Context, src exporter.Source, b *spec.Manifest, m *convert.Mapping, o RelationOptions, each func(CheckResult)) ([]CheckResult, error) {
	in, err := newTargetRows(ctx, src, b)
	if err != nil {
		return nil, err
	}
	return runChecks(newChecker(ctx, in, o), m, each)
}

// keyFields hands fn the documents with the key columns pk as fields
// where they are missing: from _id's field of that name when _id is a
// document, or from _id itself for a key of one column.
func keyFields(pk []string, fn func(arrow.RecordBatch) error) func(arrow.RecordBatch) error {
	if len(pk) == 0 {
		return fn
	}
	return func(rec arrow.RecordBatch) error {
		rows, err := mongotype.RowsOf(rec)
		if err != nil {
			return err
		}
		b := mongotype.NewBuilder(memory.DefaultAllocator)
		defer b.Release()
		for i := 0; i < rows.Len(); i++ {
			if err := b.Append(withKeyFields(rows.Doc(i), pk)); err != nil {
				return err
			}
		}
		out := b.NewRecord()
		defer out.Release()
		return fn(out)
	}
}

func withKeyFields(doc bson.Raw, pk []string) bson.Raw {
	id := doc.Lookup("_id")
	var add []bsoncore.Element
	for _, col := range pk {
		if _, err := doc.LookupErr(col); err == nil {
			continue
		}
		if sub, ok := id.DocumentOK(); ok {
			if v, err := sub.LookupErr(col); err == nil {
				add = append(add, bsoncore.AppendValueElement(nil, col, bsoncore.Value{Type: bsoncore.Type(v.Type), Data: v.Value}))
			}
		} else if len(pk) == 1 && id.Type != 0 {
			add = append(add, bsoncore.AppendValueElement(nil, col, bsoncore.Value{Type: bsoncore.Type(id.Type), Data: id.Value}))
		}
	}
	if len(add) == 0 {
		return doc
	}
	out := append([]byte(nil), doc[:len(doc)-1]...)
	for _, e := range add {
		out = append(out, e...)
	}
	out = append(out, 0)
	return bson.Raw(bsoncore.UpdateLength(out, 0, int32(len(out))))
}
