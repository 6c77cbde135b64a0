package mongo_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/fixtures"
	"github.com/imbundle/imbundle/importer"
	mongoimp "github.com/imbundle/imbundle/importer/mongo"
	"github.com/imbundle/imbundle/internal/mongotype"
	"github.com/imbundle/imbundle/internal/testenv"
	"github.com/imbundle/imbundle/verify"
)

// smallBundle exports a collection "people" of n documents {_id: i, name}.
func smallBundle(t *testing.T, n int) string {
	t.Helper()
	ctx := context.Background()
	url, db := testenv.MongoDatabase(t, "modes_src")
	var docs []any
	for i := 0; i < n; i++ {
		docs = append(docs, bson.D{{Key: "_id", Value: int32(i)}, {Key: "name", Value: "p" + string(rune('a'+i%26))}})
	}
	if _, err := db.Collection("people").InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	return exportBundle(t, url, exporter.Options{})
}

func TestModeFailRefusesNonEmpty(t *testing.T) {
	ctx := context.Background()
	path := smallBundle(t, 50)
	url, db := testenv.MongoDatabase(t, "modes_fail")
	if _, err := db.Collection("people").InsertOne(ctx, bson.D{{Key: "_id", Value: "someone else"}}); err != nil {
		t.Fatal(err)
	}
	_, _, err := importBundle(t, path, url, importer.Options{Mode: importer.ModeFail})
	if err == nil || !strings.Contains(err.Error(), db.Name()+".people") || !strings.Contains(err.Error(), "--mode append") {
		t.Fatalf("import into a non-empty collection: %v; want a refusal naming it and the way out", err)
	}
	if n, _ := db.Collection("people").CountDocuments(ctx, bson.D{}); n != 1 {
		t.Errorf("refused import still wrote: %d documents", n)
	}
}

func TestModeAppendUpserts(t *testing.T) {
	ctx := context.Background()
	path := smallBundle(t, 50)
	url, db := testenv.MongoDatabase(t, "modes_append")
	c := db.Collection("people")
	// A changed copy of document 7 and a document the bundle lacks.
	if _, err := c.InsertMany(ctx, []any{bson.D{{Key: "_id", Value: int32(7)}, {Key: "name", Value: "changed"}, {Key: "extra", Value: true}}, bson.D{{Key: "_id", Value: "local"}}}); err != nil {
		t.Fatal(err)
	}
	rep, _, err := importBundle(t, path, url, importer.Options{Mode: importer.ModeAppend})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Datasets[0].Written != 50 {
		t.Errorf("written %d, want 50", rep.Datasets[0].Written)
	}
	if n, _ := c.CountDocuments(ctx, bson.D{}); n != 51 {
		t.Errorf("%d documents, want the 50 of the bundle and the local one", n)
	}
	raw, err := c.FindOne(ctx, bson.D{{Key: "_id", Value: int32(7)}}).Raw()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.LookupErr("extra"); err == nil || raw.Lookup("name").StringValue() == "changed" {
		t.Errorf("append did not replace document 7 with the bundle's: %s", raw)
	}
	// Appending the same bundle again changes nothing.
	if _, _, err := importBundle(t, path, url, importer.Options{Mode: importer.ModeAppend}); err != nil {
		t.Fatal(err)
	}
	if n, _ := c.CountDocuments(ctx, bson.D{}); n != 51 {
		t.Errorf("second append: %d documents, want 51", n)
	}
}

func TestModeReplaceDropsFirst(t *testing.T) {
	ctx := context.Background()
	path := smallBundle(t, 50)
	url, db := testenv.MongoDatabase(t, "modes_replace")
	c := db.Collection("people")
	if _, err := c.InsertMany(ctx, []any{bson.D{{Key: "_id", Value: "local"}}, bson.D{{Key: "_id", Value: int32(3)}, {Key: "name", Value: "changed"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Indexes().CreateOne(ctx, mongoIndex("stale_1")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := importBundle(t, path, url, importer.Options{Mode: importer.ModeReplace}); err != nil {
		t.Fatal(err)
	}
	requireMatch(t, verifyAgainst(t, path, url, verify.AgainstOptions{}), 1)
	if _, stale := indexSpecs(t, c)["stale_1"]; stale {
		t.Error("replace kept an index of the old collection")
	}
	if n, _ := c.CountDocuments(ctx, bson.D{{Key: "_id", Value: "local"}}); n != 0 {
		t.Error("replace kept a document of the old collection")
	}
}

// TestResumeInterrupted sets the target up as a crashed import of the same
// bundle leaves it (collection marker, part 0 begun and half loaded) and
// expects mode fail to resume: no refusal, no duplicate, verify green, and
// the markers gone at the end.
func TestResumeInterrupted(t *testing.T) {
	ctx := context.Background()
	path := smallBundle(t, 3000) // one part
	r, err := bundle.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	bundleID := r.ID()
	r.Close()
	url, db := testenv.MongoDatabase(t, "modes_resume")
	c := db.Collection("people")
	var half []any
	for i := 0; i < 1500; i++ {
		half = append(half, bson.D{{Key: "_id", Value: int32(i)}, {Key: "name", Value: "p" + string(rune('a'+i%26))}})
	}
	if _, err := c.InsertMany(ctx, half); err != nil {
		t.Fatal(err)
	}
	marks := db.Client().Database(mongoimp.DefaultStateDB).Collection("progress")
	marker := func(part int, state string) {
		t.Helper()
		id := bson.D{{Key: "bundle", Value: bundleID}, {Key: "database", Value: db.Name()}, {Key: "collection", Value: "people"}, {Key: "part", Value: part}}
		if _, err := marks.InsertOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "state", Value: state}}); err != nil {
			t.Fatal(err)
		}
	}
	marker(-1, "started")
	marker(0, "started")
	rep, rejects, err := importBundle(t, path, url, importer.Options{Mode: importer.ModeFail})
	if err != nil {
		t.Fatal(err)
	}
	if rejects.Total() != 0 {
		t.Errorf("%d rejects on resume", rejects.Total())
	}
	requireMatch(t, verifyAgainst(t, path, url, verify.AgainstOptions{}), 1)
	if n, _ := marks.CountDocuments(ctx, bson.D{{Key: "_id.bundle", Value: bundleID}}); n != 0 {
		t.Errorf("%d resume markers left after a finished import", n)
	}
	if rep.Datasets[0].Written != 3000 {
		t.Errorf("written %d, want 3000 (the replayed part counts whole)", rep.Datasets[0].Written)
	}

	// A part marked done is skipped, not reloaded.
	if _, err := c.DeleteMany(ctx, bson.D{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: "kept"}}); err != nil {
		t.Fatal(err)
	}
	marker(-1, "started")
	marker(0, "done")
	rep, _, err = importBundle(t, path, url, importer.Options{Mode: importer.ModeFail})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Datasets[0].PartsResumed != 1 || rep.Datasets[0].Written != 0 {
		t.Errorf("report %+v: want part 0 skipped as done", rep.Datasets[0])
	}
	if n, _ := c.CountDocuments(ctx, bson.D{}); n != 1 {
		t.Errorf("%d documents: a part marked done was loaded again", n)
	}
}

// TestRejectsRefusedDocuments loads the codec-only documents (values
// FerretDB refuses) next to ordinary ones: the ordinary ones load, every
// refused one is in the reject file with a reason, none is lost.
func TestRejectsRefusedDocuments(t *testing.T) {
	ctx := context.Background()
	docs := fixtures.BSONCodecOnlyDocs()
	var good []bson.Raw
	for i := 0; i < 20; i++ {
		d, _ := bson.Marshal(bson.D{{Key: "_id", Value: int32(1000 + i)}, {Key: "ok", Value: true}})
		good = append(good, d)
	}
	all := append(append([]bson.Raw{}, good[:10]...), docs...)
	all = append(all, good[10:]...)
	path := writeBundle(t, "src", "mixed", all, mongotype.Collection{Type: "collection"})
	url, db := testenv.MongoDatabase(t, "rejects")
	rep, rejects, err := importBundle(t, path, url, importer.Options{Mode: importer.ModeFail})
	if err != nil {
		t.Fatal(err)
	}
	d := rep.Datasets[0]
	if d.Written+d.Rejected != int64(len(all)) {
		t.Errorf("written %d + rejected %d != %d documents", d.Written, d.Rejected, len(all))
	}
	n, _ := db.Collection("mixed").CountDocuments(ctx, bson.D{})
	if n != d.Written {
		t.Errorf("collection holds %d, report says %d written", n, d.Written)
	}
	if m, _ := db.Collection("mixed").CountDocuments(ctx, bson.D{{Key: "ok", Value: true}}); m != 20 {
		t.Errorf("%d of the 20 ordinary documents loaded", m)
	}
	// The document without _id gets one on insert, once, however often
	// its batch was split and retried.
	if m, _ := db.Collection("mixed").CountDocuments(ctx, bson.D{{Key: "name", Value: "no _id"}}); m != 1 {
		t.Errorf("the document without _id is in the collection %d times", m)
	}
	if rejects.Total() != d.Rejected || d.Rejected == 0 {
		t.Fatalf("reject file has %d, report %d", rejects.Total(), d.Rejected)
	}
	f, err := os.Open(rejects.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	seen := map[string]bool{}
	for sc.Scan() {
		var rj importer.Reject
		if err := json.Unmarshal(sc.Bytes(), &rj); err != nil {
			t.Fatal(err)
		}
		if rj.Reason == "" || rj.Values[mongotype.ColDoc] == nil {
			t.Errorf("reject without reason or document: %s", sc.Bytes())
		}
		if len(rj.Key) == 1 {
			seen[rj.Key[0]] = true
		}
	}
	for _, id := range []string{`"nan"`, `"infinity"`, `"decimal128"`, `"min_max_keys"`, `"code"`, `"nested_arrays"`, `"operator_keys"`} {
		if !seen[id] {
			t.Errorf("document %s is neither loaded nor in the reject file", id)
		}
	}
}

// TestTTLIndexes imports a collection whose bundle carries a TTL index (as
// exported from a real MongoDB). FerretDB 1.24 cannot build TTL indexes:
// the import must say so by name after loading the documents; with
// ttl-indexes=skip it succeeds and leaves the TTL index out, building the
// others.
func TestTTLIndexes(t *testing.T) {
	ctx := context.Background()
	ttl, _ := bson.Marshal(bson.D{{Key: "key", Value: bson.D{{Key: "expire_at", Value: int32(1)}}}, {Key: "name", Value: "expire_at_ttl"}, {Key: "expireAfterSeconds", Value: int32(0)}})
	uniq, _ := bson.Marshal(bson.D{{Key: "key", Value: bson.D{{Key: "user_id", Value: int32(1)}, {Key: "conversation_id", Value: int32(1)}}}, {Key: "name", Value: "user_conv"}, {Key: "unique", Value: true}})
	idIx, _ := bson.Marshal(bson.D{{Key: "key", Value: bson.D{{Key: "_id", Value: int32(1)}}}, {Key: "name", Value: "_id_"}})
	var docs []bson.Raw
	for i := 0; i < 10; i++ {
		d, _ := bson.Marshal(bson.D{{Key: "_id", Value: int32(i)}, {Key: "user_id", Value: "u"}, {Key: "conversation_id", Value: int32(i)}, {Key: "expire_at", Value: bson.DateTime(4102444800000)}})
		docs = append(docs, d)
	}
	path := writeBundle(t, "src", "cache", docs, mongotype.Collection{Type: "collection", Indexes: []bson.Raw{idIx, ttl, uniq}})

	url, db := testenv.MongoDatabase(t, "ttl")
	_, _, err := importBundle(t, path, url, importer.Options{})
	if err == nil || !strings.Contains(err.Error(), "expire_at_ttl") || !strings.Contains(err.Error(), "documents are loaded") {
		t.Fatalf("import of a TTL index into FerretDB: %v; want an error naming the index", err)
	}
	if n, _ := db.Collection("cache").CountDocuments(ctx, bson.D{}); n != 10 {
		t.Errorf("%d documents loaded before the index error, want 10", n)
	}
	if _, ok := indexSpecs(t, db.Collection("cache"))["user_conv"]; !ok {
		t.Error("the unique index, built before the TTL one, is missing")
	}

	url2, db2 := testenv.MongoDatabase(t, "ttl_skip")
	if _, _, err := importBundle(t, path, url2, importer.Options{Params: map[string]string{"ttl-indexes": "skip"}}); err != nil {
		t.Fatal(err)
	}
	ix := indexSpecs(t, db2.Collection("cache"))
	if _, ok := ix["expire_at_ttl"]; ok {
		t.Error("ttl-indexes=skip built the TTL index")
	}
	if _, ok := ix["user_conv"]; !ok {
		t.Error("ttl-indexes=skip left out the unique index too")
	}
}
