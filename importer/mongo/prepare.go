package mongo

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/mongotype"
)

// Prepare names each collection on the target, enforces the mode and
// creates the collections (without validators: those come after the data).
//
// Target database: the URL's when it names one, else the dataset's
// namespace after --map / --ns-from/--ns-to. Naming both, differently, is
// refused as ambiguous.
// Place sends every dataset to the database the URL names, else to its
// own (after --map), and refuses the state database .
func (t *target) Place(items []*importer.Item) error {
	for _, it := range items {
		if t.database != "" {
			if n, mapped := t.opts.Map[it.Dataset.Namespace]; mapped && n != t.database {
				return fmt.Errorf("dataset %q: the target URL names database %q but the namespace mapping sends %q to %q; give one of them", it.Dataset.Name, t.database, it.Dataset.Namespace, n)
			}
			it.Namespace = t.database
		}
		if it.Namespace == "" {
			return fmt.Errorf("dataset %q has no database; name one in the target URL (mongodb://host:port/DB)", it.Dataset.Name)
		}
		if it.Namespace == t.marks.coll.Database().Name() {
			return fmt.Errorf("dataset %q would load into %s, the database that holds imbundle's resume state; give another with --param %s=NAME", it.Dataset.Name, it.Namespace, ParamStateDB)
		}
	}
	return nil
}

func (t *target) Prepare(ctx context.Context, p *importer.Plan) error {
	if p.Log == nil {
		p.Log = t.opts.Log // never nil: importer.Open defaults it
	}
	for _, it := range p.Items {
		info, err := mongotype.CollectionFromOptions(it.Dataset.Options)
		if err != nil {
			return fmt.Errorf("dataset %q: %w", it.Dataset.Name, err)
		}
		t.state[it] = &itemState{coll: t.collection(it), info: info, markers: p.ModeOf(it) != importer.ModeAppend}
	}

	views, busyViews, err := t.planViews(ctx, p)
	if err != nil {
		return err
	}
	t.views = views

	// Mode fail: refuse every non-empty collection this bundle did not
	// begin loading, and every name a view of the bundle would take that
	// holds something else, before creating or writing anything.
	if p.Mode == importer.ModeFail {
		var busy []string
		checked := map[*mongo.Collection]bool{}
		for _, it := range p.Items {
			st := t.state[it]
			if checked[st.coll] || p.ModeOf(it) != importer.ModeFail {
				continue // a union's collection, checked once (importer.Item.United)
			}
			checked[st.coll] = true
			n, err := st.coll.CountDocuments(ctx, bson.D{}, options.Count().SetLimit(1))
			if err != nil {
				return mongotype.Step(t.redacted, "count the documents of "+it.Namespace+"."+it.Object, err)
			}
			if n == 0 {
				continue
			}
			ms, err := t.marks.state(ctx, p.BundleID, it.Namespace, it.Object, collectionPart)
			if err != nil {
				return mongotype.Step(t.redacted, "read the resume marker of "+it.Namespace+"."+it.Object, err)
			}
			if ms == "" {
				busy = append(busy, it.Namespace+"."+it.Object)
			} else {
				p.Log.Info("resuming an interrupted import of this bundle", "collection", it.Namespace+"."+it.Object)
			}
		}
		for _, v := range busyViews {
			busy = append(busy, v+" (the bundle's view)")
		}
		if len(busy) > 0 {
			sort.Strings(busy)
			return &importer.NonEmptyError{Kind: "collection", Objects: busy}
		}
	}
	if p.DryRun {
		return nil // every check above passed; what follows writes
	}

	dropped := map[[2]string]bool{}
	for _, it := range p.Items {
		st := t.state[it]
		db := st.coll.Database()
		if p.ModeOf(it) == importer.ModeReplace && !dropped[[2]string{it.Namespace, it.Object}] {
			dropped[[2]string{it.Namespace, it.Object}] = true // a union's collection is dropped once
			if err := st.coll.Drop(ctx); err != nil {
				return mongotype.Step(t.redacted, "drop "+it.Namespace+"."+it.Object, err)
			}
			if err := t.marks.clear(ctx, "", it.Namespace, it.Object); err != nil {
				return mongotype.Step(t.redacted, "clear the resume markers of "+it.Namespace+"."+it.Object, err)
			}
		}
		if err := createCollection(ctx, db, it.Object, st.info); err != nil {
			return mongotype.Step(t.redacted, it.Namespace+"."+it.Object, err)
		}
		if st.markers {
			if err := t.marks.set(ctx, p.BundleID, it.Namespace, it.Object, collectionPart, stateStarted, 0); err != nil {
				return mongotype.Step(t.redacted, "write the resume marker of "+it.Namespace+"."+it.Object, err)
			}
		}
	}
	return nil
}

// createCollection creates coll with the exported options (capped, time
// series, collation, clustered index, ...) unless it exists.
func createCollection(ctx context.Context, db *mongo.Database, coll string, info mongotype.Collection) error {
	names, err := db.ListCollectionNames(ctx, bson.D{{Key: "name", Value: coll}})
	if err != nil {
		return fmt.Errorf("listCollections: %w", err)
	}
	if len(names) > 0 {
		return nil
	}
	create, _, err := mongotype.SplitOptions(info.Options)
	if err != nil {
		return fmt.Errorf("collection options: %w", err)
	}
	idx, cmd := bsoncore.AppendDocumentStart(nil)
	cmd = bsoncore.AppendStringElement(cmd, "create", coll)
	if len(create) > 0 {
		els, err := create.Elements()
		if err != nil {
			return err
		}
		for _, el := range els {
			cmd = append(cmd, el...)
		}
	}
	cmd, _ = bsoncore.AppendDocumentEnd(cmd, idx)
	err = db.RunCommand(ctx, bson.Raw(cmd)).Err()
	var ce mongo.CommandError
	if errors.As(err, &ce) && ce.Code == 48 { // NamespaceExists: created meanwhile
		return nil
	}
	if err != nil {
		return fmt.Errorf("create with options %s: %w", create, err)
	}
	return nil
}
