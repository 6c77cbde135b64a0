package mongo_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/fixtures"
	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/testenv"
	"github.com/imbundle/imbundle/verify"
)

// TestEdgeRoundTrip moves the BSON edge collection Mongo -> bundle -> Mongo
// (another database, named in the target URL), proves it with verify
// --against, compares every document's bytes, and checks the indexes came
// back.
func TestEdgeRoundTrip(t *testing.T) {
	ctx := context.Background()
	srcURL, srcDB := testenv.MongoDatabase(t, "edge_src")
	if err := fixtures.LoadBSONEdge(ctx, srcDB); err != nil {
		t.Fatal(err)
	}
	path := exportBundle(t, srcURL, exporterOptions())
	r, err := bundle.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	m := r.Manifest()
	r.Close()
	if len(m.Datasets) != 1 || m.Datasets[0].Rows != int64(len(fixtures.BSONEdgeDocs())) {
		t.Fatalf("bundle datasets %+v, want one of %d rows", m.Datasets, len(fixtures.BSONEdgeDocs()))
	}

	dstURL, dstDB := testenv.MongoDatabase(t, "edge_dst")
	rep, rejects, err := importBundle(t, path, dstURL, importer.Options{Mode: importer.ModeFail, Jobs: 2})
	if err != nil {
		t.Fatal(err)
	}
	if rejects.Total() != 0 || rep.Datasets[0].Written != m.Datasets[0].Rows {
		t.Fatalf("import report %+v, %d rejects", rep.Datasets, rejects.Total())
	}
	if rep.Datasets[0].Target != dstDB.Name()+"."+fixtures.BSONEdgeCollection {
		t.Errorf("loaded into %s, want the URL's database %s", rep.Datasets[0].Target, dstDB.Name())
	}
	requireMatch(t, verifyAgainst(t, path, dstURL, verify.AgainstOptions{}), 1)

	src := testenv.RawDocs(t, srcDB.Collection(fixtures.BSONEdgeCollection))
	dst := testenv.RawDocs(t, dstDB.Collection(fixtures.BSONEdgeCollection))
	if len(src) != len(dst) {
		t.Fatalf("source %d documents, target %d", len(src), len(dst))
	}
	for i := range src {
		if !bytes.Equal(src[i], dst[i]) {
			t.Errorf("document %d differs:\n source %s\n target %s", i, src[i], dst[i])
		}
	}
	// And the server kept what the fixture wrote, byte for byte (FerretDB
	// stores these values unchanged; a real MongoDB does too).
	want := map[string]bool{}
	for _, d := range fixtures.BSONEdgeDocs() {
		want[string(d)] = true
	}
	for _, d := range dst {
		if !want[string(d)] {
			t.Errorf("target document %s is not one the fixture wrote", d)
		}
	}

	si, di := indexSpecs(t, srcDB.Collection(fixtures.BSONEdgeCollection)), indexSpecs(t, dstDB.Collection(fixtures.BSONEdgeCollection))
	if len(si) != 4 {
		t.Errorf("source has indexes %v, the fixture makes 4", si)
	}
	for name, spec := range si {
		if !bytes.Equal(di[name], spec) {
			t.Errorf("index %s: source %s, target %s", name, spec, di[name])
		}
	}
	// The unique index works on the target: a duplicate is refused.
	if _, err := dstDB.Collection(fixtures.BSONEdgeCollection).InsertOne(ctx, bson.D{{Key: "seq", Value: int32(1)}, {Key: "name", Value: "int32"}}); err == nil {
		t.Error("target accepted a document violating the unique compound index")
	}
}

// TestVerifyNamesDifferences changes, deletes and adds a document on the
// target after an import and expects verify to name exactly those _ids.
func TestVerifyNamesDifferences(t *testing.T) {
	ctx := context.Background()
	srcURL, srcDB := testenv.MongoDatabase(t, "diff_src")
	if err := fixtures.LoadBSONEdge(ctx, srcDB); err != nil {
		t.Fatal(err)
	}
	path := exportBundle(t, srcURL, exporterOptions())
	dstURL, dstDB := testenv.MongoDatabase(t, "diff_dst")
	if _, _, err := importBundle(t, path, dstURL, importer.Options{}); err != nil {
		t.Fatal(err)
	}
	c := dstDB.Collection(fixtures.BSONEdgeCollection)
	if _, err := c.UpdateOne(ctx, bson.D{{Key: "_id", Value: "dates"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "epoch", Value: int64(0)}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteOne(ctx, bson.D{{Key: "_id", Value: int64(2)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: "extra"}}); err != nil {
		t.Fatal(err)
	}
	res := verifyAgainst(t, path, dstURL, verify.AgainstOptions{MaxDiffs: 10})
	if len(res) != 1 || res[0].Match {
		t.Fatalf("verify %+v, want one mismatching dataset", res)
	}
	var named []string
	for _, d := range res[0].Differences {
		named = append(named, strings.Join(d.BundleKey, ",")+"|"+strings.Join(d.TargetKey, ","))
	}
	got := strings.Join(named, " ")
	for _, want := range []string{`"dates"|"dates"`, `{"$numberLong":"2"}|`, `|"extra"`} {
		if !strings.Contains(got, want) {
			t.Errorf("differences %q do not name %s", got, want)
		}
	}
	if len(res[0].Differences) != 3 {
		t.Errorf("want exactly 3 differences, got %q", got)
	}
	if res[0].TargetRows != res[0].BundleRows {
		t.Errorf("target rows %d, bundle %d", res[0].TargetRows, res[0].BundleRows)
	}
}

// TestOpenIMRoundTrip moves an OpenIM v3.8-shaped database (the world the
// MySQL and Redis fixtures share) to another database name through
// --ns-from/--ns-to style mapping, and proves it with verify --against.
func TestOpenIMRoundTrip(t *testing.T) {
	ctx := context.Background()
	srcURL, srcDB := testenv.MongoDatabase(t, "openim_src")
	w := fixtures.MustNew(7, fixtures.Scale{Users: 40, Groups: 4, Messages: 1500})
	if _, err := fixtures.LoadOpenIMMongo(ctx, srcDB, w, fixtures.MongoLoadOptions{}); err != nil {
		t.Fatal(err)
	}
	path := exportBundle(t, srcURL, exporterOptions())

	// The target URL names no database: the mapping picks it.
	_, dstDB := testenv.MongoDatabase(t, "openim_dst")
	server := testenv.MongoURI(t)
	rename := map[string]string{srcDB.Name(): dstDB.Name()}
	rep, rejects, err := importBundle(t, path, server, importer.Options{Mode: importer.ModeFail, Jobs: 2, Map: rename})
	if err != nil {
		t.Fatal(err)
	}
	if rejects.Total() != 0 {
		t.Errorf("%d rejects", rejects.Total())
	}
	if len(rep.Datasets) != len(fixtures.OpenIMMongoCollections) {
		t.Errorf("imported %d collections, want %d", len(rep.Datasets), len(fixtures.OpenIMMongoCollections))
	}
	requireMatch(t, verifyAgainst(t, path, server, verify.AgainstOptions{Map: rename}), len(fixtures.OpenIMMongoCollections))
	for _, c := range fixtures.OpenIMMongoCollections {
		si, di := indexSpecs(t, srcDB.Collection(c)), indexSpecs(t, dstDB.Collection(c))
		if len(si) < 2 || len(si) != len(di) {
			t.Errorf("%s: source indexes %v, target %v", c, si, di)
		}
		for name, spec := range si {
			if !bytes.Equal(di[name], spec) {
				t.Errorf("%s index %s: source %s, target %s", c, name, spec, di[name])
			}
		}
	}
}
