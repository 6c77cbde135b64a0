package mongo_test

import (
	"context"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/testenv"
	"github.com/imbundle/imbundle/verify"
)

// schemaDiffs runs verify's schema comparison of the bundle at path with
// the database at url.
func schemaDiffs(t *testing.T, path, url string) []string {
	t.Helper()
	ctx := context.Background()
	r, err := bundle.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	src, err := exporter.Open(ctx, url, exporter.Options{Log: testLog(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	diffs, ok, err := verify.Schema(ctx, r, src, verify.AgainstOptions{Engine: "mongodb"})
	if err != nil || !ok {
		t.Fatalf("verify.Schema: ok %v, %v", ok, err)
	}
	return diffs
}

// TestSchemaDrift: verify --against compares index specs by name (a
// dropped, an added and a changed index are each named) besides the
// documents.
func TestSchemaDrift(t *testing.T) {
	ctx := context.Background()
	surl, sdb := testenv.MongoDatabase(t, "drift_src")
	c := sdb.Collection("people")
	if _, err := c.InsertMany(ctx, []any{bson.D{{Key: "_id", Value: 1}, {Key: "name", Value: "a"}, {Key: "mail", Value: "a@x"}}, bson.D{{Key: "_id", Value: 2}, {Key: "name", Value: "b"}, {Key: "mail", Value: "b@x"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Indexes().CreateMany(ctx, []mongo.IndexModel{
		{Keys: bson.D{{Key: "name", Value: 1}}, Options: options.Index().SetName("by_name")},
		{Keys: bson.D{{Key: "mail", Value: 1}}, Options: options.Index().SetName("by_mail").SetUnique(true)},
	}); err != nil {
		t.Fatal(err)
	}
	path := exportBundle(t, surl, exporter.Options{})
	url, db := testenv.MongoDatabase(t, "drift_dst")
	if _, _, err := importBundle(t, path, url, importer.Options{}); err != nil {
		t.Fatal(err)
	}
	if d := schemaDiffs(t, path, url); len(d) != 0 {
		t.Fatalf("schema differences right after the import: %q", d)
	}

	tc := db.Collection("people")
	if err := tc.Indexes().DropOne(ctx, "by_name"); err != nil {
		t.Fatal(err)
	}
	if err := tc.Indexes().DropOne(ctx, "by_mail"); err != nil {
		t.Fatal(err)
	}
	if _, err := tc.Indexes().CreateMany(ctx, []mongo.IndexModel{
		{Keys: bson.D{{Key: "mail", Value: 1}}, Options: options.Index().SetName("by_mail")}, // no longer unique
		{Keys: bson.D{{Key: "name", Value: -1}}, Options: options.Index().SetName("extra")},
	}); err != nil {
		t.Fatal(err)
	}
	diffs := schemaDiffs(t, path, url)
	all := strings.Join(diffs, "\n")
	for _, want := range []string{
		db.Name() + ".people: index by_name not on the target",
		db.Name() + ".people: index by_mail: unique: target absent, bundle true",
		db.Name() + ".people: index extra on the target is not in the bundle",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("schema differences lack %q:\n%s", want, all)
		}
	}
	if len(diffs) != 3 {
		t.Errorf("%d schema differences, want 3:\n%s", len(diffs), all)
	}
}

// TestSchemaDriftViews: a bundle's view that the target lacks is a schema
// difference naming it (FerretDB 1.24 cannot create views, so the import
// leaves them out; a server that can gets them dropped).
func TestSchemaDriftViews(t *testing.T) {
	path, _ := viewBundle(t, "src")
	url, db := testenv.MongoDatabase(t, "drift_views")
	if _, _, err := importBundle(t, path, url, importer.Options{}); err == nil {
		// The server created them: drop them to make the drift.
		for _, v := range []string{"recent_text", "recent"} {
			if err := db.Collection(v).Drop(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
	all := strings.Join(schemaDiffs(t, path, url), "\n")
	for _, v := range []string{"recent", "recent_text"} {
		if !strings.Contains(all, "view "+db.Name()+"."+v+": not on the target") {
			t.Errorf("schema differences do not name the missing view %s:\n%s", v, all)
		}
	}
}
