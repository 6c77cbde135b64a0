package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/testenv"
)

// rcKeys, rcKeysBack and rcKeysHash are the Redis databases of the
// key-pattern tests: the source, the way back, the hash keys (2 and 3 are
// convert_tables_redis_test.go's, 4..7 convert_redis_test.go's, 9..14
// other packages').
const rcKeys, rcKeysBack, rcKeysHash = 8, 1, 15

// keysBulk conversations have both keys, scattered over several parts.
const keysBulk = 20000

// fillSeqKeys writes OpenIM 3.4's sequence counters: conversations with
// both MAX_SEQ and MIN_SEQ, with one of them, a value that is no integer,
// a hash and a key with a TTL where a pattern expects a string, a merge
// conflict (LEGACY_MAX and MAX_SEQ of one conversation), and keys no
// pattern matches.
func fillSeqKeys(t *testing.T, c *redis.Client) {
	t.Helper()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	pipe := c.Pipeline()
	for i := 0; i < keysBulk; i++ {
		conv := fmt.Sprintf("si_%06d_%s", i, strings.Repeat("u", 40))
		pipe.Set(ctx, "MAX_SEQ:"+conv, fmt.Sprint(i), 0)
		pipe.Set(ctx, "MIN_SEQ:"+conv, fmt.Sprint(i/2), 0)
	}
	_, err := pipe.Exec(ctx)
	must(err)
	for k, v := range map[string]string{
		"MAX_SEQ:c1": "10", "MIN_SEQ:c1": "1",
		"MAX_SEQ:c2": "5",
		"MIN_SEQ:c3": "-2",
		"MAX_SEQ:c4": "12abc", "MIN_SEQ:c4": "3",
		"MAX_SEQ:c5": "7", "LEGACY_MAX:c5": "7",
		"MIN_SEQ:c6":         "4",
		"HAS_READ_SEQ:u1:c1": "3",
	} {
		must(c.Set(ctx, k, v, 0).Err())
	}
	must(c.PExpireAt(ctx, "MIN_SEQ:c6", time.Now().Add(time.Hour)).Err())
	must(c.HSet(ctx, "MAX_SEQ:h", "f", "1").Err())
	must(c.HSet(ctx, "USER_INFO:u1", "name", "ann").Err())
}

const seqMapping = `version: 1
datasets:
  - match: "redis.db8"
    target: %s
    keys:
      - pattern: "MAX_SEQ:{conversation_id}"
        value: {field: max_seq, type: integer}
      - pattern: "MIN_SEQ:{conversation_id}"
        value: {field: min_seq, type: integer}
      - pattern: "LEGACY_MAX:{conversation_id}"
        value: {field: max_seq, type: integer}
    merge_by: [conversation_id]
`

// TestRedisKeysMergedIntoMongoAndMySQL: MAX_SEQ:{conversation_id} and
// MIN_SEQ:{conversation_id} keys, scattered over several parts, become one
// document per conversation in MongoDB and one row per conversation in a
// MySQL table the application created, with the sort spilling runs; a
// conversation with one of the keys has one field; a value that is no
// integer, a hash or a key with a TTL under a pattern, and a conflict are
// rejects naming the keys; unmatched keys are counted as filtered; verify
// --against matches, and fails after a changed document or row.
func TestRedisKeysMergedIntoMongoAndMySQL(t *testing.T) {
	ctx := context.Background()
	rc := testenv.Redis(t, rcKeys)
	rc.FlushDB(ctx)
	t.Cleanup(func() { rc.FlushDB(context.Background()) })
	fillSeqKeys(t, rc)
	dir := t.TempDir()
	path := filepath.Join(dir, "seq.imb")
	if out, err := runCLI(t, "-q", "export", "--source", "redis://"+testenv.RedisAddr(), "--db", fmt.Sprint(rcKeys), "--part-size", "1", "-o", path); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	r, err := bundle.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	parts := len(r.Manifest().Datasets[0].Parts)
	r.Close()
	if parts < 2 {
		t.Fatalf("the keyspace is %d part(s): the test means to merge keys across parts", parts)
	}
	// Conversation c1's keys and the bulk keys' pairs are in SCAN order:
	// only a merge over the whole dataset finds both halves.
	wantRejects := map[string]string{
		"MAX_SEQ:c4": "is not an integer", "MAX_SEQ:h": "is a hash", "MIN_SEQ:c6": "has an expiry",
		"c5": "merge conflict: keys",
	}
	checkRejects := func(t *testing.T, file string) {
		t.Helper()
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		if len(lines) != len(wantRejects) {
			t.Errorf("%d rejects, want %d:\n%s", len(lines), len(wantRejects), data)
		}
		for _, l := range lines {
			var rj struct {
				Key    []string
				Reason string
			}
			if err := json.Unmarshal([]byte(l), &rj); err != nil {
				t.Fatal(err)
			}
			if len(rj.Key) != 1 || !strings.Contains(rj.Reason, wantRejects[rj.Key[0]]) || wantRejects[rj.Key[0]] == "" {
				t.Errorf("reject %s: want one per key of %v", l, wantRejects)
			}
			if rj.Key[0] == "c5" && (!strings.Contains(rj.Reason, `"LEGACY_MAX:c5"`) || !strings.Contains(rj.Reason, `"MAX_SEQ:c5"`)) {
				t.Errorf("the conflict does not name both keys: %s", rj.Reason)
			}
		}
	}

	// The report counts the dataset's layout rows, the records written,
	// the rejects and the two keys no pattern matches.
	checkReport := func(t *testing.T, out string) {
		t.Helper()
		for _, l := range strings.Split(out, "\n") {
			if f := strings.Fields(l); len(f) > 5 && f[0] == "redis.db8" {
				if got := strings.Join(f[2:6], " "); got != fmt.Sprintf("%d %d 4 2", 2*keysBulk+14, keysBulk+4) {
					t.Errorf("bundle rows, written, rejected, filtered: %s, want %d %d 4 2\n%s", got, 2*keysBulk+14, keysBulk+4, out)
				}
				return
			}
		}
		t.Errorf("no line for redis.db8 in the report:\n%s", out)
	}

	// stopped runs an import that stops at its first reject, inside the
	// merged dataset's one part (begun: MongoDB's resume marker says so),
	// as an interrupted one does; its sort files must be gone after it.
	stopped := func(t *testing.T, dstURL, mapFile string) {
		t.Helper()
		out, err := runCLI(t, "-q", "import", path, "--target", dstURL, "--map", mapFile, "--rejects", filepath.Join(t.TempDir(), "r.jsonl"), "--max-rejects", "0", "--sort-memory", "1", "--temp-dir", dir)
		if err == nil || !strings.Contains(err.Error(), "run the same command again to resume") {
			t.Fatalf("import with --max-rejects 0: %v, want it stopped\n%s", err, out)
		}
	}
	// againImported runs the finished import once more: nothing to do.
	againImported := func(t *testing.T, dstURL, mapFile string) {
		t.Helper()
		out, err := runCLI(t, "import", path, "--target", dstURL, "--map", mapFile, "--rejects", filepath.Join(t.TempDir(), "r.jsonl"))
		if err != nil || !strings.Contains(out, "already imported") {
			t.Errorf("the same import again: %v, want already imported\n%s", err, out)
		}
	}

	// backToRedis exports the converted collection or table and imports it
	// into Redis database rcKeysBack by the same patterns (the way back):
	// the string keys that were exported, less the rejected ones;
	// verify --against Redis with that mapping matches.
	back := testenv.Redis(t, rcKeysBack)
	backToRedis := func(t *testing.T, engine, srcURL, dataset string) {
		t.Helper()
		back.FlushDB(ctx)
		t.Cleanup(func() { back.FlushDB(context.Background()) })
		exp := filepath.Join(t.TempDir(), engine+".imb")
		if out, err := runCLI(t, "-q", "export", "--source", srcURL, "-o", exp); err != nil {
			t.Fatalf("export from %s: %v\n%s", engine, err, out)
		}
		mapFile := filepath.Join(t.TempDir(), "back.yaml")
		b := strings.Replace(fmt.Sprintf(seqMapping, fmt.Sprintf("%q", fmt.Sprint(rcKeysBack))), `"redis.db8"`, `"`+dataset+`"`, 1)
		os.WriteFile(mapFile, []byte(b), 0o644)
		if out, err := runCLI(t, "-q", "import", exp, "--target", "redis://"+testenv.RedisAddr(), "--map", mapFile, "--datasets", dataset); err != nil {
			t.Fatalf("import into Redis: %v\n%s", err, out)
		}
		if n := userKeys(ctx, back); n != 2*keysBulk+5 {
			t.Errorf("%d keys back, want %d", n, 2*keysBulk+5)
		}
		for k, v := range map[string]string{"MAX_SEQ:c1": "10", "MIN_SEQ:c1": "1", "MAX_SEQ:c2": "5", "MIN_SEQ:c3": "-2", "MIN_SEQ:c4": "3", "MIN_SEQ:si_000077_" + strings.Repeat("u", 40): "38"} {
			if got, err := back.Get(ctx, k).Result(); got != v {
				t.Errorf("%s = %q (%v), want %q", k, got, err, v)
			}
		}
		if n := back.Exists(ctx, "MIN_SEQ:c2", "MAX_SEQ:c4", "MAX_SEQ:c5", "LEGACY_MAX:c5").Val(); n != 0 {
			t.Errorf("%d keys that no record gives", n)
		}
		if out, err := runCLI(t, "verify", exp, "--against", "redis://"+testenv.RedisAddr(), "--map", mapFile, "--datasets", dataset); err != nil {
			t.Errorf("verify --against Redis: %v\n%s", err, out)
		}
	}

	t.Run("mongo", func(t *testing.T) {
		dstURL, db := testenv.MongoDatabase(t, "h_keys")
		mapFile := filepath.Join(dir, "mongo.yaml")
		os.WriteFile(mapFile, []byte(fmt.Sprintf(seqMapping, db.Name()+".seq")), 0o644)
		out, err := runCLI(t, "plan", path, "--target", dstURL, "--map", mapFile)
		if err != nil || !strings.Contains(out, "redis-keys to mongodb-collection v1") || !strings.Contains(out, db.Name()+".seq") {
			t.Errorf("plan: %v\n%s", err, out)
		}
		rejects := filepath.Join(dir, "mongo-rejects.jsonl")
		stopped(t, dstURL, mapFile)
		// Resumed: the part begun is loaded again whole, no document twice.
		// A 1 MiB sort budget: the 40,000 keys spill several runs.
		out, err = runCLI(t, "import", path, "--target", dstURL, "--map", mapFile, "--rejects", rejects, "--sort-memory", "1", "--temp-dir", dir)
		if exitCodeOf(err) != exitRejects {
			t.Fatalf("import: exit %d (%v), want %d (rejects)\n%s", exitCodeOf(err), err, exitRejects, out)
		}
		checkReport(t, out)
		checkRejects(t, rejects)
		if m, _ := filepath.Glob(filepath.Join(dir, "imbundle-sort-*")); len(m) != 0 {
			t.Errorf("sort files left: %v", m)
		}
		docs := testenv.RawDocs(t, db.Collection("seq"))
		if len(docs) != keysBulk+4 {
			t.Fatalf("%d documents, want %d", len(docs), keysBulk+4)
		}
		want := []bson.D{
			{{Key: "_id", Value: "c1"}, {Key: "conversation_id", Value: "c1"}, {Key: "max_seq", Value: int64(10)}, {Key: "min_seq", Value: int64(1)}},
			{{Key: "_id", Value: "c2"}, {Key: "conversation_id", Value: "c2"}, {Key: "max_seq", Value: int64(5)}},
			{{Key: "_id", Value: "c3"}, {Key: "conversation_id", Value: "c3"}, {Key: "min_seq", Value: int64(-2)}},
			{{Key: "_id", Value: "c4"}, {Key: "conversation_id", Value: "c4"}, {Key: "min_seq", Value: int64(3)}},
		}
		for i, w := range want {
			wb, _ := bson.Marshal(w)
			if string(docs[i]) != string(wb) {
				t.Errorf("document %d: %s, want %s", i, docs[i], bson.Raw(wb))
			}
		}
		for i, d := range docs[4:] {
			conv := fmt.Sprintf("si_%06d_%s", i, strings.Repeat("u", 40))
			if d.Lookup("_id").StringValue() != conv || d.Lookup("max_seq").Int64() != int64(i) || d.Lookup("min_seq").Int64() != int64(i/2) {
				t.Fatalf("document %s, want conversation %s with max_seq %d, min_seq %d", d, conv, i, i/2)
			}
		}
		againImported(t, dstURL, mapFile)
		out, err = runCLI(t, "verify", path, "--against", dstURL, "--map", mapFile, "--sort-memory", "1", "--temp-dir", dir)
		if err != nil || !strings.Contains(out, "4 refused by the conversion") || !strings.Contains(out, "2 left out by the mapping") {
			t.Fatalf("verify --against: %v\n%s", err, out)
		}
		backToRedis(t, "mongodb", dstURL, db.Name()+".seq")
		db.Collection("seq").UpdateOne(ctx, bson.D{{Key: "_id", Value: "c2"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "max_seq", Value: int64(6)}}}})
		if out, err := runCLI(t, "verify", path, "--against", dstURL, "--map", mapFile); exitCodeOf(err) != exitMismatch {
			t.Errorf("verify after a changed document: exit %d, want %d\n%s", exitCodeOf(err), exitMismatch, out)
		}
	})

	t.Run("mysql", func(t *testing.T) {
		dstURL, db := testenv.MySQLDatabase(t, "h_keys")
		name := dstURL[strings.LastIndexByte(dstURL, '/')+1:]
		mapFile := filepath.Join(dir, "mysql.yaml")
		os.WriteFile(mapFile, []byte(fmt.Sprintf(seqMapping, name+".seq")), 0o644)
		rejects := filepath.Join(dir, "mysql-rejects.jsonl")
		// No table yet: nothing is written.
		out, err := runCLI(t, "-q", "import", path, "--target", dstURL, "--map", mapFile, "--rejects", rejects)
		if err == nil || !strings.Contains(err.Error(), mapFile+":6:") || !strings.Contains(err.Error(), "create it first") {
			t.Errorf("import without the table: %v\n%s", err, out)
		}
		if _, err := db.Exec("CREATE TABLE seq (conversation_id varchar(128) NOT NULL PRIMARY KEY, max_seq bigint NULL, min_seq bigint NULL, note varchar(10) NULL)"); err != nil {
			t.Fatal(err)
		}
		stopped(t, dstURL, mapFile)
		out, err = runCLI(t, "import", path, "--target", dstURL, "--map", mapFile, "--rejects", rejects, "--sort-memory", "1", "--temp-dir", dir)
		if exitCodeOf(err) != exitRejects {
			t.Fatalf("import: exit %d (%v), want %d\n%s", exitCodeOf(err), err, exitRejects, out)
		}
		checkRejects(t, rejects)
		checkReport(t, out)
		rows, err := db.Query("SELECT conversation_id, COALESCE(CAST(max_seq AS CHAR), 'NULL'), COALESCE(CAST(min_seq AS CHAR), 'NULL'), note IS NULL FROM seq ORDER BY conversation_id")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var c, mx, mn string
			var noteNull bool
			rows.Scan(&c, &mx, &mn, &noteNull)
			if !noteNull {
				t.Errorf("note of %s is set", c)
			}
			got = append(got, c+"="+mx+"/"+mn)
		}
		rows.Close()
		if len(got) != keysBulk+4 || strings.Join(got[:4], " ") != "c1=10/1 c2=5/NULL c3=NULL/-2 c4=NULL/3" || got[4+77] != fmt.Sprintf("si_%06d_%s=77/38", 77, strings.Repeat("u", 40)) {
			t.Errorf("%d rows, first %v", len(got), got[:min(len(got), 5)])
		}
		againImported(t, dstURL, mapFile)
		out, err = runCLI(t, "verify", path, "--against", dstURL, "--map", mapFile)
		if err != nil || !strings.Contains(out, "4 refused by the conversion") {
			t.Fatalf("verify --against: %v\n%s", err, out)
		}
		backToRedis(t, "mysql", dstURL, name+".seq")
		db.Exec("UPDATE seq SET min_seq = 2 WHERE conversation_id = 'c1'")
		if out, err := runCLI(t, "verify", path, "--against", dstURL, "--map", mapFile); exitCodeOf(err) != exitMismatch {
			t.Errorf("verify after a changed row: exit %d, want %d\n%s", exitCodeOf(err), exitMismatch, out)
		}
		// A field the table has no column for is refused at its line.
		os.WriteFile(mapFile, []byte(fmt.Sprintf(seqMapping, name+".seq")+"      - pattern: \"READ:{conversation_id}:{user_id}\"\n        value: {field: read_seq, type: integer}\n"), 0o644)
		b := strings.ReplaceAll(string(must(os.ReadFile(mapFile))), "    merge_by: [conversation_id]\n", "")
		os.WriteFile(mapFile, []byte(b+"    merge_by: [conversation_id]\n"), 0o644)
		out, err = runCLI(t, "-q", "import", path, "--target", dstURL, "--map", mapFile, "--mode", "replace")
		if err == nil || !strings.Contains(err.Error(), mapFile+":12:") || !strings.Contains(err.Error(), "no column user_id") {
			t.Errorf("import with a capture the table lacks: %v\n%s", err, out)
		}
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestKeysMappingErrors: patterns the rule cannot take fail at their line
// before anything is read.
func TestKeysMappingErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "empty.imb")
	rc := testenv.Redis(t, rcKeys)
	rc.FlushDB(context.Background())
	if out, err := runCLI(t, "-q", "export", "--source", "redis://"+testenv.RedisAddr(), "--db", fmt.Sprint(rcKeys), "-o", path); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	dstURL, _ := testenv.MongoDatabase(t, "h_keyerr")
	for _, c := range []struct{ keys, where, why string }{
		{"      - pattern: \"MAX_SEQ:{conversation_id\"\n        value: {field: m, type: integer}\n", ":6:", "is not closed"},
		{"      - pattern: \"MAX_SEQ:conversation_id}\"\n        value: {field: m, type: integer}\n", ":6:", "closes no capture"},
		{"      - pattern: \"S:{a}:{a}\"\n        value: {field: m, type: integer}\n", ":6:", "two captures named a"},
		{"      - pattern: \"S:{a}{b}\"\n        value: {field: m, type: integer}\n", ":6:", "touch"},
		{"      - pattern: \"S:{conversation_id}\"\n        value: {field: m, type: int}\n", ":7:", "want integer, float"},
		{"      - pattern: \"S:{user}\"\n        value: {field: m, type: integer}\n", ":6:", "captures no {conversation_id}"},
		{"      - pattern: \"S:{conversation_id}\"\n", ":6:", "needs value"},
	} {
		mapFile := filepath.Join(dir, "m.yaml")
		os.WriteFile(mapFile, []byte("version: 1\ndatasets:\n  - match: \"redis.db8\"\n    target: x.seq\n    keys:\n"+c.keys+"    merge_by: [conversation_id]\n"), 0o644)
		out, err := runCLI(t, "plan", path, "--target", dstURL, "--map", mapFile)
		if exitCodeOf(err) != exitBadInput || !strings.Contains(err.Error(), mapFile+c.where) || !strings.Contains(err.Error(), c.why) {
			t.Errorf("%q: exit %d %v, want %d at %s%s saying %q\n%s", c.keys, exitCodeOf(err), err, exitBadInput, mapFile, c.where, c.why, out)
		}
	}
}

// TestRedisHashKeysIntoMongo: a hash pattern takes a hash key's fields as
// the document's fields, by their declared types, through a real Redis
// and FerretDB; verify --against matches.
func TestRedisHashKeysIntoMongo(t *testing.T) {
	ctx := context.Background()
	rc := testenv.Redis(t, rcKeysHash)
	rc.FlushDB(ctx)
	t.Cleanup(func() { rc.FlushDB(context.Background()) })
	rc.HSet(ctx, "USER_INFO:u1", "nickname", "ann", "level", "3")
	rc.HSet(ctx, "USER_INFO:u2", "nickname", "bo")
	rc.Set(ctx, "ONLINE:u2", "1", 0)
	path := filepath.Join(t.TempDir(), "h.imb")
	if out, err := runCLI(t, "-q", "export", "--source", "redis://"+testenv.RedisAddr(), "--db", fmt.Sprint(rcKeysHash), "-o", path); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	dstURL, db := testenv.MongoDatabase(t, "h_hash")
	mapFile := filepath.Join(t.TempDir(), "m.yaml")
	os.WriteFile(mapFile, []byte(fmt.Sprintf(`version: 1
datasets:
  - match: "redis.db%d"
    target: %s.user
    keys:
      - pattern: "USER_INFO:{user_id}"
        fields: {nickname: string, level: integer}
      - pattern: "ONLINE:{user_id}"
        value: {field: online, type: integer}
    merge_by: [user_id]
`, rcKeysHash, db.Name())), 0o644)
	if out, err := runCLI(t, "-q", "import", path, "--target", dstURL, "--map", mapFile, "--datasets", fmt.Sprintf("redis.db%d", rcKeysHash)); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	docs := testenv.RawDocs(t, db.Collection("user"))
	want := []bson.D{
		{{Key: "_id", Value: "u1"}, {Key: "user_id", Value: "u1"}, {Key: "level", Value: int64(3)}, {Key: "nickname", Value: "ann"}},
		{{Key: "_id", Value: "u2"}, {Key: "user_id", Value: "u2"}, {Key: "nickname", Value: "bo"}, {Key: "online", Value: int64(1)}},
	}
	if len(docs) != len(want) {
		t.Fatalf("%d documents, want %d", len(docs), len(want))
	}
	for i, w := range want {
		if wb, _ := bson.Marshal(w); string(docs[i]) != string(wb) {
			t.Errorf("document %d: %s, want %s", i, docs[i], bson.Raw(wb))
		}
	}
	if out, err := runCLI(t, "verify", path, "--against", dstURL, "--map", mapFile, "--datasets", fmt.Sprintf("redis.db%d", rcKeysHash)); err != nil {
		t.Errorf("verify --against: %v\n%s", err, out)
	}
}
