package mongo

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/internal/mongotype"
	"github.com/imbundle/imbundle/internal/scheme"
	"github.com/imbundle/imbundle/spec"
)

// systemDatabases are never exported when the URL names no database.
var systemDatabases = map[string]bool{"admin": true, "local": true, "config": true}

func (s *source) Describe(ctx context.Context) (*exporter.Description, error) {
	version, ferretDB := serverVersion(ctx, s.client)
	s.counts = !ferretDB
	desc := &exporter.Description{
		Source: spec.Source{
			Engine:        "mongodb",
			URL:           s.redacted,
			ServerVersion: version,
			Database:      s.database,
			Snapshot:      map[string]string{"consistent": "false", "read": "one cursor per collection, " + readOrder(s.opts.Param("sort"))},
			ExportedAt:    time.Now().UTC(),
		},
		Notes: []string{"MongoDB: documents written during the export may or may not be in the bundle (no snapshot across collections); quiesce writers for a point-in-time copy"},
	}
	dbs := []string{s.database}
	if s.database != "" {
		if err := s.checkDatabase(ctx); err != nil {
			return nil, err
		}
	}
	if s.database == "" {
		names, err := s.client.ListDatabaseNames(ctx, bson.D{})
		if err != nil {
			return nil, fmt.Errorf("%w (name a database in the URL: mongodb://host:port/DB)", mongotype.Step(s.redacted, "listDatabases", err))
		}
		dbs = dbs[:0]
		for _, n := range names {
			switch {
			case systemDatabases[n]:
			case n == StateDatabase:
				desc.Notes = append(desc.Notes, "MongoDB: database "+n+" not exported (imbundle's import state; name it in the URL to export it)")
			default:
				dbs = append(dbs, n)
			}
		}
		sort.Strings(dbs)
	}
	f := s.opts.Filter
	for _, db := range dbs {
		colls, views, notes, err := s.collections(ctx, db)
		if err != nil {
			return nil, err
		}
		desc.Notes = append(desc.Notes, notes...)
		var picked []spec.Object
		for _, v := range views {
			if f.Keep(db, v.Name) {
				picked = append(picked, v)
			}
		}
		desc.Objects = append(desc.Objects, mongotype.OrderViews(picked)...)
		for _, c := range colls {
			if !f.Keep(db, c.name) {
				continue
			}
			ds, err := s.dataset(ctx, db, c)
			if err != nil {
				return nil, err
			}
			if ds.Spec.Filter, err = f.RowFilter(db, c.name); err != nil {
				return nil, err
			}
			if _, err := queryOf(&ds.Spec); err != nil {
				return nil, err
			}
			desc.Datasets = append(desc.Datasets, ds)
		}
	}
	return desc, nil
}

// checkDatabase refuses a database the URL names that the server does not
// hold (or that holds no collection at all): a mistyped name would
// otherwise export an empty bundle that looks like a success. It is a
// usage error (exit 2), as MySQL's unknown database is.
func (s *source) checkDatabase(ctx context.Context) error {
	names, err := s.client.Database(s.database).ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return mongotype.Step(s.redacted, "listCollections on "+s.database, err)
	}
	if len(names) > 0 {
		return nil
	}
	msg := fmt.Sprintf("%s: database %q does not exist or holds no collections; check the database name in the URL", s.redacted, s.database)
	dbs, err := s.client.ListDatabaseNames(ctx, bson.D{})
	if err != nil {
		return scheme.Usagef("%s (listDatabases: %v)", msg, err)
	}
	var user []string
	for _, n := range dbs {
		if !systemDatabases[n] && n != StateDatabase {
			user = append(user, n)
		}
	}
	sort.Strings(user)
	if len(user) == 0 {
		return scheme.Usagef("%s (the server holds no databases but admin, local and config)", msg)
	}
	return scheme.Usagef("%s (the server holds: %s)", msg, strings.Join(user, ", "))
}

type collInfo struct {
	name, typ string
	options   bson.Raw
}

// collections lists the collections of db that hold documents and its
// views (as manifest objects); system collections are left out, and types
// imbundle does not know are named in the notes.
func (s *source) collections(ctx context.Context, db string) ([]collInfo, []spec.Object, []string, error) {
	cur, err := s.client.Database(db).ListCollections(ctx, bson.D{})
	if err != nil {
		return nil, nil, nil, mongotype.Step(s.redacted, "listCollections on "+db, err)
	}
	defer cur.Close(ctx)
	var out []collInfo
	var views []spec.Object
	var notes []string
	for cur.Next(ctx) {
		name, _ := cur.Current.Lookup("name").StringValueOK()
		typ, _ := cur.Current.Lookup("type").StringValueOK()
		if typ == "" {
			typ = "collection"
		}
		opts, _ := cur.Current.Lookup("options").DocumentOK()
		switch {
		case strings.HasPrefix(name, "system.") || name == LegacyProgressCollection:
			continue
		case typ == "view":
			v, err := viewObject(db, name, opts)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("%s: view %s.%s: %w", s.redacted, db, name, err)
			}
			views = append(views, v)
			continue
		case typ != "collection" && typ != "timeseries":
			notes = append(notes, fmt.Sprintf("MongoDB: %s.%s of type %q not exported", db, name, typ))
			continue
		}
		out = append(out, collInfo{name: name, typ: typ, options: append(bson.Raw(nil), opts...)})
	}
	if err := cur.Err(); err != nil {
		return nil, nil, nil, mongotype.Step(s.redacted, "listCollections on "+db, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, views, notes, nil
}

// viewObject is the manifest object of the view db.name, from its
// listCollections options (viewOn, pipeline, collation).
func viewObject(db, name string, opts bson.Raw) (spec.Object, error) {
	def, err := mongotype.ViewDefinition(opts)
	if err != nil {
		return spec.Object{}, err
	}
	return spec.Object{Kind: spec.ObjectView, Namespace: db, Name: name, Definition: def}, nil
}

func (s *source) dataset(ctx context.Context, db string, c collInfo) (exporter.Dataset, error) {
	coll := s.client.Database(db).Collection(c.name)
	cur, err := coll.Indexes().List(ctx)
	if err != nil {
		return exporter.Dataset{}, mongotype.Step(s.redacted, "listIndexes on "+db+"."+c.name, err)
	}
	info := mongotype.Collection{Type: c.typ, Options: c.options}
	for cur.Next(ctx) {
		ix, err := mongotype.CleanIndexSpec(cur.Current)
		if err != nil {
			cur.Close(ctx)
			return exporter.Dataset{}, fmt.Errorf("%s.%s: index spec %s: %w", db, c.name, cur.Current, err)
		}
		info.Indexes = append(info.Indexes, ix)
	}
	err = cur.Err()
	cur.Close(ctx)
	if err != nil {
		return exporter.Dataset{}, mongotype.Step(s.redacted, "listIndexes on "+db+"."+c.name, err)
	}
	opts, err := info.ToOptions()
	if err != nil {
		return exporter.Dataset{}, fmt.Errorf("%s.%s: %w", db, c.name, err)
	}
	if s.counts {
		if n, err := coll.EstimatedDocumentCount(ctx); err == nil {
			s.opts.Progress.Estimate(db+"."+c.name, n, 0)
		}
	}
	return exporter.Dataset{
		Spec: spec.Dataset{
			Name:       db + "." + c.name,
			Kind:       spec.KindCollection,
			Namespace:  db,
			Object:     c.name,
			PrimaryKey: mongotype.PrimaryKey,
			Options:    opts,
		},
		Schema: mongotype.Schema(),
	}, nil
}

func readOrder(sort string) string {
	if sort == "_id" {
		return "sorted by _id"
	}
	return "natural order"
}
