package main

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/bundletest"
	"github.com/imbundle/imbundle/internal/testenv"
	"github.com/imbundle/imbundle/spec"
)

// Delta bundles applied to MySQL through the CLI (SPEC.md §14.3): the
// base exported and imported, the source changed and exported again, a
// delta between the two made by hand (bundletest.WriteDelta). The target
// after the delta equals the changed source (verify --against the changed
// full bundle and the delta itself); a second run changes nothing; a
// target that does not hold the parent refuses it (exit 6, nothing
// written) unless --force; a run that finds an earlier run's committed
// parts starts over; the rollback bundle puts the base back.
func TestMySQLDeltaImport(t *testing.T) {
	srcURL, src := testenv.MySQLDatabase(t, "cli_delta_src")
	exec := func(db *sql.DB, qs ...string) {
		t.Helper()
		for _, q := range qs {
			if _, err := db.Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}
	exec(src,
		"CREATE TABLE pairs (a INT, b VARCHAR(10), val VARCHAR(20), PRIMARY KEY (a, b)) ENGINE=InnoDB",
		"CREATE TABLE logs (msg VARCHAR(20)) ENGINE=InnoDB", // no primary key: carried whole
		"CREATE TABLE stay (id INT PRIMARY KEY, v INT) ENGINE=InnoDB",
		"CREATE TABLE gone (id INT PRIMARY KEY) ENGINE=InnoDB",
		"INSERT INTO pairs VALUES (1, 'x', 'one'), (1, 'y', 'two'), (2, 'x', 'three'), (3, 'it''s', 'quote')",
		"INSERT INTO logs VALUES ('a'), ('b')",
		"INSERT INTO stay VALUES (1, 1), (2, 2)",
		"INSERT INTO gone VALUES (1)",
	)
	dir := t.TempDir()
	base, state, delta := filepath.Join(dir, "base.imb"), filepath.Join(dir, "state.imb"), filepath.Join(dir, "delta.imb")
	export := func(path string) {
		t.Helper()
		if out, err := runCLI(t, "-q", "export", "--source", srcURL, "-o", path, "--param", "lock-wait=2"); err != nil {
			t.Fatalf("export: %v\n%s", err, out)
		}
	}
	export(base)
	exec(src,
		"UPDATE pairs SET val = 'TWO' WHERE a = 1 AND b = 'y'",
		"DELETE FROM pairs WHERE a = 3",
		"INSERT INTO pairs VALUES (4, 'z', 'four')",
		"INSERT INTO logs VALUES ('c')",
		"DROP TABLE gone",
	)
	export(state)
	sums := bundletest.WriteDelta(t, delta, base, state)
	for name, want := range map[string]string{"pairs": spec.ChangeRows, "logs": spec.ChangeWhole, "stay": spec.ChangeNone} {
		var got string
		for n, d := range sums {
			if strings.HasSuffix(n, "."+name) {
				got = d.Change
			}
		}
		if got != want {
			t.Fatalf("hand-made delta: dataset %s is %q, want %q (%v)", name, got, want, sums)
		}
	}
	baseID, deltaID := bundleID(t, base), bundleID(t, delta)

	stateSchema := testenv.Name("cli_delta_state")
	param := []string{"--param", "state-schema=" + stateSchema}
	dstURL, dst := testenv.MySQLDatabase(t, "cli_delta_dst")
	dstName := dstURL[strings.LastIndex(dstURL, "/")+1:]
	t.Cleanup(func() { dst.Exec("DROP DATABASE IF EXISTS `" + stateSchema + "`") })
	imp := func(args ...string) (string, error) {
		return runCLI(t, append(append([]string{"-q", "import"}, args...), param...)...)
	}
	if out, err := imp(base, "--target", dstURL); err != nil {
		t.Fatalf("import of the base: %v\n%s", err, out)
	}
	applied := func() string {
		t.Helper()
		var id, b string
		var depth int
		if err := dst.QueryRow("SELECT bundle_id, base_id, depth FROM `"+stateSchema+"`.applied WHERE db = ?", dstName).Scan(&id, &b, &depth); err != nil {
			t.Fatalf("last-applied record of %s: %v", dstName, err)
		}
		if b != baseID {
			t.Errorf("last-applied base %s, want %s", b, baseID)
		}
		return id + " " + string(rune('0'+depth))
	}
	if got := applied(); got != baseID+" 0" {
		t.Fatalf("after the base: last applied %q, want the base at depth 0", got)
	}
	afterBase := mysqlState(t, dst, dstName)

	// Deleted keys are parts like any other: one damaged (its bytes
	// changed, the ZIP's CRC fixed) stops the import before its first
	// write (exit 5).
	damaged := filepath.Join(dir, "damaged.imb")
	raw, err := os.ReadFile(delta)
	if err != nil {
		t.Fatal(err)
	}
	dpart := ""
	for _, ds := range manifestOf(t, delta).Datasets {
		if ds.Delta.Deleted != nil {
			dpart = ds.Delta.Deleted.Parts[0].Path
		}
	}
	off, n := bundletest.EntryAt(t, raw, dpart)
	body := append([]byte(nil), raw[off:off+n]...)
	body[n/2] ^= 0xff
	bundletest.ReplaceEntry(t, raw, dpart, body)
	if err := os.WriteFile(damaged, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := imp(damaged, "--target", dstURL, "--no-rollback")
	if code := exitCodeOf(err); code != exitBadInput {
		t.Errorf("a delta with a damaged deleted-keys part: exit %d (%v), want %d\n%s", code, err, exitBadInput, out)
	}
	if got := mysqlState(t, dst, dstName); got != afterBase {
		t.Errorf("the damaged delta changed the target")
	}

	out, err = imp(delta, "--target", dstURL)
	if err != nil {
		t.Fatalf("import of the delta: %v\n%s", err, out)
	}
	rb := rollbackWrote.FindStringSubmatch(out)
	if rb == nil {
		t.Fatalf("the delta import named no rollback bundle:\n%s", out)
	}
	if got := applied(); got != deltaID+" 1" {
		t.Errorf("after the delta: last applied %q, want the delta at depth 1", got)
	}
	checkDeltaTarget := func(what string) {
		t.Helper()
		for _, b := range []string{state, delta} {
			if out, err := runCLI(t, "verify", b, "--against", dstURL); err != nil {
				t.Errorf("%s: verify %s --against the target: %v\n%s", what, filepath.Base(b), err, out)
			}
		}
		if got := queryStrings(t, dst, "SELECT CONCAT(a, ':', b, '=', val) FROM pairs ORDER BY a, b"); strings.Join(got, ",") != "1:x=one,1:y=TWO,2:x=three,4:z=four" {
			t.Errorf("%s: pairs holds %v", what, got)
		}
		if got := queryStrings(t, dst, "SELECT msg FROM logs ORDER BY msg"); strings.Join(got, ",") != "a,b,c" {
			t.Errorf("%s: logs holds %v", what, got)
		}
		if got := queryStrings(t, dst, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'gone'"); len(got) != 0 {
			t.Errorf("%s: the dropped table is still there", what)
		}
	}
	checkDeltaTarget("after the delta")
	afterDelta := mysqlState(t, dst, dstName)

	// Twice: nothing written.
	out, err = imp(delta, "--target", dstURL)
	if err != nil || !strings.Contains(out, "already applied") {
		t.Errorf("the delta again: %v\n%s", err, out)
	}
	if got := mysqlState(t, dst, dstName); got != afterDelta {
		t.Errorf("the delta applied again changed the target:\n%s\nwant\n%s", got, afterDelta)
	}

	// A re-run after a kill: the record still names the parent, and an
	// earlier run committed parts of the delta (progress rows). The
	// re-run deletes the entities again and loads every part again.
	exec(dst, "UPDATE `"+stateSchema+"`.applied SET bundle_id = '"+baseID+"', depth = 0")
	exec(dst, "CREATE TABLE IF NOT EXISTS `"+stateSchema+"`.progress (bundle_id CHAR(64) CHARACTER SET ascii NOT NULL, db VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL, tbl VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL, part INT NOT NULL, dataset VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL, `rows` BIGINT NOT NULL, rejected BIGINT NOT NULL DEFAULT 0, loaded_at DATETIME(6) NOT NULL, PRIMARY KEY (bundle_id, db, tbl, part)) ENGINE=InnoDB",
		"INSERT INTO `"+stateSchema+"`.progress VALUES ('"+deltaID+"', '"+dstName+"', 'pairs', 0, 'x', 2, 0, NOW(6))")
	if out, err := imp(delta, "--target", dstURL); err != nil {
		t.Fatalf("re-run of the delta: %v\n%s", err, out)
	}
	checkDeltaTarget("after a re-run")

	// A target that last applied another bundle (the changed full one,
	// then drifted in a row the delta rewrites) refuses the delta, writing
	// nothing; --force applies it.
	otherURL, other := testenv.MySQLDatabase(t, "cli_delta_other")
	otherName := otherURL[strings.LastIndex(otherURL, "/")+1:]
	if out, err := imp(state, "--target", otherURL); err != nil {
		t.Fatalf("import of the changed full bundle: %v\n%s", err, out)
	}
	exec(other, "UPDATE pairs SET val = 'drift' WHERE a = 1 AND b = 'y'")
	before := mysqlState(t, other, otherName)
	out, err = imp(delta, "--target", otherURL)
	if code := exitCodeOf(err); code != exitRefused {
		t.Fatalf("a delta onto a target that does not hold its parent: exit %d (%v), want %d\n%s", code, err, exitRefused, out)
	}
	if msg := err.Error(); !strings.Contains(msg, deltaID[:16]) || !strings.Contains(msg, baseID[:16]) || !strings.Contains(msg, "--force") {
		t.Errorf("the refusal names neither both bundles nor --force: %v", err)
	}
	if got := mysqlState(t, other, otherName); got != before {
		t.Errorf("the refused delta changed the target")
	}
	if out, err := imp(delta, "--target", otherURL, "--force", "--no-rollback"); err != nil {
		t.Fatalf("--force: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "verify", state, "--against", otherURL); err != nil {
		t.Errorf("verify after --force: %v\n%s", err, out)
	}
	// verify of the delta against a target that drifted: the digests
	// differ, and no row of the delta (which is not the table's content)
	// is named as a difference.
	exec(other, "UPDATE pairs SET val = 'drift' WHERE a = 2")
	out, err = runCLI(t, "verify", delta, "--against", otherURL)
	if code := exitCodeOf(err); code != exitMismatch || !strings.Contains(out, "MISMATCH") {
		t.Errorf("verify of the delta against a drifted target: exit %d (%v), want %d\n%s", code, err, exitMismatch, out)
	}
	if strings.Contains(out, "at row") {
		t.Errorf("verify of the delta named rows of the delta as differences:\n%s", out)
	}

	// The rollback bundle of the first delta run puts the base back, the
	// dropped table included.
	if out, err := runCLI(t, "-q", "rollback", rb[1], "--target", dstURL); err != nil {
		t.Fatalf("rollback: %v\n%s", err, out)
	}
	if got := mysqlState(t, dst, dstName); got != afterBase {
		t.Errorf("after the rollback:\n%s\nwant the base's state\n%s", got, afterBase)
	}
}

// bundleID is the id of the bundle at path.
func bundleID(t *testing.T, path string) string {
	t.Helper()
	r, err := bundle.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	return r.ID()
}

// TestRedisDeltaImport: a delta of a Redis database through the CLI: a
// hash that lost a field, a key deleted, a key whose TTL changed (carried
// in rows, though the digest leaves TTLs out) and a key added; the
// last-applied hash imbundle:applied is left out of verify's read.
func TestRedisDeltaImport(t *testing.T) {
	ctx := context.Background()
	const srcDB, dstDB, otherDB = 7, 8, 9
	src := testenv.Redis(t, srcDB)
	for _, db := range []int{srcDB, dstDB, otherDB} {
		if err := testenv.Redis(t, db).FlushDB(ctx).Err(); err != nil {
			t.Fatal(err)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(src.HSet(ctx, "h", "a", "1", "b", "2", "c", "3").Err())
	must(src.Set(ctx, "s", "v", 0).Err())
	must(src.Set(ctx, "gone", "x", 0).Err())
	must(src.Set(ctx, "ttl", "t", time.Hour).Err())
	must(src.RPush(ctx, "keep", "1", "2").Err())
	dir := t.TempDir()
	base, state, delta := filepath.Join(dir, "base.imb"), filepath.Join(dir, "state.imb"), filepath.Join(dir, "delta.imb")
	export := func(path string) {
		t.Helper()
		if out, err := runCLI(t, "-q", "export", "--source", redisURL(srcDB), "-o", path); err != nil {
			t.Fatalf("export: %v\n%s", err, out)
		}
	}
	export(base)
	must(src.HDel(ctx, "h", "c").Err())
	must(src.Del(ctx, "gone").Err())
	must(src.Expire(ctx, "ttl", 3*time.Hour).Err())
	must(src.SAdd(ctx, "new", "m").Err())
	export(state)
	sums := bundletest.WriteDelta(t, delta, base, state)
	if d := sums["redis.db7"]; d.Change != spec.ChangeRows || d.Changed != 2 || d.Inserted != 1 || d.Removals != 1 {
		t.Fatalf("hand-made delta: %+v, want rows: 2 changed (h, ttl), 1 new, 1 removed", d)
	}
	if d := sums["redis.db7.stream-state"]; d.Change != spec.ChangeNone {
		t.Fatalf("hand-made delta: stream state %+v, want none", d)
	}
	deltaID := bundleID(t, delta)
	imp := func(args ...string) (string, error) { return runCLI(t, append([]string{"-q", "import"}, args...)...) }
	if out, err := imp(base, "--target", redisURL(dstDB)); err != nil {
		t.Fatalf("import of the base: %v\n%s", err, out)
	}
	out, err := imp(delta, "--target", redisURL(dstDB))
	if err != nil {
		t.Fatalf("import of the delta: %v\n%s", err, out)
	}
	if !strings.Contains(out, "rollback bundle: wrote") {
		t.Errorf("the delta import wrote no rollback bundle:\n%s", out)
	}
	for _, b := range []string{state, delta} {
		if out, err := runCLI(t, "verify", b, "--against", redisURL(dstDB)); err != nil {
			t.Errorf("verify %s --against the target: %v\n%s", filepath.Base(b), err, out)
		}
	}
	dst := testenv.Redis(t, dstDB)
	if got, _ := dst.HGetAll(ctx, "h").Result(); len(got) != 2 || got["c"] != "" {
		t.Errorf("h after the delta: %v, want a and b", got)
	}
	if n, _ := dst.Exists(ctx, "gone").Result(); n != 0 {
		t.Errorf("the deleted key is still there")
	}
	if ttl, _ := dst.TTL(ctx, "ttl").Result(); ttl < 2*time.Hour {
		t.Errorf("ttl's TTL after the delta: %s, want about 3h", ttl)
	}
	if id, _ := dst.HGet(ctx, "imbundle:applied", "bundle_id").Result(); id != deltaID {
		t.Errorf("imbundle:applied names %q, want the delta %s", id, deltaID)
	}
	after := redisState(t, dstDB)
	out, err = imp(delta, "--target", redisURL(dstDB))
	if err != nil || !strings.Contains(out, "already applied") {
		t.Errorf("the delta again: %v\n%s", err, out)
	}
	if got := redisState(t, dstDB); got != after {
		t.Errorf("the delta applied again changed the target:\n%s\nwant\n%s", got, after)
	}

	if out, err := imp(state, "--target", redisURL(otherDB)); err != nil {
		t.Fatalf("import of the changed full bundle: %v\n%s", err, out)
	}
	before := redisState(t, otherDB)
	out, err = imp(delta, "--target", redisURL(otherDB))
	if code := exitCodeOf(err); code != exitRefused {
		t.Fatalf("a delta onto a target that does not hold its parent: exit %d (%v), want %d\n%s", code, err, exitRefused, out)
	}
	if got := redisState(t, otherDB); got != before {
		t.Errorf("the refused delta changed the target")
	}
	if out, err := imp(delta, "--target", redisURL(otherDB), "--force", "--no-rollback"); err != nil {
		t.Fatalf("--force: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "verify", state, "--against", redisURL(otherDB)); err != nil {
		t.Errorf("verify after --force: %v\n%s", err, out)
	}
}

// TestMongoDeltaImport: a delta of a MongoDB database through the CLI:
// documents changed, deleted (a string _id) and added by _id, an
// unchanged collection left alone, a dropped one dropped.
func TestMongoDeltaImport(t *testing.T) {
	ctx := context.Background()
	srcURL, src := testenv.MongoDatabase(t, "clideltasrc")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	users := src.Collection("users")
	_, err := users.InsertMany(ctx, []any{bson.D{{Key: "_id", Value: 1}, {Key: "n", Value: "a"}}, bson.D{{Key: "_id", Value: 2}, {Key: "n", Value: "b"}}, bson.D{{Key: "_id", Value: "s"}, {Key: "n", Value: "c"}}})
	must(err)
	_, err = src.Collection("stay").InsertOne(ctx, bson.D{{Key: "_id", Value: 1}})
	must(err)
	_, err = src.Collection("gone").InsertOne(ctx, bson.D{{Key: "_id", Value: 1}})
	must(err)
	dir := t.TempDir()
	base, state, delta := filepath.Join(dir, "base.imb"), filepath.Join(dir, "state.imb"), filepath.Join(dir, "delta.imb")
	export := func(path string) {
		t.Helper()
		if out, err := runCLI(t, "-q", "export", "--source", srcURL, "-o", path); err != nil {
			t.Fatalf("export: %v\n%s", err, out)
		}
	}
	export(base)
	_, err = users.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "$set", Value: bson.D{{Key: "n", Value: "A"}}}})
	must(err)
	_, err = users.DeleteOne(ctx, bson.D{{Key: "_id", Value: "s"}})
	must(err)
	_, err = users.InsertOne(ctx, bson.D{{Key: "_id", Value: 3}, {Key: "n", Value: "d"}})
	must(err)
	must(src.Collection("gone").Drop(ctx))
	export(state)
	sums := bundletest.WriteDelta(t, delta, base, state)
	for n, d := range sums {
		want := spec.ChangeNone
		if strings.HasSuffix(n, ".users") {
			want = spec.ChangeRows
		}
		if d.Change != want {
			t.Fatalf("hand-made delta: %s is %+v, want %s", n, d, want)
		}
	}
	deltaID := bundleID(t, delta)
	dstURL, dst := testenv.MongoDatabase(t, "clideltadst")
	imp := func(args ...string) (string, error) { return runCLI(t, append([]string{"-q", "import"}, args...)...) }
	if out, err := imp(base, "--target", dstURL); err != nil {
		t.Fatalf("import of the base: %v\n%s", err, out)
	}
	if out, err := imp(delta, "--target", dstURL); err != nil {
		t.Fatalf("import of the delta: %v\n%s", err, out)
	}
	for _, b := range []string{state, delta} {
		if out, err := runCLI(t, "verify", b, "--against", dstURL); err != nil {
			t.Errorf("verify %s --against the target: %v\n%s", filepath.Base(b), err, out)
		}
	}
	var got []string
	for _, d := range testenv.RawDocs(t, dst.Collection("users")) {
		got = append(got, d.Lookup("_id").String()+"="+d.Lookup("n").StringValue())
	}
	sort.Strings(got)
	if strings.Join(got, ",") != `{"$numberInt":"1"}=A,{"$numberInt":"2"}=b,{"$numberInt":"3"}=d` {
		t.Errorf("users after the delta: %v", got)
	}
	if names, _ := dst.ListCollectionNames(ctx, bson.D{{Key: "name", Value: "gone"}}); len(names) != 0 {
		t.Errorf("the dropped collection is still there")
	}
	var rec struct {
		BundleID string `bson:"bundle_id"`
		Depth    int    `bson:"depth"`
	}
	if err := dst.Client().Database("imbundle").Collection("applied").FindOne(ctx, bson.D{{Key: "_id", Value: dst.Name()}}).Decode(&rec); err != nil || rec.BundleID != deltaID || rec.Depth != 1 {
		t.Errorf("last-applied record of %s: %+v (%v), want the delta at depth 1", dst.Name(), rec, err)
	}
	after := mongoState(t, dst)
	out, err := imp(delta, "--target", dstURL)
	if err != nil || !strings.Contains(out, "already applied") {
		t.Errorf("the delta again: %v\n%s", err, out)
	}
	if got := mongoState(t, dst); got != after {
		t.Errorf("the delta applied again changed the target")
	}

	otherURL, other := testenv.MongoDatabase(t, "clideltaother")
	if out, err := imp(state, "--target", otherURL); err != nil {
		t.Fatalf("import of the changed full bundle: %v\n%s", err, out)
	}
	before := mongoState(t, other)
	out, err = imp(delta, "--target", otherURL)
	if code := exitCodeOf(err); code != exitRefused {
		t.Fatalf("a delta onto a target that does not hold its parent: exit %d (%v), want %d\n%s", code, err, exitRefused, out)
	}
	if got := mongoState(t, other); got != before {
		t.Errorf("the refused delta changed the target")
	}
	if out, err := imp(delta, "--target", otherURL, "--force", "--no-rollback"); err != nil {
		t.Fatalf("--force: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "verify", state, "--against", otherURL); err != nil {
		t.Errorf("verify after --force: %v\n%s", err, out)
	}

	// A delta converted into another engine is refused: exit 6.
	mysqlURL, mysqlDB := testenv.MySQLDatabase(t, "cli_delta_conv")
	out, err = imp(delta, "--target", mysqlURL, "--force")
	if code := exitCodeOf(err); code != exitRefused || !strings.Contains(err.Error(), "delta") {
		t.Errorf("a delta converted into MySQL: exit %d (%v), want %d\n%s", code, err, exitRefused, out)
	}
	if tables := queryStrings(t, mysqlDB, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"); len(tables) != 0 {
		t.Errorf("the refused conversion created %v", tables)
	}
}

// TestRedisDeltaNewDatabase: a database the parent did not select is
// carried whole: the target database needs no last-applied record, and
// ends holding exactly the source's keys (a stale key there is deleted,
// which --mode replace alone would keep).
func TestRedisDeltaNewDatabase(t *testing.T) {
	ctx := context.Background()
	const oldDB, newDB, oldDst, newDst = 7, 6, 8, 5
	server := "redis://" + testenv.RedisAddr()
	clients := map[int]*redis.Client{}
	for _, db := range []int{oldDB, newDB, oldDst, newDst} {
		clients[db] = testenv.Redis(t, db)
		if err := clients[db].FlushDB(ctx).Err(); err != nil {
			t.Fatal(err)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(clients[oldDB].Set(ctx, "a", "1", 0).Err())
	must(clients[oldDB].Set(ctx, "b", "2", 0).Err())
	dir := t.TempDir()
	base, state, delta := filepath.Join(dir, "base.imb"), filepath.Join(dir, "state.imb"), filepath.Join(dir, "delta.imb")
	if out, err := runCLI(t, "-q", "export", "--source", server, "--param", "db=7", "-o", base); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	must(clients[oldDB].Set(ctx, "b", "two", 0).Err())
	must(clients[newDB].HSet(ctx, "h", "f", "v").Err())
	if out, err := runCLI(t, "-q", "export", "--source", server, "--param", "db=6,7", "-o", state); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	sums := bundletest.WriteDelta(t, delta, base, state)
	if sums["redis.db6"].Change != spec.ChangeWhole || sums["redis.db7"].Change != spec.ChangeRows {
		t.Fatalf("hand-made delta: %v, want db6 whole and db7 rows", sums)
	}
	maps := []string{"--db-map", "7:8", "--db-map", "6:5"}
	if out, err := runCLI(t, append([]string{"-q", "import", base, "--target", server}, maps...)...); err != nil {
		t.Fatalf("import of the base: %v\n%s", err, out)
	}
	must(clients[newDst].Set(ctx, "stale", "not the source's", 0).Err())
	if out, err := runCLI(t, append([]string{"-q", "import", delta, "--target", server, "--no-rollback"}, maps...)...); err != nil {
		t.Fatalf("import of the delta: %v\n%s", err, out)
	}
	if out, err := runCLI(t, append([]string{"verify", state, "--against", server}, maps...)...); err != nil {
		t.Errorf("verify --against the target: %v\n%s", err, out)
	}
	if n, _ := clients[newDst].Exists(ctx, "stale").Result(); n != 0 {
		t.Errorf("the stale key of the database the delta carries whole is still there")
	}
	deltaID := bundleID(t, delta)
	for _, db := range []int{oldDst, newDst} {
		if id, _ := clients[db].HGet(ctx, "imbundle:applied", "bundle_id").Result(); id != deltaID {
			t.Errorf("db %d: imbundle:applied names %q, want the delta", db, id)
		}
	}
}
