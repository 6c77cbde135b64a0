package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/fixtures"
	"github.com/imbundle/imbundle/internal/bundletest"
	"github.com/imbundle/imbundle/internal/mongotype"
	"github.com/imbundle/imbundle/internal/testenv"
	"github.com/imbundle/imbundle/spec"
)

// TestMongoCollectionsThroughRedis: MongoDB -> Redis -> MongoDB gives back
// every document byte for byte, with the collections' indexes: a string
// per document under <collection>:<_id>, a schema key per collection, and
// verify green at each hop.
func TestMongoCollectionsThroughRedis(t *testing.T) {
	ctx := context.Background()
	rdb := testenv.Redis(t, rcCollections)
	rdb.FlushDB(ctx)
	t.Cleanup(func() { rdb.FlushDB(context.Background()) })
	srcURL, srcDB := testenv.MongoDatabase(t, "h_c2r")
	if err := fixtures.LoadBSONEdge(ctx, srcDB); err != nil {
		t.Fatal(err)
	}
	keyed := srcDB.Collection("keyed")
	if _, err := keyed.InsertMany(ctx, []any{bson.D{{Key: "_id", Value: `a:b\c`}, {Key: "v", Value: int32(1)}}, bson.D{{Key: "_id", Value: int64(7)}, {Key: "v", Value: "x"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := keyed.Indexes().CreateOne(ctx, mongoIndex("v", "by_v")); err != nil {
		t.Fatal(err)
	}
	// vacant has no documents: its schema key alone brings it back, with its index.
	if _, err := srcDB.Collection("vacant").Indexes().CreateOne(ctx, mongoIndex("w", "by_w")); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	mongoBundle := filepath.Join(dir, "mongo.imb")
	if out, err := runCLI(t, "-q", "export", "--source", srcURL, "-o", mongoBundle); err != nil {
		t.Fatalf("export from MongoDB: %v\n%s", err, out)
	}
	redisURL := "redis://" + testenv.RedisAddr()
	dbMap := fmt.Sprintf("0:%d", rcCollections)
	if out, err := runCLI(t, "-q", "import", mongoBundle, "--target", redisURL, "--db-map", dbMap); err != nil {
		t.Fatalf("import into Redis: %v\n%s", err, out)
	}
	want := testenv.RawDocs(t, keyed)
	if v, err := rdb.Get(ctx, `keyed:"a\:b\\\\c"`).Bytes(); err != nil || !bytes.Equal(v, want[len(want)-1]) {
		t.Errorf(`string keyed:"a\:b\\\\c" = %x (%v), want the document %x`, v, err, []byte(want[len(want)-1]))
	}
	if n, err := rdb.Exists(ctx, `keyed:{"$numberLong"\:"7"}`, "imbundle:collection:keyed", "imbundle:collection:vacant", "imbundle:collection:"+fixtures.BSONEdgeCollection).Result(); err != nil || n != 4 {
		t.Errorf("%d of 4 keys (%v)", n, err)
	}
	if out, err := runCLI(t, "verify", mongoBundle, "--against", redisURL, "--db-map", dbMap); err != nil {
		t.Fatalf("verify the MongoDB bundle against Redis: %v\n%s", err, out)
	}

	redisBundle := filepath.Join(dir, "redis.imb")
	if out, err := runCLI(t, "-q", "export", "--source", redisURL, "--db", fmt.Sprint(rcCollections), "-o", redisBundle); err != nil {
		t.Fatalf("export Redis: %v\n%s", err, out)
	}
	backURL, backDB := testenv.MongoDatabase(t, "h_c2r_back")
	if out, err := runCLI(t, "-q", "import", redisBundle, "--target", backURL); err != nil {
		t.Fatalf("import the Redis bundle into MongoDB: %v\n%s", err, out)
	}
	if names, err := backDB.ListCollectionNames(ctx, bson.D{}); err != nil || len(names) != 3 {
		t.Errorf("collections back: %q (%v), want bson_edge, keyed and vacant only", names, err)
	}
	if specs, err := backDB.Collection("vacant").Indexes().ListSpecifications(ctx); err != nil || len(specs) != 2 || specs[1].Name != "by_w" {
		t.Errorf("indexes of the empty collection back: %+v (%v), want _id_ and by_w", specs, err)
	}
	for _, coll := range []string{"keyed", fixtures.BSONEdgeCollection} {
		src, back := testenv.RawDocs(t, srcDB.Collection(coll)), testenv.RawDocs(t, backDB.Collection(coll))
		if len(src) != len(back) {
			t.Fatalf("%s: %d documents back, %d in the source", coll, len(back), len(src))
		}
		for i := range src {
			if !bytes.Equal(src[i], back[i]) {
				t.Errorf("%s: document %d back is %x, the source's %x", coll, i, []byte(back[i]), []byte(src[i]))
			}
		}
	}
	if specs, err := backDB.Collection("keyed").Indexes().ListSpecifications(ctx); err != nil || len(specs) != 2 || specs[1].Name != "by_v" {
		t.Errorf("indexes of keyed back: %+v (%v), want _id_ and by_v", specs, err)
	}
	if out, err := runCLI(t, "verify", redisBundle, "--against", backURL); err != nil {
		t.Fatalf("verify the Redis bundle against MongoDB: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "verify", mongoBundle, "--against", backURL); err != nil {
		t.Fatalf("MongoDB -> Redis -> MongoDB is not the database it was: %v\n%s", err, out)
	}

	// Edits only Redis allows: a document under another _id's key, a
	// hash under a collection's prefix.
	seven, err := rdb.Get(ctx, `keyed:{"$numberLong"\:"7"}`).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	rdb.Set(ctx, `keyed:"zz"`, seven, 0)
	rdb.HSet(ctx, `keyed:"h"`, "f", "v")
	edited := filepath.Join(dir, "edited.imb")
	if out, err := runCLI(t, "-q", "export", "--source", redisURL, "--db", fmt.Sprint(rcCollections), "-o", edited); err != nil {
		t.Fatalf("export Redis: %v\n%s", err, out)
	}
	againURL, _ := testenv.MongoDatabase(t, "h_c2r_rj")
	rejects := filepath.Join(dir, "rejects.jsonl")
	out, err := runCLI(t, "-q", "import", edited, "--target", againURL, "--rejects", rejects)
	if exitCodeOf(err) != exitRejects {
		t.Fatalf("import of the edited keyspace: exit %d (%v), want %d\n%s", exitCodeOf(err), err, exitRejects, out)
	}
	reasons := rejectReasons(t, rejects)
	sort.Strings(reasons)
	wantReasons := []string{`key "keyed:\"h\"" is a hash, not a string`, `string "keyed:\"zz\"" holds the document whose key is "keyed:{\"$numberLong\"\\:\"7\"}"`}
	if len(reasons) != len(wantReasons) {
		t.Fatalf("rejects %q, want %d", reasons, len(wantReasons))
	}
	for i, w := range wantReasons {
		if !strings.Contains(reasons[i], "conversion redis-strings to mongodb-collection v1: ") || !strings.Contains(reasons[i], w) {
			t.Errorf("reject %q, want it to say %q", reasons[i], w)
		}
	}
}

func mongoIndex(field, name string) mongo.IndexModel {
	return mongo.IndexModel{Keys: bson.D{{Key: field, Value: int32(1)}}, Options: options.Index().SetName(name)}
}

// TestCodecOnlyDocumentsThroughRedis: the BSON types FerretDB refuses
// (Decimal128, ...) through a real Redis and back into MongoDB's layout in
// process, byte for byte.
func TestCodecOnlyDocumentsThroughRedis(t *testing.T) {
	ctx := context.Background()
	rdb := testenv.Redis(t, rcCollections)
	rdb.FlushDB(ctx)
	t.Cleanup(func() { rdb.FlushDB(context.Background()) })
	docs := fixtures.BSONCodecOnlyDocs()
	dir := t.TempDir()
	mpath := filepath.Join(dir, "made.imb")
	b := mongotype.NewBuilder(nil)
	want := map[string]bool{}
	for _, d := range docs {
		if err := b.Append(d); err != nil {
			t.Fatal(err)
		}
		if _, err := d.LookupErr("_id"); err == nil {
			want[string(d)] = true
		}
	}
	opts, err := mongotype.Collection{Type: "collection"}.ToOptions()
	if err != nil {
		t.Fatal(err)
	}
	bundletest.Write(t, mpath, bundle.Options{}, spec.Source{Engine: "mongodb", URL: "mongodb://mongo.example:27017/app", Database: "app"},
		spec.Dataset{Name: "app.odd", Kind: spec.KindCollection, Namespace: "app", Object: "odd", PrimaryKey: mongotype.PrimaryKey, Options: opts},
		mongotype.Schema(), b.NewRecord())
	b.Release()
	redisURL := "redis://" + testenv.RedisAddr()
	dbMap := fmt.Sprintf("0:%d", rcCollections)
	rejects := filepath.Join(dir, "rejects.jsonl")
	out, err := runCLI(t, "-q", "import", mpath, "--target", redisURL, "--db-map", dbMap, "--rejects", rejects)
	if exitCodeOf(err) != exitRejects {
		t.Fatalf("import into Redis: exit %d (%v), want %d (the document without _id)\n%s", exitCodeOf(err), err, exitRejects, out)
	}
	if r := rejectReasons(t, rejects); len(r) != 1 || !strings.Contains(r[0], "the document has no _id") {
		t.Errorf("rejects %q, want the document without _id", r)
	}
	rpath := filepath.Join(dir, "redis.imb")
	if out, err := runCLI(t, "-q", "export", "--source", redisURL, "--db", fmt.Sprint(rcCollections), "-o", rpath); err != nil {
		t.Fatalf("export Redis: %v\n%s", err, out)
	}
	back := convertedDocs(t, rpath, "mongodb")
	if len(back) != len(want) {
		t.Errorf("%d documents back, want %d", len(back), len(want))
	}
	for _, d := range back {
		if !want[string(d)] {
			t.Errorf("document back from Redis is not one of the bundle's: %x", []byte(d))
		}
	}
}

// TestTablesAndCollectionsInOneRedisDatabase: a MySQL database and a
// MongoDB database kept in one Redis database come back apart: the
// import into MySQL takes the tables, the one into MongoDB the
// collections, neither rejects the other's keys, and both original
// bundles match.
func TestTablesAndCollectionsInOneRedisDatabase(t *testing.T) {
	ctx := context.Background()
	rdb := testenv.Redis(t, rcTables)
	rdb.FlushDB(ctx)
	t.Cleanup(func() { rdb.FlushDB(context.Background()) })
	_, mysqlBundle := exportedMySQL(t, "h_mix", []string{
		"CREATE TABLE users (id INT NOT NULL PRIMARY KEY, name VARCHAR(8))",
		"INSERT INTO users VALUES (1, 'a'), (2, NULL)",
	})
	srcURL, srcDB := testenv.MongoDatabase(t, "h_mix")
	if _, err := srcDB.Collection("chats").InsertMany(ctx, []any{bson.D{{Key: "_id", Value: int32(1)}, {Key: "m", Value: "hi"}}}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	mongoBundle := filepath.Join(dir, "mongo.imb")
	if out, err := runCLI(t, "-q", "export", "--source", srcURL, "-o", mongoBundle); err != nil {
		t.Fatalf("export from MongoDB: %v\n%s", err, out)
	}
	redisURL := "redis://" + testenv.RedisAddr()
	dbMap := fmt.Sprintf("0:%d", rcTables)
	for _, b := range []string{mysqlBundle, mongoBundle} {
		if out, err := runCLI(t, "-q", "import", b, "--target", redisURL, "--db-map", dbMap); err != nil {
			t.Fatalf("import %s into Redis: %v\n%s", b, err, out)
		}
	}
	redisBundle := filepath.Join(dir, "redis.imb")
	if out, err := runCLI(t, "-q", "export", "--source", redisURL, "--db", fmt.Sprint(rcTables), "-o", redisBundle); err != nil {
		t.Fatalf("export Redis: %v\n%s", err, out)
	}
	myURL, _ := testenv.MySQLDatabase(t, "h_mix_back")
	moURL, _ := testenv.MongoDatabase(t, "h_mix_back")
	// One import with both targets: the tables to MySQL, the collections
	// to MongoDB.
	// (The database has no streams: its empty stream state converts to
	// nothing, so no target takes it.)
	if out, err := runCLI(t, "-q", "import", redisBundle, "--target", myURL, "--target", moURL); err != nil {
		t.Fatalf("import the Redis bundle into MySQL and MongoDB: %v\n%s", err, out)
	}
	out, err := runCLI(t, "verify", redisBundle, "--against", myURL, "--against", moURL)
	if err != nil || !strings.Contains(out, fmt.Sprintf("match    redis.db%d/users", rcTables)) || !strings.Contains(out, fmt.Sprintf("match    redis.db%d/chats", rcTables)) {
		t.Fatalf("verify the Redis bundle against both: %v\n%s", err, out)
	}
	for _, c := range []struct{ target, original string }{{myURL, mysqlBundle}, {moURL, mongoBundle}} {
		if out, err := runCLI(t, "verify", c.original, "--against", c.target); err != nil {
			t.Fatalf("verify %s against %s: %v\n%s", c.original, c.target, err, out)
		}
	}
}
