package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/convert"
	"github.com/imbundle/imbundle/fixtures"
	"github.com/imbundle/imbundle/internal/bundletest"
	"github.com/imbundle/imbundle/internal/mongotype"
	"github.com/imbundle/imbundle/internal/testenv"
	"github.com/imbundle/imbundle/spec"
)

// TestMongoBundleIntoMySQLAndBack: a MongoDB bundle imported into MySQL
// becomes a documents table (the documents' bytes, keyed by _id), verify
// --against MySQL converts the bundle the same way; the table exported
// from MySQL and imported into MongoDB gives back the very documents, byte
// for byte. A documents table whose row no longer matches its _id is
// caught both by verify and on the way back.
func TestMongoBundleIntoMySQLAndBack(t *testing.T) {
	ctx := context.Background()
	srcURL, srcDB := testenv.MongoDatabase(t, "m2s_src")
	if err := fixtures.LoadBSONEdge(ctx, srcDB); err != nil {
		t.Fatal(err)
	}
	coll := fixtures.BSONEdgeCollection
	dir := t.TempDir()
	mpath := filepath.Join(dir, "mongo.imb")
	if out, err := runCLI(t, "-q", "export", "--source", srcURL, "-o", mpath); err != nil {
		t.Fatalf("export from MongoDB: %v\n%s", err, out)
	}
	myURL, my := testenv.MySQLDatabase(t, "m2s_my")
	if out, err := runCLI(t, "-q", "import", mpath, "--target", myURL); err != nil {
		t.Fatalf("import into MySQL: %v\n%s", err, out)
	}
	var name, ddl string
	if err := my.QueryRow("SHOW CREATE TABLE "+coll).Scan(&name, &ddl); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ddl, "COMMENT='imbundle:mongodb-documents-v1'") || !strings.Contains(ddl, "PRIMARY KEY (`_id`)") {
		t.Errorf("table %s is not a marked documents table:\n%s", coll, ddl)
	}
	src := rawDocs(t, srcDB.Collection(coll))
	if len(src) != len(fixtures.BSONEdgeDocs()) {
		t.Fatalf("source holds %d documents, the fixture %d", len(src), len(fixtures.BSONEdgeDocs()))
	}
	// Each row holds a document as the source sent it, under its _id.
	byID := map[string][]byte{}
	for _, d := range src {
		byID[string(mongotype.EncodeID(d.Lookup("_id")))] = d
	}
	rows, err := my.Query("SELECT _id, _id_json, doc FROM " + coll)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var id, doc []byte
		var js string
		if err := rows.Scan(&id, &js, &doc); err != nil {
			t.Fatal(err)
		}
		n++
		if !bytes.Equal(byID[string(id)], doc) {
			t.Errorf("row _id %s: doc %x, the source's document %x", js, doc, byID[string(id)])
		}
		if want, _ := mongotype.IDJSON(bson.Raw(doc).Lookup("_id")); js != want {
			t.Errorf("row _id_json %q, want %q", js, want)
		}
	}
	rows.Close()
	if n != len(src) {
		t.Errorf("table holds %d rows, the collection %d documents", n, len(src))
	}
	if out, err := runCLI(t, "verify", mpath, "--against", myURL); err != nil {
		t.Fatalf("verify the MongoDB bundle against MySQL: %v\n%s", err, out)
	}

	// Back: MySQL's bundle of the table into MongoDB gives the same bytes.
	spath := filepath.Join(dir, "mysql.imb")
	if out, err := runCLI(t, "-q", "export", "--source", myURL, "-o", spath, "--param", "lock-wait=2"); err != nil {
		t.Fatalf("export from MySQL: %v\n%s", err, out)
	}
	dstURL, dstDB := testenv.MongoDatabase(t, "m2s_dst")
	if out, err := runCLI(t, "-q", "import", spath, "--target", dstURL); err != nil {
		t.Fatalf("import the MySQL bundle into MongoDB: %v\n%s", err, out)
	}
	dst := rawDocs(t, dstDB.Collection(coll))
	if len(dst) != len(src) {
		t.Fatalf("back in MongoDB: %d documents, the source %d", len(dst), len(src))
	}
	for i := range src {
		if !bytes.Equal(src[i], dst[i]) {
			t.Errorf("document %d differs after MongoDB -> MySQL -> MongoDB:\n source %s\n back   %s", i, src[i], dst[i])
		}
	}
	if out, err := runCLI(t, "verify", spath, "--against", dstURL); err != nil {
		t.Fatalf("verify the MySQL bundle against MongoDB: %v\n%s", err, out)
	}

	// A row whose doc is another document's: verify --against MySQL says
	// MISMATCH, and the way back refuses the row.
	if _, err := my.Exec("UPDATE "+coll+" SET doc = ? WHERE _id = ?", []byte(src[1]), mongotype.EncodeID(src[0].Lookup("_id"))); err != nil {
		t.Fatal(err)
	}
	out, err := runCLI(t, "verify", mpath, "--against", myURL)
	if exitCodeOf(err) != exitMismatch || !strings.Contains(out, "MISMATCH") {
		t.Fatalf("verify after a changed row: exit %d (%v), want %d\n%s", exitCodeOf(err), err, exitMismatch, out)
	}
	tpath := filepath.Join(dir, "tampered.imb")
	if out, err := runCLI(t, "-q", "export", "--source", myURL, "-o", tpath, "--param", "lock-wait=2"); err != nil {
		t.Fatalf("export from MySQL: %v\n%s", err, out)
	}
	backURL, _ := testenv.MongoDatabase(t, "m2s_back")
	rejects := filepath.Join(dir, "rejects.jsonl")
	out, err = runCLI(t, "-q", "import", tpath, "--target", backURL, "--rejects", rejects)
	if exitCodeOf(err) != exitRejects {
		t.Fatalf("import of the changed table: exit %d (%v), want %d\n%s", exitCodeOf(err), err, exitRejects, out)
	}
	if reasons := rejectReasons(t, rejects); len(reasons) != 1 || !strings.Contains(reasons[0], "differs from the _id column") {
		t.Errorf("rejects %q, want one naming the _id mismatch", reasons)
	}
}

// TestCodecOnlyDocumentsThroughMySQL carries the documents FerretDB
// refuses (NaN payloads, Decimal128, MinKey, code, duplicate keys, invalid
// UTF-8, …) through a real MySQL: a hand-made MongoDB bundle is imported
// into MariaDB, exported again, and converted back in-process; every
// document comes back byte for byte, except those a documents table
// cannot key, which are rejects naming why.
func TestCodecOnlyDocumentsThroughMySQL(t *testing.T) {
	docs := fixtures.BSONCodecOnlyDocs()
	long := bsoncore.NewDocumentBuilder().AppendString("_id", strings.Repeat("x", 3100)).Build()
	docs = append(docs, bson.Raw(long))
	dir := t.TempDir()
	mpath := filepath.Join(dir, "made.imb")
	b := mongotype.NewBuilder(nil)
	for _, d := range docs {
		if err := b.Append(d); err != nil {
			t.Fatal(err)
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

	myURL, _ := testenv.MySQLDatabase(t, "m2s_odd")
	rejects := filepath.Join(dir, "rejects.jsonl")
	out, err := runCLI(t, "-q", "import", mpath, "--target", myURL, "--rejects", rejects)
	if exitCodeOf(err) != exitRejects {
		t.Fatalf("import: exit %d (%v), want %d (rejects)\n%s", exitCodeOf(err), err, exitRejects, out)
	}
	reasons := rejectReasons(t, rejects)
	sort.Strings(reasons) // "the _id is 3106 bytes ..." < "the document has no _id ..."
	if len(reasons) != 2 || !strings.Contains(reasons[0], "3106 bytes") || !strings.Contains(reasons[1], "no _id") {
		t.Errorf("rejects %q, want the document without _id and the 3106-byte _id", reasons)
	}
	out, err = runCLI(t, "verify", mpath, "--against", myURL)
	if err != nil || !strings.Contains(out, "2 refused by the conversion") {
		t.Fatalf("verify against MySQL: %v\n%s", err, out)
	}

	spath := filepath.Join(dir, "mysql.imb")
	if out, err := runCLI(t, "-q", "export", "--source", myURL, "-o", spath, "--param", "lock-wait=2"); err != nil {
		t.Fatalf("export from MySQL: %v\n%s", err, out)
	}
	back := convertedDocs(t, spath, "mongodb")
	want := map[string]bool{}
	for _, d := range docs {
		if _, err := d.LookupErr("_id"); err == nil && len(mongotype.EncodeID(d.Lookup("_id"))) <= 3072 {
			want[string(d)] = true
		}
	}
	if len(back) != len(want) {
		t.Errorf("%d documents back, want %d", len(back), len(want))
	}
	for _, d := range back {
		if !want[string(d)] {
			t.Errorf("document back from MySQL is not one of the bundle's: %x", []byte(d))
		}
	}
}

// convertedDocs converts every dataset of the bundle at path to engine in
// process, as an import would, and returns the documents.
func convertedDocs(t *testing.T, path, engine string) []bson.Raw {
	t.Helper()
	r, err := bundle.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	m := r.Manifest()
	var out []bson.Raw
	for i := range m.Datasets {
		ds := &m.Datasets[i]
		var conv *convert.Conversion
		for _, c := range convert.For(ds, &m.Sources[0]) {
			if c.To == engine {
				conv = c.Conversion
			}
		}
		if conv == nil || len(conv.Refused) > 0 {
			t.Fatalf("no conversion of %s to %s: %+v", ds.Name, engine, conv)
		}
		for p := range ds.Parts {
			pr, err := r.OpenPart(ds, p)
			if err != nil {
				t.Fatal(err)
			}
			recs := conv.Records(pr, p, func(rj convert.Reject) error { t.Errorf("reject %+v", rj); return nil })
			for {
				rec, err := recs.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				rows, err := mongotype.RowsOf(rec)
				if err != nil {
					t.Fatal(err)
				}
				for i := 0; i < rows.Len(); i++ {
					out = append(out, append(bson.Raw(nil), rows.Doc(i)...))
				}
			}
			pr.Close()
		}
	}
	return out
}

// rejectReasons reads a reject file's reasons.
func rejectReasons(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rj struct{ Reason string }
		if err := json.Unmarshal(sc.Bytes(), &rj); err != nil {
			t.Fatal(err)
		}
		out = append(out, rj.Reason)
	}
	return out
}

// rawDocs returns a collection's documents in _id order, as the server
// sends them.
func rawDocs(t *testing.T, c *mongo.Collection) []bson.Raw {
	t.Helper()
	ctx := context.Background()
	cur, err := c.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close(ctx)
	var out []bson.Raw
	for cur.Next(ctx) {
		out = append(out, append(bson.Raw(nil), cur.Current...))
	}
	if err := cur.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
