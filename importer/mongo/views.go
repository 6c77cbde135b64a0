package mongo

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/mongotype"
	"github.com/imbundle/imbundle/spec"
)

// plannedView is a view of the bundle (a manifest object) to create on the
// target after the data (SPEC.md §9.5).
type plannedView struct {
	db, name string
	def      bson.Raw
	present  bool // the target already holds this very view: nothing to do
	drop     bool // the target holds something else by that name: drop it first
}

func (v plannedView) full() string { return v.db + "." + v.name }

// planViews maps the bundle's views onto the target and checks each name:
// a view already defined the same way is left as it is (a resumed or
// repeated import), anything else by that name is refused in mode fail
// (returned in busy) and replaced in the other modes.
func (t *target) planViews(ctx context.Context, p *importer.Plan) (views []plannedView, busy []string, err error) {
	if p.Manifest == nil {
		return nil, nil, nil
	}
	type nsKey struct{ source, ns string }
	sources, namespaces := map[string]bool{}, map[nsKey]bool{}
	for _, it := range p.Items {
		if it.Source != nil {
			sources[it.Source.ID] = true
			namespaces[nsKey{it.Source.ID, it.Dataset.Namespace}] = true
		}
	}
	for _, o := range p.Manifest.Objects {
		if o.Kind != spec.ObjectView || !sources[o.Source] {
			continue
		}
		if len(t.opts.Datasets) > 0 && !namespaces[nsKey{o.Source, o.Namespace}] {
			continue // datasets were picked, and none of this database
		}
		def, _, err := mongotype.ParseView(o.Definition)
		if err != nil {
			return nil, nil, fmt.Errorf("view %s.%s in the manifest: %w", o.Namespace, o.Name, err)
		}
		v := plannedView{db: t.targetDB(o.Namespace), name: o.Name, def: def}
		cur, err := t.client.Database(v.db).ListCollections(ctx, bson.D{{Key: "name", Value: v.name}})
		if err != nil {
			return nil, nil, mongotype.Step(t.redacted, "listCollections on "+v.db, err)
		}
		var info bson.Raw
		if cur.Next(ctx) {
			info = append(bson.Raw(nil), cur.Current...)
		}
		err = cur.Err()
		cur.Close(ctx)
		if err != nil {
			return nil, nil, mongotype.Step(t.redacted, "listCollections on "+v.db, err)
		}
		if info != nil {
			typ, _ := info.Lookup("type").StringValueOK()
			opts, _ := info.Lookup("options").DocumentOK()
			have, herr := mongotype.ViewDefinition(bson.Raw(opts))
			switch {
			case typ == "view" && herr == nil && have == o.Definition:
				v.present = true
			case p.Mode == importer.ModeFail:
				busy = append(busy, v.full())
			default:
				v.drop = true
			}
		}
		views = append(views, v)
	}
	return views, busy, nil
}

// targetDB is the database a bundle namespace loads into: the URL's, else
// the namespace after --map.
func (t *target) targetDB(ns string) string {
	if t.database != "" {
		return t.database
	}
	if n, ok := t.opts.Map[ns]; ok {
		return n
	}
	return ns
}

// createViews creates the planned views in manifest order (a view after
// the views it reads), after every collection is loaded. Each failure is
// returned naming the view and its definition.
func (t *target) createViews(ctx context.Context) error {
	var errs []error
	for _, v := range t.views {
		if v.present {
			continue
		}
		db := t.client.Database(v.db)
		if v.drop {
			if err := db.Collection(v.name).Drop(ctx); err != nil {
				errs = append(errs, mongotype.Step(t.redacted, "drop "+v.full()+" to recreate it as the bundle's view", err))
				continue
			}
		}
		cmd, err := mongotype.CreateView(v.name, v.def)
		if err == nil {
			err = db.RunCommand(ctx, cmd).Err()
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("view %s %s: %w", v.full(), v.def, err))
		}
	}
	return errors.Join(errs...)
}
