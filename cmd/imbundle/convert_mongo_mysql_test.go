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

	"github.com/apache/arrow-go/v18/arrow"
	"go.mongodb.org/mongo-driver/v2/bson"
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
	src := testenv.RawDocs(t, srcDB.Collection(coll))
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
	// The same import again finds the table holding exactly the bundle.
	if out, err := runCLI(t, "import", mpath, "--target", myURL); err != nil || !strings.Contains(out, "already") {
		t.Fatalf("the same import again: %v\n%s", err, out)
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
	dst := testenv.RawDocs(t, dstDB.Collection(coll))
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

	// Into a database that does not exist yet: the import creates it.
	myURL, my := testenv.MySQLDatabase(t, "m2s_odd")
	if _, err := my.Exec("DROP DATABASE " + myURL[strings.LastIndexByte(myURL, '/')+1:]); err != nil {
		t.Fatal(err)
	}
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

// TestMySQLThroughMongoIntoExistingTables: MySQL -> MongoDB -> MySQL into
// a schema the application created (here: the original bundle imported
// and its tables emptied) ends with identical rows: verify --against with
// the original MySQL bundle is green. Each field goes into its column by
// name, _id into the primary key; a field the table lacks, a Double a
// FLOAT cannot hold and an integer out of range are rejects naming the
// field.
func TestMySQLThroughMongoIntoExistingTables(t *testing.T) {
	srcURL, src := testenv.MySQLDatabase(t, "m2s_app")
	for _, q := range []string{
		`CREATE TABLE edge (
  id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
  i8 TINYINT, u64 BIGINT UNSIGNED, big BIGINT, f FLOAT, d DOUBLE,
  dt3 DATETIME(3), dt6 DATETIME(6), dte DATE, ts TIMESTAMP(3) NULL, tm TIME(6), y YEAR,
  s VARCHAR(40) CHARACTER SET utf8mb4, l1 VARCHAR(20) CHARACTER SET latin1, b VARBINARY(16), j JSON,
  n INT NULL, nn VARCHAR(8) NOT NULL DEFAULT '',
  KEY k_s (s)
) ENGINE=InnoDB`,
		`INSERT INTO edge VALUES
 (1, -128, 9223372036854775807, 9007199254740993, 3.40282e38, -2.2250738585072014e-308,
  '2024-02-29 23:59:59.999', '2024-01-01 00:00:00.123000', '1000-01-01', '2030-01-01 00:00:00.500', '-838:59:59.000000', 2155,
  'emoji 😀 ok', x'e9e8', x'00ff', '{"a": [1, 2.5, "x"]}', NULL, 'x'),
 (2, 0, 0, -9223372036854775808, 0.1, 1e-320,
  '1970-01-01 00:00:00', '2038-01-19 03:14:07', '9999-12-31', NULL, '838:59:59.999999', 1901,
  '', '', x'', 'null', 7, '')`,
		"CREATE TABLE pair (a INT NOT NULL, b VARCHAR(8) NOT NULL, v INT, PRIMARY KEY (a, b))",
		"INSERT INTO pair VALUES (1, 'x', 10), (1, 'y', 11), (2, 'x', 12)",
		"CREATE TABLE nopk (v INT)",
		"INSERT INTO nopk VALUES (1), (1), (NULL)",
	} {
		if _, err := src.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	dir := t.TempDir()
	apath := filepath.Join(dir, "app.imb")
	if out, err := runCLI(t, "-q", "export", "--source", srcURL, "-o", apath, "--param", "lock-wait=2"); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	mURL, mdb := testenv.MongoDatabase(t, "m2s_mid")
	if out, err := runCLI(t, "-q", "import", apath, "--target", mURL); err != nil {
		t.Fatalf("import into MongoDB: %v\n%s", err, out)
	}
	// Documents the application's table cannot take exactly.
	ctx := context.Background()
	if _, err := mdb.Collection("edge").InsertMany(ctx, []any{
		bson.D{{Key: "_id", Value: int64(100)}, {Key: "nn", Value: "a"}, {Key: "extra", Value: int32(1)}},
		bson.D{{Key: "_id", Value: int64(101)}, {Key: "nn", Value: "b"}, {Key: "f", Value: 0.1}},
		bson.D{{Key: "_id", Value: int64(102)}, {Key: "nn", Value: "c"}, {Key: "i8", Value: int32(300)}},
		bson.D{{Key: "_id", Value: int64(103)}},
	}); err != nil {
		t.Fatal(err)
	}
	bpath := filepath.Join(dir, "mongo.imb")
	if out, err := runCLI(t, "-q", "export", "--source", mURL, "-o", bpath); err != nil {
		t.Fatalf("export from MongoDB: %v\n%s", err, out)
	}

	// The application's schema: the original tables, empty.
	appURL, app := testenv.MySQLDatabase(t, "m2s_dst")
	if out, err := runCLI(t, "-q", "import", apath, "--target", appURL); err != nil {
		t.Fatalf("create the schema: %v\n%s", err, out)
	}
	for _, tb := range []string{"edge", "pair", "nopk"} {
		if _, err := app.Exec("TRUNCATE TABLE " + tb); err != nil {
			t.Fatal(err)
		}
	}
	rejects := filepath.Join(dir, "rejects.jsonl")
	out, err := runCLI(t, "-q", "import", bpath, "--target", appURL, "--rejects", rejects)
	if exitCodeOf(err) != exitRejects {
		t.Fatalf("import into the existing tables: exit %d (%v), want %d (rejects)\n%s", exitCodeOf(err), err, exitRejects, out)
	}
	reasons := rejectReasons(t, rejects)
	sort.Strings(reasons)
	want := []string{"field extra: the table has no column extra", "field f (double): 0.1 has no exact FLOAT", "field i8 (32-bit integer): 300 is out of the column's range", "the document has no field nn, and column nn is NOT NULL"}
	if len(reasons) != len(want) {
		t.Fatalf("rejects %q, want %d", reasons, len(want))
	}
	for i, w := range want {
		if !strings.Contains(reasons[i], w) {
			t.Errorf("reject %q, want it to say %q", reasons[i], w)
		}
	}
	if out, err := runCLI(t, "verify", apath, "--against", appURL); err != nil {
		t.Fatalf("verify the original MySQL bundle against MySQL -> MongoDB -> MySQL: %v\n%s", err, out)
	}
	out, err = runCLI(t, "verify", bpath, "--against", appURL)
	if err != nil || !strings.Contains(out, "4 refused by the conversion") {
		t.Fatalf("verify the MongoDB bundle against the existing tables: %v\n%s", err, out)
	}
	if _, err := app.Exec("UPDATE pair SET v = 13 WHERE a = 2"); err != nil {
		t.Fatal(err)
	}
	out, err = runCLI(t, "verify", bpath, "--against", appURL)
	if exitCodeOf(err) != exitMismatch || !strings.Contains(out, "MISMATCH") {
		t.Fatalf("verify after a changed row: exit %d (%v), want %d\n%s", exitCodeOf(err), err, exitMismatch, out)
	}
}

// TestMySQLDecimalsThroughBSONIntoExisting takes the values FerretDB 1.x
// cannot store (Decimal128: DECIMAL(65,30), BIGINT UNSIGNED above 2^63)
// MySQL -> BSON -> the same table in-process: the rows come back with the
// bundle's own digest. A Decimal128 with more fractional digits than the
// column's scale is a reject, never rounded.
func TestMySQLDecimalsThroughBSONIntoExisting(t *testing.T) {
	r, ds, toMongo := exportedConversion(t, "m2s_dec", []string{
		"CREATE TABLE num (id INT PRIMARY KEY, u64 BIGINT UNSIGNED, dec65 DECIMAL(65,30), dec2 DECIMAL(10,2), f FLOAT)",
		`INSERT INTO num VALUES (1, 18446744073709551615, '1234567890123456789.012345678901234', 1.50, -0.0),
 (3, 9223372036854775808, 0, -99999999.99, 16777216), (4, NULL, '-0.000000000000000000000000000001', 0, NULL)`,
	}, "mongodb")
	back, err := convert.Into(toMongo.Dataset, toMongo.Source, "mysql", ds)
	if err != nil || back == nil || len(back.Refused) > 0 {
		t.Fatalf("no conversion into the existing table: %v %+v", err, back)
	}
	pr, err := r.OpenPart(ds, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	fail := func(rj convert.Reject) error { t.Errorf("reject %+v", rj); return nil }
	recs := back.Records(toMongo.Records(pr, 0, fail), 0, fail)
	var d bundle.Digest
	for {
		rec, err := recs.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		d.AddRecord(rec)
	}
	if got := d.Spec(); got.Rows != ds.Rows || got.Sum != ds.Digest.Sum {
		t.Errorf("MySQL -> BSON -> MySQL: %d rows digest %s, the bundle's %d rows %s", got.Rows, got.Sum, ds.Rows, ds.Digest.Sum)
	}

	// A value with more fractional digits than DECIMAL(10,2) holds.
	dec, err := bson.ParseDecimal128("1.505")
	if err != nil {
		t.Fatal(err)
	}
	h, l := dec.GetBytes()
	doc := bsoncore.NewDocumentBuilder().AppendInt32("_id", 9).AppendDecimal128("dec2", h, l).Build()
	b := mongotype.NewBuilder(nil)
	defer b.Release()
	if err := b.Append(bson.Raw(doc)); err != nil {
		t.Fatal(err)
	}
	var rejects []convert.Reject
	one := back.Records(&sliceRecords{recs: []arrow.RecordBatch{b.NewRecord()}}, 0, func(rj convert.Reject) error { rejects = append(rejects, rj); return nil })
	if _, err := one.Next(); err != io.EOF {
		t.Errorf("a row from 1.505 into DECIMAL(10,2): %v", err)
	}
	if len(rejects) != 1 || !strings.Contains(rejects[0].Reason, "more than 2 fractional digits") {
		t.Errorf("rejects %+v, want 1.505 refused for its scale", rejects)
	}
}

// sliceRecords yields recs, then io.EOF.
type sliceRecords struct{ recs []arrow.RecordBatch }

func (s *sliceRecords) Next() (arrow.RecordBatch, error) {
	if len(s.recs) == 0 {
		return nil, io.EOF
	}
	r := s.recs[0]
	s.recs = s.recs[1:]
	return r, nil
}
