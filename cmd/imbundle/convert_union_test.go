package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/convert"
	"github.com/imbundle/imbundle/internal/enginetest"
	"github.com/imbundle/imbundle/internal/testenv"
)

// unionShards is the number of WildfireChat-like shard tables, and
// unionRows each one's rows: ids 1..unionRows in every shard (the
// auto-increment key repeats across shards), _mid unique across them
// (shard + 4·k, so that _mid % 4 is the shard).
const unionShards, unionRows = 4, 25

const unionMapping = `version: 1
datasets:
  - match: "*.t_messages_*"
    target: messages
    union: true
    id: objectid
`

// unionShardQueries creates t_messages_0..3 and fills them.
func unionShardQueries() []string {
	var q []string
	for n := 0; n < unionShards; n++ {
		q = append(q, wfMessageDDL(n))
		var vals []string
		for k := 0; k < unionRows; k++ {
			mid := n + unionShards*k
			vals = append(vals, fmt.Sprintf("(%d, %d, 'u%d', %d, 'g%d', 0, 'payload %d', %s, '2024-0%d-1%d 10:00:0%d', 1, '')",
				k+1, mid, k%5, k%2, k%3, mid, map[bool]string{true: "NULL", false: fmt.Sprintf("'hello %d'", mid)}[k%4 == 0], n+1, k%10, k%10))
		}
		q = append(q, fmt.Sprintf("INSERT INTO t_messages_%d VALUES %s", n, strings.Join(vals, ", ")))
	}
	return q
}

// TestUnionShardsIntoOneCollection: WildfireChat's message shards
// t_messages_0..3 (MySQL) become one MongoDB collection by a mapping
// entry's union: plan lists the collection with its four datasets, the
// import loads every row once (id: objectid hashes each shard's name, so
// the repeated ids give distinct _ids), verify --against compares the
// collection with the four datasets' sum and sees a lost document; mode
// replace drops the collection once and reloads it; without id: objectid
// the repeated ids are loud rejects (MongoDB's duplicate key), never a
// silent overwrite; and the way back, by a route into the four
// pre-created shard tables, verifies green against the original bundle.
func TestUnionShardsIntoOneCollection(t *testing.T) {
	ctx := context.Background()
	srcURL, bpath := exportedMySQL(t, "un_src", unionShardQueries())
	srcDB := srcURL[strings.LastIndex(srcURL, "/")+1:]
	if i := strings.IndexByte(srcDB, '?'); i >= 0 {
		srcDB = srcDB[:i]
	}
	dir := t.TempDir()
	mapFile := filepath.Join(dir, "union.yaml")
	write := func(s string) {
		if err := os.WriteFile(mapFile, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(unionMapping)
	dstURL, dst := testenv.MongoDatabase(t, "un_dst")
	coll := dst.Collection("messages")
	count := func() int64 {
		n, err := coll.CountDocuments(ctx, bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	out, err := runCLI(t, "plan", bpath, "--target", dstURL, "--map", mapFile)
	if err != nil {
		t.Fatalf("plan: %v\n%s", err, out)
	}
	wantUnion := fmt.Sprintf("union    collection %s.messages <- 4 datasets (%s:3:", srcDB, mapFile)
	if !strings.Contains(out, wantUnion) || !strings.Contains(out, srcDB+".t_messages_0, "+srcDB+".t_messages_1, ") || !strings.Contains(out, "derived from the dataset's name") {
		t.Errorf("plan: want %q listing the shards, and the union's _id note, in\n%s", wantUnion, out)
	}

	out, err = runCLI(t, "-q", "import", bpath, "--target", dstURL, "--map", mapFile)
	if err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	if n := count(); n != unionShards*unionRows {
		t.Fatalf("%d documents, want %d", n, unionShards*unionRows)
	}
	for n := 0; n < unionShards; n++ {
		line := fmt.Sprintf(`t_messages_%d\s+\S+messages\s+%d\s+%d\s+0\s`, n, unionRows, unionRows)
		if !regexp.MustCompile(line).MatchString(out) {
			t.Errorf("import report: want %s in\n%s", line, out)
		}
	}
	// Shard 2's row 7 is a document of its own, with its id as a field.
	var doc bson.M
	if err := coll.FindOne(ctx, bson.D{{Key: "_mid", Value: int64(2 + unionShards*6)}}).Decode(&doc); err != nil || doc["id"] != int32(7) && doc["id"] != int64(7) {
		t.Errorf("the document of _mid %d: %v (%v), want id 7", 2+unionShards*6, doc, err)
	}
	if _, ok := doc["_id"].(bson.ObjectID); !ok {
		t.Errorf("_id %T, want an ObjectId", doc["_id"])
	}
	ixs, err := coll.Indexes().ListSpecifications(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ixs) != 3 { // _id_, message_mid_index, message_target_index: each once
		t.Errorf("indexes %v, want 3", ixs)
	}

	verifyOut := func() (string, error) { return runCLI(t, "verify", bpath, "--against", dstURL, "--map", mapFile) }
	out, err = verifyOut()
	wantMatch := fmt.Sprintf("match    *.t_messages_* (union of 4) -> %s.messages: %d rows", dst.Name(), unionShards*unionRows)
	if err != nil || !strings.Contains(out, wantMatch) || strings.Count(out, "match    ") != 1 {
		t.Fatalf("verify --against: %v, want one line %q\n%s", err, wantMatch, out)
	}

	// Mode fail finds the collection holding exactly the bundle: nothing
	// to do. Mode replace drops it once and loads all four again.
	if out, err := runCLI(t, "-q", "import", bpath, "--target", dstURL, "--map", mapFile); err != nil {
		t.Errorf("import again, mode fail: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "-q", "import", bpath, "--target", dstURL, "--map", mapFile, "--mode", "replace"); err != nil || count() != unionShards*unionRows {
		t.Errorf("import --mode replace: %v, %d documents\n%s", err, count(), out)
	}
	if out, err := runCLI(t, "-q", "import", bpath, "--target", dstURL, "--map", mapFile, "--mode", "append"); err != nil || count() != unionShards*unionRows {
		t.Errorf("import --mode append: %v, %d documents\n%s", err, count(), out)
	}

	// A lost document: red.
	if _, err := coll.DeleteOne(ctx, bson.D{{Key: "_mid", Value: int64(3)}}); err != nil {
		t.Fatal(err)
	}
	out, err = verifyOut()
	if exitCodeOf(err) != exitMismatch || !strings.Contains(out, fmt.Sprintf("MISMATCH *.t_messages_* (union of 4) -> %s.messages: bundle %d rows", dst.Name(), unionShards*unionRows)) {
		t.Errorf("verify after a lost document: exit %d (%v), want %d\n%s", exitCodeOf(err), err, exitMismatch, out)
	}

	// The way back: the collection, exported, goes by a route into the four
	// shard tables the application created, and equals the original.
	back := filepath.Join(dir, "back.imb")
	if out, err := runCLI(t, "-q", "import", bpath, "--target", dstURL, "--map", mapFile, "--mode", "replace"); err != nil {
		t.Fatalf("import --mode replace: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "-q", "export", "--source", dstURL, "-o", back); err != nil {
		t.Fatalf("export of the collection: %v\n%s", err, out)
	}
	routeFile := filepath.Join(dir, "back.yaml")
	if err := os.WriteFile(routeFile, []byte(`version: 1
datasets:
  - match: "*.messages"
    route: '"t_messages_" + string(_mid % 4)'
    objects: ["t_messages_{0..3}"]
    drop: [_id]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	mysqlURL, mysqlDB := testenv.MySQLDatabase(t, "un_back")
	for n := 0; n < unionShards; n++ {
		if _, err := mysqlDB.Exec(wfMessageDDL(n)); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := runCLI(t, "-q", "import", back, "--target", mysqlURL, "--map", routeFile); err != nil {
		t.Fatalf("import of the collection into the shards: %v\n%s", err, out)
	}
	backDB := mysqlURL[strings.LastIndex(mysqlURL, "/")+1:]
	if i := strings.IndexByte(backDB, '?'); i >= 0 {
		backDB = backDB[:i]
	}
	out, err = runCLI(t, "verify", bpath, "--against", mysqlURL, "--map", srcDB+"="+backDB)
	if err != nil || strings.Count(out, "match    "+srcDB+".t_messages_") != unionShards {
		t.Errorf("verify the shards against the original bundle: %v, want %d matches\n%s", err, unionShards, out)
	}

	// Without id: objectid, _id is each shard's id, which repeats: the
	// documents after the first of each id are MongoDB's duplicate key
	// rejects, in the reject file, and the import exits 4.
	write(strings.Replace(unionMapping, "    id: objectid\n", "", 1))
	dupURL, dupDB := testenv.MongoDatabase(t, "un_dup")
	rejects := filepath.Join(dir, "rejects.jsonl")
	out, err = runCLI(t, "-q", "import", bpath, "--target", dupURL, "--map", mapFile, "--rejects", rejects)
	if exitCodeOf(err) != exitRejects {
		t.Fatalf("import with repeated _ids: exit %d (%v), want %d\n%s", exitCodeOf(err), err, exitRejects, out)
	}
	reasons := rejectReasons(t, rejects)
	if len(reasons) != (unionShards-1)*unionRows || !strings.Contains(reasons[0], "code 11000") {
		t.Errorf("%d rejects, want %d duplicate keys; first %q", len(reasons), (unionShards-1)*unionRows, reasons[:min(1, len(reasons))])
	}
	if n, err := dupDB.Collection("messages").CountDocuments(ctx, bson.D{}); err != nil || n != unionRows {
		t.Errorf("%d documents (%v), want %d: one per id", n, err, unionRows)
	}
}

// TestUnionRefusals: two datasets onto one object without union stay
// refused, naming union: true; union without a target, with a route, or
// with a match naming one dataset is an error at its line; a union into a
// target that loads none (MySQL) is refused before anything is written.
func TestUnionRefusals(t *testing.T) {
	_, bpath := exportedMySQL(t, "un_ref", unionShardQueries())
	dir := t.TempDir()
	mapFile := filepath.Join(dir, "m.yaml")
	write := func(s string) {
		if err := os.WriteFile(mapFile, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dstURL, dst := testenv.MongoDatabase(t, "un_ref")
	write(strings.Replace(unionMapping, "    union: true\n", "", 1))
	out, err := runCLI(t, "-q", "import", bpath, "--target", dstURL, "--map", mapFile)
	if exitCodeOf(err) != exitError || !strings.Contains(fmt.Sprint(err), "would both load into") || !strings.Contains(fmt.Sprint(err), "union: true") {
		t.Errorf("two shards into one collection without union: exit %d (%v)\n%s", exitCodeOf(err), err, out)
	}
	if names, _ := dst.ListCollectionNames(context.Background(), bson.D{}); len(names) != 0 {
		t.Errorf("a refused union wrote %v", names)
	}
	// Mode fail: a collection that held a document before the union began
	// is refused once, however many datasets load into it.
	write(unionMapping)
	if _, err := dst.Collection("messages").InsertOne(context.Background(), bson.D{{Key: "_id", Value: "theirs"}}); err != nil {
		t.Fatal(err)
	}
	out, err = runCLI(t, "-q", "import", bpath, "--target", dstURL, "--map", mapFile)
	if want := "--mode fail: 1 target collection(s) already hold data: " + dst.Name() + ".messages;"; exitCodeOf(err) != exitRefused || !strings.Contains(fmt.Sprint(err), want) {
		t.Errorf("a union into a collection holding a document: exit %d (%v), want %d and %q\n%s", exitCodeOf(err), err, exitRefused, want, out)
	}
	if n, _ := dst.Collection("messages").CountDocuments(context.Background(), bson.D{}); n != 1 {
		t.Errorf("the refused union left %d documents, want the 1 there before", n)
	}
	for _, c := range []struct{ yaml, want string }{
		{"version: 1\ndatasets:\n  - match: \"*.t_messages_*\"\n    union: true\n", ":4:12: union needs a target"},
		{"version: 1\ndatasets:\n  - match: \"db.t_messages_0\"\n    target: m\n    union: true\n", ":5:12: union needs a match that is a glob"},
		{"version: 1\ndatasets:\n  - match: \"*.t_*\"\n    union: true\n    route: '\"a\"'\n    objects: [a]\n", ":4:12: union and route in one entry"},
	} {
		write(c.yaml)
		if _, err := runCLI(t, "plan", bpath, "--target", dstURL, "--map", mapFile); exitCodeOf(err) != exitBadInput || !strings.Contains(fmt.Sprint(err), mapFile+c.want) {
			t.Errorf("%q: exit %d (%v), want %d and %q", c.yaml, exitCodeOf(err), err, exitBadInput, c.want)
		}
	}

	// Two collections into one MySQL table: that target loads no union.
	ctx := context.Background()
	srcURL, src := testenv.MongoDatabase(t, "un_refm")
	for _, c := range []string{"c_0", "c_1"} {
		if _, err := src.Collection(c).InsertOne(ctx, bson.D{{Key: "_id", Value: int64(1)}, {Key: "v", Value: c}}); err != nil {
			t.Fatal(err)
		}
	}
	mpath := filepath.Join(dir, "m.imb")
	if out, err := runCLI(t, "-q", "export", "--source", srcURL, "-o", mpath); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	mysqlURL, mysqlDB := testenv.MySQLDatabase(t, "un_refm")
	if _, err := mysqlDB.Exec("CREATE TABLE t (_id bigint PRIMARY KEY, v text)"); err != nil {
		t.Fatal(err)
	}
	write("version: 1\ndatasets:\n  - match: \"*.c_*\"\n    target: t\n    union: true\n")
	if out, err := runCLI(t, "plan", mpath, "--target", mysqlURL, "--map", mapFile); exitCodeOf(err) != exitRefused || !strings.Contains(out, "REFUSED: "+mapFile+":5:12: a mysql target loads no union yet") {
		t.Errorf("plan of a union into MySQL: exit %d (%v), want %d and the refusal\n%s", exitCodeOf(err), err, exitRefused, out)
	}
	out, err = runCLI(t, "-q", "import", mpath, "--target", mysqlURL, "--map", mapFile)
	if exitCodeOf(err) != exitRefused || !strings.Contains(fmt.Sprint(err), "this target loads no union yet") {
		t.Errorf("a union into MySQL: exit %d (%v), want %d\n%s", exitCodeOf(err), err, exitRefused, out)
	}
	var n int
	if err := mysqlDB.QueryRow("SELECT COUNT(*) FROM t").Scan(&n); err != nil || n != 0 {
		t.Errorf("a refused union wrote %d rows (%v)", n, err)
	}
}

// TestUnionResumes: a union import of four shards of several parts each
// that fails after some parts, one half-written, run again with the same
// command, ends with every row once and verify --against green: each
// shard's parts have resume markers of their own (all four have a part 0).
func TestUnionResumes(t *testing.T) {
	srcURL, src := testenv.MySQLDatabase(t, "unr_src")
	for n := 0; n < unionShards; n++ {
		if _, err := src.Exec(wfMessageDDL(n)); err != nil {
			t.Fatal(err)
		}
		var vals []string
		for k := 0; k < 300; k++ {
			vals = append(vals, fmt.Sprintf("(%d, %d, 'u', 0, 'g', 0, REPEAT('x', 200), NULL, '2024-01-01 00:00:00', 1, '')", k+1, n+unionShards*k))
		}
		if _, err := src.Exec(fmt.Sprintf("INSERT INTO t_messages_%d VALUES %s", n, strings.Join(vals, ", "))); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "b.imb")
	m := enginetest.ExportSmallParts(t, srcURL, path, 50)
	parts := 0
	for _, ds := range m.Datasets {
		if len(ds.Parts) < 2 {
			t.Fatalf("%s has %d parts, want several", ds.Name, len(ds.Parts))
		}
		parts += len(ds.Parts)
	}
	mapFile := filepath.Join(dir, "union.yaml")
	if err := os.WriteFile(mapFile, []byte(unionMapping), 0o644); err != nil {
		t.Fatal(err)
	}
	mapping, err := convert.LoadMapping(mapFile)
	if err != nil {
		t.Fatal(err)
	}
	dstURL, dst := testenv.MongoDatabase(t, "unr_dst")
	enginetest.ImportFailingMapped(t, path, dstURL, nil, mapping, parts/2)
	out, err := runCLI(t, "-q", "import", path, "--target", dstURL, "--map", mapFile)
	if err != nil || strings.Contains(out, "rejects:") {
		t.Fatalf("the re-run: %v\n%s", err, out)
	}
	if n, err := dst.Collection("messages").CountDocuments(context.Background(), bson.D{}); err != nil || n != unionShards*300 {
		t.Errorf("%d documents (%v) after the re-run, want %d", n, err, unionShards*300)
	}
	if out, err := runCLI(t, "verify", path, "--against", dstURL, "--map", mapFile); err != nil {
		t.Errorf("verify --against after the resumed union: %v\n%s", err, out)
	}
}
