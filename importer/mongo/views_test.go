package mongo_test

import (
	"context"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/mongotype"
	"github.com/imbundle/imbundle/internal/testenv"
	"github.com/imbundle/imbundle/spec"
)

// viewBundle is a bundle of db.msg (3 documents) and two views, recent on
// msg and recent_text on recent, listed in creation order as the exporter
// writes them.
func viewBundle(t *testing.T, db string) (path string, views []spec.Object) {
	t.Helper()
	var docs []bson.Raw
	for i := 0; i < 3; i++ {
		d, _ := bson.Marshal(bson.D{{Key: "_id", Value: int32(i)}, {Key: "seq", Value: int32(i)}, {Key: "text", Value: "hi"}})
		docs = append(docs, d)
	}
	for _, v := range []struct{ name, on, stage string }{
		{"recent", "msg", `{"$match": {"seq": {"$gte": {"$numberInt": "1"}}}}`},
		{"recent_text", "recent", `{"$project": {"text": {"$numberInt": "1"}}}`},
	} {
		var opts bson.Raw
		if err := bson.UnmarshalExtJSON([]byte(`{"viewOn": "`+v.on+`", "pipeline": [`+v.stage+`]}`), true, &opts); err != nil {
			t.Fatal(err)
		}
		def, err := mongotype.ViewDefinition(opts)
		if err != nil {
			t.Fatal(err)
		}
		views = append(views, spec.Object{Kind: spec.ObjectView, Namespace: db, Name: v.name, Definition: def})
	}
	return writeBundleObjects(t, db, "msg", docs, mongotype.Collection{Type: "collection"}, views), views
}

// TestViewsAfterData: a bundle's views are created after the documents, in
// their order (a view on a view after it). FerretDB 1.24 cannot create
// views: there the import must load every document and then fail naming
// each view; a server that can (IMBUNDLE_TEST_MONGO) must hold them with
// the bundle's definitions.
func TestViewsAfterData(t *testing.T) {
	ctx := context.Background()
	path, views := viewBundle(t, "src")
	url, db := testenv.MongoDatabase(t, "views")
	_, _, err := importBundle(t, path, url, importer.Options{Mode: importer.ModeFail})
	if n, _ := db.Collection("msg").CountDocuments(ctx, bson.D{}); n != 3 {
		t.Errorf("%d documents loaded, want 3 (views come after the data)", n)
	}
	if err != nil {
		for _, v := range views {
			if !strings.Contains(err.Error(), "view "+db.Name()+"."+v.Name) {
				t.Errorf("import error does not name view %s: %v", v.Name, err)
			}
		}
		t.Logf("the server did not create the views (FerretDB 1.24 cannot): %v", err)
		return
	}
	for _, v := range views {
		cur, err := db.ListCollections(ctx, bson.D{{Key: "name", Value: v.Name}})
		if err != nil {
			t.Fatal(err)
		}
		if !cur.Next(ctx) {
			t.Fatalf("view %s not created", v.Name)
		}
		opts, _ := cur.Current.Lookup("options").DocumentOK()
		if got, _ := mongotype.ViewDefinition(bson.Raw(opts)); got != v.Definition || cur.Current.Lookup("type").StringValue() != "view" {
			t.Errorf("view %s on the target: %s, want %s", v.Name, cur.Current, v.Definition)
		}
		cur.Close(ctx)
	}
}

// TestViewNameTaken: in mode fail, a name a view of the bundle would take
// that holds something else on the target is refused before anything is
// written.
func TestViewNameTaken(t *testing.T) {
	ctx := context.Background()
	path, _ := viewBundle(t, "src")
	url, db := testenv.MongoDatabase(t, "views_taken")
	if _, err := db.Collection("recent").InsertOne(ctx, bson.D{{Key: "_id", Value: "mine"}}); err != nil {
		t.Fatal(err)
	}
	_, _, err := importBundle(t, path, url, importer.Options{Mode: importer.ModeFail})
	if err == nil || !strings.Contains(err.Error(), db.Name()+".recent (the bundle's view)") || strings.Contains(err.Error(), "recent_text") {
		t.Fatalf("import with a view's name taken: %v; want a refusal naming %s.recent only", err, db.Name())
	}
	if n, _ := db.Collection("msg").CountDocuments(ctx, bson.D{}); n != 0 {
		t.Errorf("refused import wrote %d documents", n)
	}
}

// TestValidatorAfterData: a collection's validator travels in its options
// and is applied after the documents, so one that predates it on the
// source (violating it) still loads. FerretDB 1.24 has no validators
// (collMod): there the import loads every document and fails naming the
// validator; a server that has them must hold it.
func TestValidatorAfterData(t *testing.T) {
	ctx := context.Background()
	var opts bson.Raw
	if err := bson.UnmarshalExtJSON([]byte(`{"validator": {"seq": {"$gte": {"$numberInt": "10"}}}, "validationLevel": "strict", "validationAction": "error"}`), true, &opts); err != nil {
		t.Fatal(err)
	}
	var docs []bson.Raw
	for _, seq := range []int32{1, 20} { // seq 1 predates the validator
		d, _ := bson.Marshal(bson.D{{Key: "_id", Value: seq}, {Key: "seq", Value: seq}})
		docs = append(docs, d)
	}
	path := writeBundle(t, "src", "checked", docs, mongotype.Collection{Type: "collection", Options: opts})
	url, db := testenv.MongoDatabase(t, "validator")
	_, _, err := importBundle(t, path, url, importer.Options{Mode: importer.ModeFail})
	if n, _ := db.Collection("checked").CountDocuments(ctx, bson.D{}); n != 2 {
		t.Errorf("%d documents loaded, want both (the validator comes after the data)", n)
	}
	if err != nil {
		if !strings.Contains(err.Error(), db.Name()+".checked: validator") {
			t.Errorf("import error does not name the validator: %v", err)
		}
		t.Logf("the server did not take the validator (FerretDB 1.24 cannot): %v", err)
		// verify --against names the validator the target lacks.
		if all := strings.Join(schemaDiffs(t, path, url), "\n"); !strings.Contains(all, db.Name()+`.checked: option validator: target absent, bundle {"seq":{"$gte":{"$numberInt":"10"}}}`) {
			t.Errorf("schema differences do not name the missing validator:\n%s", all)
		}
		return
	}
	if d := schemaDiffs(t, path, url); len(d) != 0 {
		t.Errorf("schema differences after the import: %q", d)
	}
	cur, err := db.ListCollections(ctx, bson.D{{Key: "name", Value: "checked"}})
	if err != nil || !cur.Next(ctx) {
		t.Fatalf("listCollections: %v", err)
	}
	defer cur.Close(ctx)
	if got := cur.Current.Lookup("options", "validationLevel").StringValue(); got != "strict" {
		t.Errorf("target options %s", cur.Current)
	}
}
