package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/fixtures"
	"github.com/imbundle/imbundle/internal/testenv"
)

// rcChecks is the Redis database the OpenIM seq keys of the checks test go
// into.
const rcChecks = 12

// checkResult is one check of verify --json's checks line.
type checkResult struct {
	Name       string
	Kind       string
	Rows       int64
	Violations int64
	First      []string `json:"first_violations"`
	Skipped    string
}

// runChecksJSON runs verify FILE --json with the args and returns the
// checks by name.
func runChecksJSON(t *testing.T, file string, args ...string) map[string]checkResult {
	t.Helper()
	out, err := runCLI(t, append([]string{"verify", file, "--json"}, args...)...)
	if err != nil {
		t.Fatalf("verify %v: %v\n%s", args, err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var res struct{ Checks []checkResult }
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	byName := map[string]checkResult{}
	for _, c := range res.Checks {
		byName[c.Name] = c
	}
	return byName
}

// keyOrder sorts texts as the checks' sort keys do: shorter first, then
// bytewise (values are length-prefixed).
func keyOrder(s []string) {
	sort.Slice(s, func(i, j int) bool {
		if len(s[i]) != len(s[j]) {
			return len(s[i]) < len(s[j])
		}
		return s[i] < s[j]
	})
}

func queryStrings(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// TestChecksWildfire: the wildfirechat-checks profile, run offline on an
// exported WildfireChat fixture, reports exactly the dirty records the
// fixture planted, each also found here independently by SQL: the orphan
// inbox rows (over the 36 message shards), the drifted member counts, the
// repeated inbox _seq values (inbox-seq-unique and inbox-seq-increasing)
// and the duplicate _mid rows an old professional edition's plain index
// let in (message-mid-unique); every other invariant holds. A clean fixture reports none; --strict turns
// violations into exit 3.
func TestChecksWildfire(t *testing.T) {
	ctx := context.Background()
	srcURL, src := testenv.MySQLDatabase(t, "chk_wf")
	_, dirty, err := fixtures.LoadWildfireMySQL(ctx, src, fixtures.WildfireOptions{Users: 60, Groups: 40, Messages: 1200, Seed: 5, Dirty: 0.08, LegacyMidIndex: true})
	if err != nil {
		t.Fatal(err)
	}
	if dirty.OrphanUserMessages == 0 || dirty.MemberCountOff == 0 || dirty.SeqRepeats == 0 || dirty.DuplicateMids == 0 {
		t.Fatalf("the fixture planted %+v: choose a seed that plants every kind", dirty)
	}
	// The oracle: inbox rows whose _mid is in no message shard, and groups
	// whose _member_count is not their members of type != 4.
	var shards []string
	for i := 0; i < 36; i++ {
		shards = append(shards, fmt.Sprintf("SELECT _mid FROM t_messages_%d", i))
	}
	var orphans []string
	for i := 0; i < 128; i++ {
		orphans = append(orphans, queryStrings(t, src, fmt.Sprintf("SELECT CAST(_mid AS CHAR) FROM t_user_messages_%d WHERE _mid NOT IN (%s)", i, strings.Join(shards, " UNION ALL ")))...)
	}
	if int64(len(orphans)) != dirty.OrphanUserMessages {
		t.Fatalf("SQL finds %d orphan inbox rows, the fixture says it planted %d", len(orphans), dirty.OrphanUserMessages)
	}
	keyOrder(orphans)
	drifted := queryStrings(t, src, "SELECT CONCAT('\"', g._gid, '\" (_member_count=', g._member_count, ', members=', COUNT(IF(m._type <> 4, 1, NULL)), ')') FROM t_group g JOIN t_group_member m ON m._gid = g._gid GROUP BY g._gid, g._member_count HAVING g._member_count <> COUNT(IF(m._type <> 4, 1, NULL)) ORDER BY g._gid")
	if int64(len(drifted)) != dirty.MemberCountOff {
		t.Fatalf("SQL finds %d drifted member counts %v, the fixture says %d", len(drifted), drifted, dirty.MemberCountOff)
	}
	var repeats, dupMids []string
	for i := 0; i < 128; i++ {
		repeats = append(repeats, queryStrings(t, src, fmt.Sprintf("SELECT CONCAT(_uid, ' ', _seq) FROM t_user_messages_%d GROUP BY _uid, _seq HAVING COUNT(*) = 2", i))...)
	}
	for i := 0; i < 36; i++ {
		dupMids = append(dupMids, queryStrings(t, src, fmt.Sprintf("SELECT CAST(_mid AS CHAR) FROM t_messages_%d GROUP BY _mid HAVING COUNT(*) = 2", i))...)
	}
	if int64(len(repeats)) != dirty.SeqRepeats || int64(len(dupMids)) != dirty.DuplicateMids {
		t.Fatalf("SQL finds %d repeated _seq and %d duplicate _mid, the fixture says %d and %d", len(repeats), len(dupMids), dirty.SeqRepeats, dirty.DuplicateMids)
	}
	// Key order, value by value (keyOrder), then the check's spelling.
	sort.Slice(repeats, func(i, j int) bool {
		a, b := strings.Fields(repeats[i]), strings.Fields(repeats[j])
		if a[0] != b[0] {
			return len(a[0]) < len(b[0]) || len(a[0]) == len(b[0]) && a[0] < b[0]
		}
		return len(a[1]) < len(b[1]) || len(a[1]) == len(b[1]) && a[1] < b[1]
	})
	for i, r := range repeats {
		f := strings.Fields(r)
		repeats[i] = fmt.Sprintf("(%q, %q) (2 rows)", f[0], f[1])
	}
	keyOrder(dupMids)
	for i, m := range dupMids {
		dupMids[i] = fmt.Sprintf("%q (2 rows)", m)
	}
	file := filepath.Join(t.TempDir(), "wf.imb")
	if out, err := runCLI(t, "export", "-q", "--source", srcURL, "-o", file); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	got := runChecksJSON(t, file, "--profile", "wildfirechat-checks")
	if len(got) != 10 {
		t.Fatalf("%d checks ran, want the profile's 10: %+v", len(got), got)
	}
	inbox := got["inbox-row-has-message"]
	var want []string
	for i, o := range orphans {
		if i == 5 {
			break
		}
		want = append(want, fmt.Sprintf("%q", o))
	}
	if inbox.Violations != int64(len(orphans)) || strings.Join(inbox.First, " ") != strings.Join(want, " ") {
		t.Errorf("inbox-row-has-message: %d violations, first %v; want %d, first %v", inbox.Violations, inbox.First, len(orphans), want)
	}
	mc := got["group-member-count"]
	if mc.Violations != int64(len(drifted)) || mc.Rows != 40 || strings.Join(mc.First, "; ") != strings.Join(drifted[:min(5, len(drifted))], "; ") {
		t.Errorf("group-member-count: %+v; want %d violations: %v", mc, len(drifted), drifted)
	}
	for name, want := range map[string][]string{"inbox-seq-unique": repeats, "message-mid-unique": dupMids} {
		c := got[name]
		if c.Violations != int64(len(want)) || strings.Join(c.First, "; ") != strings.Join(want[:min(5, len(want))], "; ") {
			t.Errorf("%s: %+v; want %d violations, first %v", name, c, len(want), want[:min(5, len(want))])
		}
	}
	if c := got["inbox-seq-increasing"]; c.Violations != dirty.SeqRepeats {
		t.Errorf("inbox-seq-increasing: %+v; want the %d repeated _seq", c, dirty.SeqRepeats)
	}
	planted := map[string]bool{"inbox-row-has-message": true, "group-member-count": true, "inbox-seq-unique": true, "inbox-seq-increasing": true, "message-mid-unique": true}
	for name, c := range got {
		if !planted[name] && (c.Violations != 0 || c.Rows == 0 || c.Skipped != "") {
			t.Errorf("check %s: %+v, want rows checked and no violation", name, c)
		}
	}
	if out, err := runCLI(t, "verify", file, "--profile", "wildfirechat-checks", "--strict"); exitCodeOf(err) != exitMismatch || !strings.Contains(out, "group-member-count (compare): 40 rows, ") {
		t.Errorf("--strict with violations: exit %d (%v), want %d\n%s", exitCodeOf(err), err, exitMismatch, out)
	}

	cleanURL, clean := testenv.MySQLDatabase(t, "chk_wf_clean")
	if _, _, err := fixtures.LoadWildfireMySQL(ctx, clean, fixtures.WildfireOptions{Users: 40, Groups: 6, Messages: 500, Seed: 5, Dirty: -1}); err != nil {
		t.Fatal(err)
	}
	cleanFile := filepath.Join(t.TempDir(), "clean.imb")
	if out, err := runCLI(t, "export", "-q", "--source", cleanURL, "-o", cleanFile); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	for name, c := range runChecksJSON(t, cleanFile, "--profile", "wildfirechat-checks", "--strict") {
		if c.Violations != 0 || c.Rows == 0 {
			t.Errorf("clean site, check %s: %+v", name, c)
		}
	}
	// A row out of _seq order and a repeated _seq are what the two seq
	// checks are for: made by hand in the clean site's copy.
	var uid []string
	shard := 0
	for ; shard < 128 && len(uid) == 0; shard++ {
		uid = queryStrings(t, clean, fmt.Sprintf("SELECT _uid FROM t_user_messages_%d GROUP BY _uid HAVING COUNT(*) >= 3 ORDER BY _uid LIMIT 1", shard))
	}
	if len(uid) == 0 {
		t.Fatal("no user with three inbox rows")
	}
	if _, err := clean.Exec(fmt.Sprintf("UPDATE t_user_messages_%d SET _seq = 1 WHERE _uid = ? AND _seq = 3", shard-1), uid[0]); err != nil {
		t.Fatal(err)
	}
	cleanFile = filepath.Join(t.TempDir(), "seq.imb")
	if out, err := runCLI(t, "export", "-q", "--source", cleanURL, "-o", cleanFile); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	seq := runChecksJSON(t, cleanFile, "--profile", "wildfirechat-checks")
	if c := seq["inbox-seq-unique"]; c.Violations != 1 || len(c.First) != 1 || c.First[0] != fmt.Sprintf("(%q, \"1\") (2 rows)", uid[0]) {
		t.Errorf("inbox-seq-unique after a repeated _seq: %+v", c)
	}
	if c := seq["inbox-seq-increasing"]; c.Violations != 1 || !strings.Contains(c.First[0], fmt.Sprintf("%q at _mid=", uid[0])) || !strings.HasSuffix(c.First[0], "_seq=1 after 2") {
		t.Errorf("inbox-seq-increasing after _seq 3 became 1: %+v", c)
	}
}

// TestChecksOpenIM: the openim-v3.4-checks profile on the OpenIM 3.4 MySQL
// fixture, whose friendships are mirrored and groups have one owner each,
// reports nothing; after planting a one-way friendship, a second owner, a
// group without owner and a member of a group that does not exist, it
// reports exactly those.
func TestChecksOpenIM(t *testing.T) {
	ctx := context.Background()
	w := fixtures.MustNew(3, fixtures.Scale{Users: 40, Groups: 4, Messages: 300})
	srcURL, db := testenv.MySQLDatabase(t, "chk_oim")
	if _, err := fixtures.LoadOpenIMMySQL(ctx, db, w, fixtures.MySQLLoadOptions{}); err != nil {
		t.Fatal(err)
	}
	rc := testenv.Redis(t, rcChecks)
	rc.FlushDB(ctx)
	t.Cleanup(func() { rc.FlushDB(context.Background()) })
	redisURL := fmt.Sprintf("redis://%s/%d", testenv.RedisAddr(), rcChecks)
	if out, err := runCLI(t, "-q", "fixtures", "redis", "--target", redisURL, "--seed", "3", "--users", "40", "--groups", "4", "--messages", "300", "--edge=false"); err != nil {
		t.Fatalf("fixtures redis: %v\n%s", err, out)
	}
	export := func(name string) string {
		t.Helper()
		path := filepath.Join(t.TempDir(), name)
		if out, err := runCLI(t, "-q", "export", "--source", srcURL, "--source", "redis://"+testenv.RedisAddr(), "--db", fmt.Sprint(rcChecks), "-o", path); err != nil {
			t.Fatalf("export: %v\n%s", err, out)
		}
		return path
	}
	file := export("oim.imb")
	got := runChecksJSON(t, file, "--profile", "openim-v3.4-checks", "--strict")
	if len(got) != 7 {
		t.Fatalf("%d checks, want 7: %+v", len(got), got)
	}
	for name, c := range got {
		if c.Violations != 0 || c.Rows == 0 || c.Skipped != "" {
			t.Errorf("clean fixture, check %s: %+v", name, c)
		}
	}

	groups := queryStrings(t, db, "SELECT group_id FROM `groups` ORDER BY group_id")
	friend := queryStrings(t, db, "SELECT CONCAT(owner_user_id, ' ', friend_user_id) FROM friends ORDER BY owner_user_id, friend_user_id LIMIT 1")
	second := queryStrings(t, db, fmt.Sprintf("SELECT user_id FROM group_members WHERE group_id = '%s' AND role_level <> 100 ORDER BY user_id LIMIT 1", groups[0]))
	a, b, _ := strings.Cut(friend[0], " ")
	// A read position past its conversation's max seq, and one of a
	// conversation without MAX_SEQ.
	readKeys, err := rc.Keys(ctx, "HAS_READ_SEQ:*").Result()
	if err != nil || len(readKeys) == 0 {
		t.Fatalf("HAS_READ_SEQ keys: %v %v", readKeys, err)
	}
	sort.Strings(readKeys)
	past := strings.TrimPrefix(readKeys[0], "HAS_READ_SEQ:")
	conv := past[strings.IndexByte(past, ':')+1:]
	maxSeq, err := rc.Get(ctx, "MAX_SEQ:"+conv).Int()
	if err != nil {
		t.Fatal(err)
	}
	rc.Set(ctx, readKeys[0], maxSeq+1, 0)
	rc.Set(ctx, "HAS_READ_SEQ:u1:si_nobody", 3, 0)
	rc.Set(ctx, "MAX_SEQ:si_gone", 7, 0)
	for _, q := range []string{
		fmt.Sprintf("DELETE FROM friends WHERE owner_user_id = '%s' AND friend_user_id = '%s'", b, a),
		fmt.Sprintf("UPDATE group_members SET role_level = 100 WHERE group_id = '%s' AND user_id = '%s'", groups[0], second[0]),
		fmt.Sprintf("DELETE FROM group_members WHERE group_id = '%s' AND role_level = 100", groups[1]),
		fmt.Sprintf("INSERT INTO group_members (group_id, user_id, role_level) VALUES ('no-such-group', '%s', 20)", a),
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	file = export("dirty.imb")
	got = runChecksJSON(t, file, "--profile", "openim-v3.4-checks")
	seqs := []string{fmt.Sprintf("%q (max_seq=%d, value=\"%d\")", conv, maxSeq, maxSeq+1), `"si_nobody" (max_seq=NULL, value="3": invalid operation: int <= <nil> (1:12))`}
	order := []string{conv, "si_nobody"}
	if keyOrder(order); order[0] != conv {
		seqs[0], seqs[1] = seqs[1], seqs[0]
	}
	if c := got["read-seq-at-most-max-seq"]; c.Violations != 2 || strings.Join(c.First, "; ") != strings.Join(seqs, "; ") {
		t.Errorf("read-seq-at-most-max-seq: %+v, want %q", c, seqs)
	}
	owners := []string{fmt.Sprintf("%q (owners=2)", groups[0]), fmt.Sprintf("%q (owners=0)", groups[1])}
	keyOrder(owners)
	for name, want := range map[string][]string{
		"friendship-mirrored":         {fmt.Sprintf("(%q, %q)", a, b)},
		"group-has-one-owner":         owners,
		"group-at-most-one-owner-row": {fmt.Sprintf("%q (2 rows)", groups[0])},
		"group-member-in-group":       {`"no-such-group"`},
		"group-member-is-user":        nil,
		"max-seq-is-a-conversation":   {`"si_gone"`},
	} {
		c := got[name]
		if c.Violations != int64(len(want)) || strings.Join(c.First, "; ") != strings.Join(want, "; ") {
			t.Errorf("check %s: %d violations %q, want %q", name, c.Violations, c.First, want)
		}
	}
}

// TestChecksRefused: a mistaken check fails at its FILE:LINE:COLUMN, the
// file's when it is read (exit 5), a column the bundle lacks or an
// unknown name when the check runs (exit 5 too: the mapping is wrong for
// this bundle); a mapping without checks, and renames, are refused
// offline.
func TestChecksRefused(t *testing.T) {
	_, file := exportedMySQL(t, "chk_bad", []string{
		"CREATE TABLE g (id INT PRIMARY KEY, n INT)",
		"INSERT INTO g VALUES (1, 1), (2, 0)",
		"CREATE TABLE m (id INT PRIMARY KEY, g INT, t INT)",
		"INSERT INTO m VALUES (1, 1, 0), (2, 1, 4), (3, 9, 0)",
	})
	dir := t.TempDir()
	for _, c := range []struct {
		yaml, says string
		code       int
	}{
		{"version: 1\nchecks:\n  - name: a\n    relation: {from: \"*.m(g)\", to: \"*.g(id)\"}\n    unique: {of: \"*.m(g)\"}\n", ":3:11: check a: give exactly one of", exitBadInput},
		{"version: 1\nchecks:\n  - name: a\n    relation:\n      from: \"*.m(g, t)\"\n      to: \"*.g(id)\"\n", ":6:11: check a: 1 column(s) against 2", exitBadInput},
		{"version: 1\nchecks:\n  - name: a\n    unique:\n      of: \"*.m\"\n", `:5:11: "*.m": want DATASET_GLOB(column, ...)`, exitBadInput},
		{"version: 1\nchecks:\n  - name: a\n    compare:\n      left: \"*.g(id)\"\n      right: \"*.m(g)\"\n      assert: \"n ==\"\n", ":7:15: unexpected token", exitBadInput},
		{"version: 1\nchecks:\n  - name: a\n    compare:\n      left: \"*.g(id)\"\n      right: \"*.m(g)\"\n      counts: {k: \"t != 4\"}\n      assert: \"nn == k\"\n", ":8:15: unknown name nn", exitBadInput},
		{"version: 1\nchecks:\n  - name: a\n    relation:\n      from: \"*.m(gg)\"\n      to: \"*.g(id)\"\n", ":5:11: check a: dataset chk_bad_", exitBadInput},
		{"version: 1\ndatasets:\n  - match: \"*.m\"\n    skip: true\n", "has no checks", exitUsage},
	} {
		path := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(path, []byte(c.yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := runCLI(t, "verify", file, "--map", path)
		if exitCodeOf(err) != c.code || !strings.Contains(fmt.Sprint(err), c.says) {
			t.Errorf("%s: exit %d (%v), want %d saying %q\n%s", c.yaml, exitCodeOf(err), err, c.code, c.says, out)
		}
	}
	if _, err := runCLI(t, "verify", file, "--map", "a=b"); exitCodeOf(err) != exitUsage {
		t.Errorf("offline --map OLD=NEW: exit %d (%v), want %d", exitCodeOf(err), err, exitUsage)
	}
	// A check that holds and one that does not, on hand-made rows.
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte("version: 1\nchecks:\n  - name: count\n    compare:\n      left: \"*.g(id)\"\n      right: \"*.m(g)\"\n      counts: {live: \"t != 4\"}\n      assert: \"n == live\"\n  - name: none\n    unique: {of: \"*.nothing(x)\"}\n"), 0o644)
	got := runChecksJSON(t, file, "--map", good)
	if c := got["count"]; c.Rows != 2 || c.Violations != 0 {
		t.Errorf("count: %+v, want 2 rows and no violation", c)
	}
	if c := got["none"]; !strings.Contains(c.Skipped, "no table or collection of the bundle matches *.nothing") {
		t.Errorf("none: %+v, want skipped", c)
	}
}

// TestChecksAcrossEngines: a compare and a unique over a MongoDB
// collection's (dotted) fields, against a MySQL table of the same bundle.
func TestChecksAcrossEngines(t *testing.T) {
	myURL, my := testenv.MySQLDatabase(t, "chk_x")
	for _, q := range []string{"CREATE TABLE grp (gid VARCHAR(8) PRIMARY KEY, member_count INT)", "INSERT INTO grp VALUES ('g1', 2), ('g2', 1), ('g3', 0)"} {
		if _, err := my.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	mURL, mdb := testenv.MongoDatabase(t, "chk_x_mg")
	var docs []any
	for i, m := range []struct {
		gid, uid string
		typ      int
	}{{"g1", "a", 2}, {"g1", "b", 0}, {"g1", "c", 4}, {"g2", "a", 2}, {"g2", "b", 0}, {"g3", "a", 2}, {"g3", "a", 0}} {
		docs = append(docs, bson.D{{Key: "_id", Value: i}, {Key: "m", Value: bson.D{{Key: "gid", Value: m.gid}, {Key: "uid", Value: m.uid}}}, {Key: "type", Value: m.typ}})
	}
	if _, err := mdb.Collection("member").InsertMany(context.Background(), docs); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "x.imb")
	if out, err := runCLI(t, "-q", "export", "--source", myURL, "--source", mURL, "-o", file); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	checks := filepath.Join(t.TempDir(), "x.yaml")
	os.WriteFile(checks, []byte(`version: 1
checks:
  - name: count
    compare:
      left: "*.grp(gid)"
      right: "*.member(m.gid)"
      counts: {members: "type != 4"}
      assert: "member_count == members"
  - name: member-once
    unique: {of: "*.member(m.gid, m.uid)"}
`), 0o644)
	got := runChecksJSON(t, file, "--map", checks)
	if c := got["count"]; c.Rows != 3 || c.Violations != 2 || strings.Join(c.First, "; ") != `"g2" (member_count=1, members=2); "g3" (member_count=0, members=2)` {
		t.Errorf("count: %+v", c)
	}
	if c := got["member-once"]; c.Rows != 7 || c.Violations != 1 || strings.Join(c.First, "; ") != `("g3", "a") (2 rows)` {
		t.Errorf("member-once: %+v", c)
	}
}
