package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/fixtures"
	"github.com/imbundle/imbundle/internal/testenv"
)

// rcOpenIMSite is the Redis database of the fixture site's seq keys.
const rcOpenIMSite = 0

// openIMSite is one fixture site: its three URLs, its Redis database
// number, and what fixtures openim-v3.4 said it planted.
type openIMSite struct {
	my, mongo, redis string
	site             fixtures.OpenIMSite
}

// newOpenIMSite runs imbundle fixtures openim-v3.4 into fresh stores.
func newOpenIMSite(t *testing.T, name string, dirty string, more ...string) openIMSite {
	t.Helper()
	myURL, _ := testenv.MySQLDatabase(t, name)
	mURL, _ := testenv.MongoDatabase(t, name+"m")
	rc := testenv.Redis(t, rcOpenIMSite)
	rc.FlushDB(context.Background())
	t.Cleanup(func() { rc.FlushDB(context.Background()) })
	s := openIMSite{my: myURL, mongo: mURL, redis: fmt.Sprintf("redis://%s/%d", testenv.RedisAddr(), rcOpenIMSite)}
	out, err := runCLI(t, append([]string{"-q", "fixtures", "openim-v3.4", "--mysql", s.my, "--mongo", s.mongo, "--redis", s.redis, "--scale", "1", "--seed", "3", "--dirty", dirty}, more...)...)
	if err != nil {
		t.Fatalf("fixtures openim-v3.4: %v\n%s", err, out)
	}
	if err := json.Unmarshal([]byte(out), &s.site); err != nil {
		t.Fatalf("the fixture's summary: %v\n%s", err, out)
	}
	return s
}

// export writes the site into one bundle with the openim-v3.4 profile.
func (s openIMSite) export(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "site.imb")
	if out, err := runCLI(t, "-q", "export", "--profile", "openim-v3.4", "--source", s.my, "--source", s.mongo, "--source", "redis://"+testenv.RedisAddr(), "--db", fmt.Sprint(rcOpenIMSite), "-o", path, "--param", "lock-wait=2"); err != nil {
		t.Fatalf("export --profile openim-v3.4: %v\n%s", err, out)
	}
	return path
}

// checkPlanted asserts that verify --profile openim-v3.4 reports exactly
// the planted records: per check the planted number of violations, and
// the violations it names are planted ones.
func checkPlanted(t *testing.T, path string, site fixtures.OpenIMSite) {
	t.Helper()
	got := runChecksJSON(t, path, "--profile", "openim-v3.4")
	want := []string{"message-sender-is-user", "group-member-in-group", "group-member-is-user", "friendship-mirrored", "friend-owner-is-user",
		"conversation-owner-is-user", "max-seq-is-a-conversation", "group-has-one-owner", "read-seq-at-most-max-seq", "max-seq-is-highest-message-seq"}
	if len(got) != len(want) {
		t.Errorf("%d checks, want %d: %v", len(got), len(want), got)
	}
	keys := map[string][]string{}
	for _, p := range site.Planted {
		keys[p.Check] = append(keys[p.Check], p.Key)
	}
	for _, name := range want {
		c, ok := got[name]
		switch {
		case !ok:
			t.Errorf("check %s: not reported", name)
			continue
		case c.Skipped != "" || c.Rows == 0:
			t.Errorf("check %s: not run (%q, %d rows)", name, c.Skipped, c.Rows)
		case c.Violations != int64(site.ByCheck[name]):
			t.Errorf("check %s: %d violations, want the %d planted: %v\nplanted: %v", name, c.Violations, site.ByCheck[name], c.First, keys[name])
		case len(c.First) != min(5, site.ByCheck[name]):
			t.Errorf("check %s names %d violations, want %d", name, len(c.First), min(5, site.ByCheck[name]))
		}
		for _, v := range c.First {
			found := false
			for _, k := range keys[name] {
				found = found || strings.HasPrefix(v, k+" ") || v == k
			}
			if !found {
				t.Errorf("check %s names %s, which was not planted (planted: %v)", name, v, keys[name])
			}
		}
	}
}

// TestOpenIMSiteChecks: fixtures openim-v3.4 builds one site across MySQL,
// MongoDB and Redis; export --profile openim-v3.4 records the site's
// relations in the manifest; verify --profile openim-v3.4 reports exactly
// the dirty records the fixture planted (exit 3 with --strict), and none
// for a clean site.
func TestOpenIMSiteChecks(t *testing.T) {
	s := newOpenIMSite(t, "oimsite", "0.01", "--bad-utf8")
	kinds := map[string]int{}
	for _, p := range s.site.Planted {
		kinds[p.Kind]++
	}
	for _, k := range []string{"orphan-sender", "max-seq-below-messages", "read-seq-above-max-seq", "group-without-owner", "group-with-two-owners", "one-way-friendship", "bad-utf8-user-id"} {
		if kinds[k] == 0 {
			t.Errorf("no %s planted: %v", k, kinds)
		}
	}
	if s.site.ByCheck["message-sender-is-user"] != 20 { // 1% of 2000 messages
		t.Errorf("%d orphan senders planted, want 20", s.site.ByCheck["message-sender-is-user"])
	}
	path := s.export(t)

	// The manifest holds the profile's relations, across sources.
	r, err := bundle.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	rels := map[string]string{}
	for _, rel := range r.Manifest().Relations {
		if rel.Name == "" {
			continue // the MySQL schema's own foreign keys
		}
		rels[rel.Name] = fmt.Sprintf("%s%v%s -> %s%v", rel.From.Dataset, rel.From.Columns, rel.From.Keys, rel.To.Dataset, rel.To.Columns)
	}
	r.Close()
	my, mongo := mydb0(s.my), mydb0(s.mongo)
	for name, want := range map[string]string{
		"message-sender-is-user":    mongo + ".msg[msgs.msg.send_id] -> " + my + ".users[user_id]",
		"max-seq-is-a-conversation": fmt.Sprintf("redis.db%d[conversation_id]MAX_SEQ:{conversation_id} -> %s.conversations[conversation_id]", rcOpenIMSite, my),
		"friendship-mirrored":       my + ".friends[owner_user_id friend_user_id] -> " + my + ".friends[friend_user_id owner_user_id]",
	} {
		if rels[name] != want {
			t.Errorf("manifest relation %s: %q, want %q (all: %v)", name, rels[name], want, rels)
		}
	}
	if len(rels) != 7 {
		t.Errorf("%d relations in the manifest, want the profile's 7: %v", len(rels), rels)
	}
	// verify --relations checks them from the manifest alone, the Redis
	// keys end included.
	out, err := runCLI(t, "verify", path, "--relations")
	if err != nil || !strings.Contains(out, fmt.Sprintf("relation %s.msg(msgs.msg.send_id) -> %s.users(user_id): ", mongo, my)) ||
		!strings.Contains(out, fmt.Sprintf("%d ORPHANS", s.site.ByCheck["message-sender-is-user"])) ||
		!strings.Contains(out, fmt.Sprintf("relation redis.db%d(conversation_id) keys MAX_SEQ:{conversation_id} -> %s.conversations(conversation_id): ", rcOpenIMSite, my)) {
		t.Errorf("verify --relations: %v\n%s", err, out)
	}

	checkPlanted(t, path, s.site)
	if out, err := runCLI(t, "verify", path, "--profile", "openim-v3.4", "--strict"); exitCodeOf(err) != 3 {
		t.Errorf("verify --profile --strict on a dirty site: exit %d, want 3\n%s", exitCodeOf(err), out)
	}
	checkBadUTF8Refused(t, path, s.site)

	clean := newOpenIMSite(t, "oimclean", "0")
	if len(clean.site.Planted) != 0 {
		t.Fatalf("--dirty 0 planted %v", clean.site.Planted)
	}
	path = clean.export(t)
	checkPlanted(t, path, clean.site)
	if out, err := runCLI(t, "verify", path, "--profile", "openim-v3.4", "--strict"); err != nil {
		t.Errorf("verify --profile --strict on a clean site: %v\n%s", err, out)
	}
}

// checkBadUTF8Refused: the seq keys of the site into openim-v3.8's
// seq_user, whose user IDs are BSON strings (UTF-8 text): each planted key
// whose user ID is not UTF-8 is refused, named in the reject file with
// the reason, and nothing else is (exit 4, no version markers).
func checkBadUTF8Refused(t *testing.T, path string, site fixtures.OpenIMSite) {
	t.Helper()
	want := map[string]bool{}
	for _, p := range site.Planted {
		if p.Kind == "bad-utf8-user-id" {
			k, err := strconv.Unquote(p.Key)
			if err != nil {
				t.Fatal(err)
			}
			want[hex.EncodeToString([]byte(k))] = true
		}
	}
	mURL, _ := testenv.MongoDatabase(t, "oimutf8")
	rejects := filepath.Join(t.TempDir(), "rejects.jsonl")
	ks := fmt.Sprintf("redis.db%d", rcOpenIMSite)
	out, err := runCLI(t, "import", path, "--target", mURL, "--profile", "openim-v3.8", "--datasets", ks, "--rejects", rejects)
	if exitCodeOf(err) != exitRejects || !strings.Contains(out, "finally documents were not written") {
		t.Fatalf("import of the seq keys: exit %d (%v), want %d\n%s", exitCodeOf(err), err, exitRejects, out)
	}
	data, _ := os.ReadFile(rejects)
	got := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var rj struct {
			Reason string            `json:"reason"`
			Values map[string]string `json:"values"`
		}
		if err := json.Unmarshal([]byte(l), &rj); err != nil || !strings.Contains(rj.Reason, "capture {user_id} is not UTF-8 text") {
			t.Errorf("reject %s: %v, want a user_id that is not UTF-8", l, err)
			continue
		}
		got[strings.TrimPrefix(rj.Values["key"], "0x")] = true
	}
	if len(want) == 0 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("rejected keys %v, want the %d planted %v", got, len(want), want)
	}
}

// TestOpenIMSiteToV38 is issue 11's "Done when" for OpenIM, as the README's
// runbook runs it: a dirty OpenIM 3.4 fixture site (MySQL + MongoDB +
// Redis) exports into one bundle with the openim-v3.4 profile, its checks
// report exactly the planted records, it imports with openim-v3.8 into the
// 3.8 layout on MongoDB (FerretDB), and verify --against is green. The
// dirty records arrive as they were: reported, not repaired.
func TestOpenIMSiteToV38(t *testing.T) {
	ctx := context.Background()
	s := newOpenIMSite(t, "oim2v38", "0.02")
	// The runbook's step before the export: 3.4 wrote zero dates for unset
	// times, which no BSON date holds (the import would refuse those rows).
	_, mydb := testenv.MySQLDatabase(t, "unused")
	if _, err := mydb.ExecContext(ctx, "UPDATE `"+mydb0(s.my)+"`.friend_requests SET handle_time = '1970-01-01' WHERE CAST(handle_time AS CHAR) LIKE '0000%'"); err != nil {
		t.Fatal(err)
	}
	path := s.export(t)
	if out, err := runCLI(t, "verify", path); err != nil {
		t.Fatalf("verify: %v\n%s", err, out)
	}
	checkPlanted(t, path, s.site)

	dURL, ddb := testenv.MongoDatabase(t, "oim2v38d")
	if out, err := runCLI(t, "plan", path, "--target", dURL, "--profile", "openim-v3.8"); err != nil || !strings.Contains(out, "name becomes nickname") {
		t.Fatalf("plan: %v\n%s", err, out)
	}
	out, err := runCLI(t, "import", path, "--target", dURL, "--profile", "openim-v3.8")
	if err != nil || !strings.Contains(out, "finally: 2 document(s) written") {
		t.Fatalf("import --profile openim-v3.8: %v\n%s", err, out)
	}
	names, err := ddb.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, n := range names {
		have[n] = true
	}
	for _, n := range strings.Fields("black chat_logs conversation dataver data_version friend friend_request group group_member group_request msg seq seq_user user") {
		if !have[n] {
			t.Errorf("no collection %s after the import; have %v", n, names)
		}
	}
	if out, err := runCLI(t, "verify", path, "--against", dURL, "--profile", "openim-v3.8"); err != nil {
		t.Fatalf("verify --against: %v\n%s", err, out)
	}
	checkV38Planted(t, ddb, s.site)
	importV35(t, path, s.site)
}

// rcOpenIMV35 is the Redis database of the 3.5 target's seqs.
const rcOpenIMV35 = 14

// importV35: the same bundle into OpenIM 3.5-3.7's layout, one import
// with a MongoDB and a Redis target: the collections as for 3.8 but no
// seq or seq_user (3.5 reads the seqs from Redis), the keyspace as it was
// into Redis, up35's marker alone; plan routes as import does, verify
// --against both targets is green, and the 3.4 seq checks, run on the
// Redis target, find the planted read_seq > max_seq there.
func importV35(t *testing.T, path string, site fixtures.OpenIMSite) {
	ctx := context.Background()
	mURL, mdb := testenv.MongoDatabase(t, "oim2v35d")
	rc := testenv.Redis(t, rcOpenIMV35)
	rc.FlushDB(ctx)
	t.Cleanup(func() { rc.FlushDB(context.Background()) })
	rURL := fmt.Sprintf("redis://%s/%d", testenv.RedisAddr(), rcOpenIMV35)
	out, err := runCLI(t, "plan", path, "--target", mURL, "--target", rURL, "--profile", "openim-v3.5")
	if err != nil || !strings.Contains(out, "target "+mURL+" (mongodb):") || !strings.Contains(out, "users -> collection ") || !strings.Contains(out, "load     redis.db0 -> keyspace") || !strings.Contains(out, "14 of 14 dataset(s) would be imported into the 2 targets") {
		t.Fatalf("plan --profile openim-v3.5 with two targets: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "plan", path, "--target", mURL, "--target", rURL, "--profile", "openim-v3.8"); exitCodeOf(err) != exitUsage || !strings.Contains(err.Error(), "could be converted for more than one of the targets") {
		t.Errorf("plan --profile openim-v3.8 with a Redis target beside: exit %d (%v), want the import's refusal\n%s", exitCodeOf(err), err, out)
	}
	out, err = runCLI(t, "import", path, "--target", mURL, "--target", rURL, "--profile", "openim-v3.5")
	if err != nil || !strings.Contains(out, "finally: 1 document(s) written") {
		t.Fatalf("import --profile openim-v3.5: %v\n%s", err, out)
	}
	names, err := mdb.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, n := range names {
		have[n] = true
	}
	for _, n := range strings.Fields("black chat_logs conversation dataver friend friend_request group group_member group_request msg user") {
		if !have[n] {
			t.Errorf("no collection %s after the 3.5 import; have %v", n, names)
		}
	}
	for _, n := range []string{"seq", "seq_user", "data_version"} {
		if have[n] {
			t.Errorf("collection %s after the 3.5 import: 3.5 keeps the seqs in Redis", n)
		}
	}
	var conv string
	for _, p := range site.Planted {
		if p.Kind == "max-seq-below-messages" {
			conv, _ = strconv.Unquote(p.Key)
		}
	}
	if conv == "" {
		t.Fatalf("the fixture planted no max-seq-below-messages: %+v", site.Planted)
	}
	if v, err := rc.Get(ctx, "MAX_SEQ:"+conv).Result(); err != nil || v == "" {
		t.Errorf("MAX_SEQ:%s on the Redis target: %q, %v", conv, v, err)
	}
	if out, err := runCLI(t, "verify", path, "--against", mURL, "--against", rURL, "--profile", "openim-v3.5"); err != nil || strings.Count(out, "OK: ") != 2 {
		t.Fatalf("verify --against both targets: %v\n%s", err, out)
	}
	// The seq checks of the 3.4 profile read the same keys on the target;
	// its table checks find no table there and say so.
	out, err = runCLI(t, "verify", path, "--against", rURL, "--profile", "openim-v3.4")
	want := site.ByCheck["read-seq-at-most-max-seq"]
	if err != nil || !strings.Contains(out, fmt.Sprintf("check read-seq-at-most-max-seq (compare) on %s: ", rURL)) || want == 0 || !strings.Contains(out, fmt.Sprintf(" %d VIOLATIONS", want)) || !strings.Contains(out, "check group-has-one-owner (compare) on "+rURL+": not checked") {
		t.Errorf("verify --against the Redis target --profile openim-v3.4 (want %d read-seq violations): %v\n%s", want, err, out)
	}
}

// checkV38Planted: the planted records arrived in the 3.8 layout as they
// were.
func checkV38Planted(t *testing.T, ddb *mongo.Database, site fixtures.OpenIMSite) {
	ctx := context.Background()
	for _, p := range site.Planted {
		switch p.Kind {
		case "max-seq-below-messages":
			var doc struct {
				MaxSeq int64 `bson:"max_seq"`
			}
			conv, _ := strconv.Unquote(p.Key)
			if err := ddb.Collection("seq").FindOne(ctx, bson.D{{Key: "conversation_id", Value: conv}}).Decode(&doc); err != nil || fmt.Sprintf("MAX_SEQ %d,", doc.MaxSeq) != strings.Fields(p.Detail)[0]+" "+strings.Fields(p.Detail)[1] {
				t.Errorf("seq %s: %v %+v, want the planted %s", conv, err, doc, p.Detail)
			}
		case "orphan-sender":
			ghost, _ := strconv.Unquote(p.Key)
			if n, err := ddb.Collection("msg").CountDocuments(ctx, bson.D{{Key: "msgs.msg.send_id", Value: ghost}}); err != nil || n != 1 {
				t.Errorf("msg with sender %s: %d documents (%v), want 1", ghost, n, err)
			}
		}
	}
}

// TestExportProfileRefusals: export --profile takes a mapping with
// relations, and refuses one whose glob matches two datasets, writing
// nothing.
func TestExportProfileRefusals(t *testing.T) {
	out := filepath.Join(t.TempDir(), "x.imb")
	_, err := runCLI(t, "export", "--profile", "openim-v3.8", "--source", "mysql://root@127.0.0.1:3306/none", "-o", out)
	if exitCodeOf(err) != 2 || !strings.Contains(err.Error(), "profile:openim-v3.8 declares no relations") {
		t.Errorf("a profile without relations: exit %d, %v", exitCodeOf(err), err)
	}
	myURL, db := testenv.MySQLDatabase(t, "oimtwo")
	for _, q := range []string{"CREATE TABLE users (user_id VARCHAR(64) PRIMARY KEY)", "CREATE TABLE msg (send_id VARCHAR(64))", "INSERT INTO users VALUES ('u1')", "INSERT INTO msg VALUES ('u1')"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	mapFile := filepath.Join(t.TempDir(), "two.yaml")
	if err := os.WriteFile(mapFile, []byte("version: 1\nrelations:\n  - name: sender\n    from: \"*.msg(send_id)\"\n    to: \"*.*(user_id)\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	o, err := runCLI(t, "-q", "export", "--map", mapFile, "--source", myURL, "-o", out)
	if err == nil || !strings.Contains(err.Error(), "relation sender: *.* matches 2 datasets") {
		t.Errorf("a glob matching two datasets: %v\n%s", err, o)
	}
	if err := os.WriteFile(mapFile, []byte("version: 1\nrelations:\n  - name: sender\n    from: \"*.msg(send_id)\"\n    to: \"*.users(nope)\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := runCLI(t, "-q", "export", "--map", mapFile, "--source", myURL, "-o", out); err == nil || !strings.Contains(err.Error(), "relation sender: dataset "+mydb0(myURL)+".users has no column nope; nothing was written") {
		t.Errorf("a column the table lacks: %v", err)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("%s written", out)
	}
}
