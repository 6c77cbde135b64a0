package main

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/fixtures"
	"github.com/imbundle/imbundle/internal/testenv"
)

// TestWildfireHybridAndBack is issue 11's WildfireChat "done when": a
// pure-MySQL site (the fixture, dirty records and an old professional
// edition's plain _mid index included) exports into one bundle, imports
// by wildfirechat-hybrid into a MySQL and a MongoDB target at once (the
// MySQL schema made first, as the hybrid server's Flyway would): the 36
// message and 128 inbox shards become two collections, the MySQL shards
// stay empty, every other table is in MySQL, and verify --against both
// is green. The hybrid site, exported from its two stores into one
// bundle, shows the same invariant violations as the original
// (wildfirechat-hybrid-checks against wildfirechat-checks: the planted
// ones), and imports by wildfirechat-mysql into a fresh pure-MySQL schema:
// verify --against with the profile is green, every row is in the shard
// WildfireChat's rules give it (computed here by the fixture's own
// rules), every table equals the original one row for row (CHECKSUM
// TABLE) and the original bundle verifies against it.
func TestWildfireHybridAndBack(t *testing.T) {
	ctx := context.Background()
	opt := fixtures.WildfireOptions{Users: 50, Groups: 6, Messages: 700, Seed: 21, Dirty: 0.03, LegacyMidIndex: true}
	srcURL, src := testenv.MySQLDatabase(t, "wfh_src")
	counts, dirty, err := fixtures.LoadWildfireMySQL(ctx, src, opt)
	if err != nil {
		t.Fatal(err)
	}
	if dirty.DuplicateMids == 0 || dirty.OrphanUserMessages == 0 || dirty.SeqRepeats == 0 {
		t.Fatalf("the fixture planted %+v: choose a seed that plants every kind", dirty)
	}
	var messages, inbox int64
	for _, c := range counts {
		switch {
		case strings.HasPrefix(c.Table, "t_messages_"):
			messages += c.Rows
		case strings.HasPrefix(c.Table, "t_user_messages_"):
			inbox += c.Rows
		}
	}
	dir := t.TempDir()
	pure := filepath.Join(dir, "pure.imb")
	if out, err := runCLI(t, "-q", "export", "--source", srcURL, "-o", pure); err != nil {
		t.Fatalf("export of the pure-MySQL site: %v\n%s", err, out)
	}

	// Pure MySQL -> hybrid, two targets in one import.
	hyURL, hy := testenv.MySQLDatabase(t, "wfh_hy")
	if err := fixtures.CreateWildfireMySQL(ctx, hy, opt); err != nil { // the hybrid server's Flyway
		t.Fatal(err)
	}
	hmURL, hm := testenv.MongoDatabase(t, "wfh_hy")
	out, err := runCLI(t, "plan", pure, "--target", hyURL, "--profile", "wildfirechat-hybrid")
	if err != nil || !regexp.MustCompile(`leave    \S+\.t_messages_7 \(mysql, \d+ rows\): the mapping sends it to a mongodb target \(profile:wildfirechat-hybrid:\d+:\d+\)`).MatchString(out) || !strings.Contains(out, ".t_group_messages_0 -> table ") {
		t.Errorf("plan for the MySQL target: %v, want the shards left for MongoDB and the rest loaded\n%s", err, out)
	}
	// FerretDB builds no TTL index: the profile's is left out by request.
	args := []string{"--profile", "wildfirechat-hybrid", "--param", "ttl-indexes=skip"}
	out, err = runCLI(t, append([]string{"-q", "import", pure, "--target", hyURL, "--target", hmURL}, args...)...)
	if err != nil {
		t.Fatalf("import into the hybrid site: %v\n%s", err, out)
	}
	coll := func(name string) int64 {
		n, err := hm.Collection(name).CountDocuments(ctx, bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if m, u := coll("messages"), coll("user_messages"); m != messages || u != inbox {
		t.Errorf("MongoDB holds %d messages and %d inbox rows, want %d and %d", m, u, messages, inbox)
	}
	if names, _ := hm.ListCollectionNames(ctx, bson.D{}); len(names) != 2 {
		t.Errorf("collections %v, want messages and user_messages only", names)
	}
	var doc bson.M
	if err := hm.Collection("messages").FindOne(ctx, bson.D{}).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if _, ok := doc["_dt"].(bson.DateTime); !ok || doc["_mid"] == nil || doc["id"] == nil {
		t.Errorf("a messages document %v: want _mid, id and _dt as a date", doc)
	}
	if _, ok := doc["_id"].(bson.ObjectID); !ok {
		t.Errorf("_id %T, want an ObjectId", doc["_id"])
	}
	rowsIn := func(db *sql.DB, prefix string, shards int) (total int64) {
		for n := 0; n < shards; n++ {
			var c int64
			if err := db.QueryRow(fmt.Sprintf("SELECT COUNT(*) FROM %s%d", prefix, n)).Scan(&c); err != nil {
				t.Fatal(err)
			}
			total += c
		}
		return total
	}
	if m, u := rowsIn(hy, "t_messages_", 36), rowsIn(hy, "t_user_messages_", 128); m != 0 || u != 0 {
		t.Errorf("the hybrid site's MySQL shards hold %d and %d rows, want none", m, u)
	}
	var users int
	if err := hy.QueryRow("SELECT COUNT(*) FROM t_user").Scan(&users); err != nil || users != opt.Users+3 {
		t.Errorf("the hybrid site's t_user: %d rows (%v), want %d", users, err, opt.Users+3)
	}
	out, err = runCLI(t, "verify", pure, "--against", hyURL, "--against", hmURL, "--profile", "wildfirechat-hybrid")
	if err != nil || !strings.Contains(out, "match    *.t_messages_* (union of 36) -> "+hm.Name()+".messages: ") || !strings.Contains(out, "(union of 128) -> "+hm.Name()+".user_messages: ") {
		t.Fatalf("verify --against the hybrid site: %v\n%s", err, out)
	}

	// Hybrid -> pure MySQL: the two stores in one bundle, into the tables
	// the pure-MySQL server's Flyway made.
	hybrid := filepath.Join(dir, "hybrid.imb")
	if out, err := runCLI(t, "-q", "export", "--source", hyURL, "--source", hmURL, "-o", hybrid); err != nil {
		t.Fatalf("export of the hybrid site: %v\n%s", err, out)
	}
	// The invariants, offline: the same violations in either layout, and
	// exactly the planted ones.
	pureChecks := runChecksJSON(t, pure, "--profile", "wildfirechat-checks")
	hybridChecks := runChecksJSON(t, hybrid, "--profile", "wildfirechat-hybrid-checks")
	if len(pureChecks) != 10 || len(hybridChecks) != 10 {
		t.Fatalf("%d and %d checks ran, want 10 each", len(pureChecks), len(hybridChecks))
	}
	for name, c := range pureChecks {
		h := hybridChecks[name]
		if h.Rows != c.Rows || h.Violations != c.Violations || strings.Join(h.First, ";") != strings.Join(c.First, ";") {
			t.Errorf("check %s: pure site %+v, hybrid site %+v", name, c, h)
		}
	}
	for name, want := range map[string]int64{"inbox-row-has-message": dirty.OrphanUserMessages, "message-mid-unique": dirty.DuplicateMids,
		"inbox-seq-unique": dirty.SeqRepeats, "inbox-seq-increasing": dirty.SeqRepeats, "group-member-count": dirty.MemberCountOff} {
		if c := hybridChecks[name]; c.Violations != want {
			t.Errorf("hybrid site, check %s: %d violations, planted %d", name, c.Violations, want)
		}
	}

	dstURL, dst := testenv.MySQLDatabase(t, "wfh_dst")
	if err := fixtures.CreateWildfireMySQL(ctx, dst, opt); err != nil {
		t.Fatal(err)
	}
	out, err = runCLI(t, "-q", "import", hybrid, "--target", dstURL, "--profile", "wildfirechat-mysql")
	if err != nil {
		t.Fatalf("import into the pure-MySQL site: %v\n%s", err, out)
	}
	out, err = runCLI(t, "verify", hybrid, "--against", dstURL, "--profile", "wildfirechat-mysql")
	if err != nil || strings.Count(out, ".messages/t_messages_") != 36 || strings.Count(out, ".user_messages/t_user_messages_") != 128 {
		t.Fatalf("verify the hybrid bundle --against the pure-MySQL site: %v, want 36 + 128 shard outputs compared\n%s", err, out)
	}
	// Every row in its own shard, by the fixture's rules.
	for n := 0; n < 36; n++ {
		for _, mid := range queryStrings(t, dst, fmt.Sprintf("SELECT CAST(_mid AS CHAR) FROM t_messages_%d", n)) {
			var m int64
			fmt.Sscan(mid, &m)
			if s := fixtures.WildfireMessageShard(m, fixtures.WildfireZone); s != n {
				t.Fatalf("message %d is in t_messages_%d, its shard is %d", m, n, s)
			}
		}
	}
	for n := 0; n < 128; n++ {
		for _, uid := range queryStrings(t, dst, fmt.Sprintf("SELECT DISTINCT _uid FROM t_user_messages_%d", n)) {
			if s := fixtures.WildfireUserShard(uid); s != n {
				t.Fatalf("inbox rows of %s are in t_user_messages_%d, its shard is %d", uid, n, s)
			}
		}
	}
	// Row for row the original tables.
	srcDB, dstDB := dbName(srcURL), dbName(dstURL)
	for _, c := range counts {
		var name string
		var a, b sql.NullInt64
		if err := src.QueryRow("CHECKSUM TABLE `"+srcDB+"`.`"+c.Table+"`").Scan(&name, &a); err != nil {
			t.Fatal(err)
		}
		if err := dst.QueryRow("CHECKSUM TABLE `"+dstDB+"`.`"+c.Table+"`").Scan(&name, &b); err != nil {
			t.Fatal(err)
		}
		if a != b {
			t.Errorf("table %s: checksum %v at the start, %v at the end", c.Table, a, b)
		}
	}
	out, err = runCLI(t, "verify", pure, "--against", dstURL)
	if err != nil || strings.Count(out, "match    ") != len(counts) {
		t.Errorf("verify the original bundle --against the pure-MySQL site: %v, want %d tables matched\n%s", err, len(counts), out)
	}
}

// dbName is the database a mysql:// URL names.
func dbName(url string) string {
	n := url[strings.LastIndexByte(url, '/')+1:]
	if i := strings.IndexByte(n, '?'); i >= 0 {
		n = n[:i]
	}
	return n
}
