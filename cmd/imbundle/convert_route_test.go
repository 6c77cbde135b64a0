package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/internal/testenv"
)

// wfMessageDDL is WildfireChat's t_messages_N as its Flyway migrations
// create it (fixtures/wildfire_schema.go).
func wfMessageDDL(n int) string {
	return fmt.Sprintf("CREATE TABLE `t_messages_%d` (`id` int NOT NULL AUTO_INCREMENT, `_mid` bigint NOT NULL, `_from` varchar(64) COLLATE utf8mb4_bin NOT NULL, `_type` tinyint NOT NULL DEFAULT 0, `_target` varchar(64) COLLATE utf8mb4_bin NOT NULL, `_line` int NOT NULL DEFAULT 0, `_data` blob NOT NULL, `_searchable_key` text, `_dt` datetime NOT NULL, `_content_type` int NOT NULL DEFAULT 0, `_to` varchar(64) COLLATE utf8mb4_bin DEFAULT '', PRIMARY KEY (`id`), UNIQUE KEY `message_mid_index` (`_mid`), KEY `message_target_index` (`_type`,`_target`,`_line`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci", n)
}

// wfShard is WildfireChat's MessageShardingUtil, computed here on its
// own: the month ring of the time in the server's zone.
func wfShard(ms int64, zone *time.Location) int {
	t := time.UnixMilli(ms).In(zone)
	return t.Year()%3*12 + int(t.Month()) - 1
}

const wfRouteMapping = `version: 1
datasets:
  - match: "*.messages"
    route: >-
      let t = fromUnixMilli(bitshr(_mid, 21) + 1514736000000).In(timezone("Asia/Shanghai"));
      "t_messages_" + string(t.Year() % 3 * 12 + int(t.Month()) - 1)
    objects: ["t_messages_{0..35}"]
`

// TestRouteWildfireMessagesIntoShards: a WildfireChat-like messages
// collection (a hybrid site's, in MongoDB) whose _mid times spread over
// 40 months goes by a route into the 36 pre-created shard tables: every
// row in the shard computed here independently, with its values; plan
// lists each shard; verify --against compares each and sees a row moved
// to a wrong shard; a document the route fails on, and one routed to an
// object the entry does not declare, are rejects; a route that does not
// parse stops plan and import at its line, with nothing written.
func TestRouteWildfireMessagesIntoShards(t *testing.T) {
	ctx := context.Background()
	zone, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	srcURL, srcDB := testenv.MongoDatabase(t, "rt_src")
	const docs = 400
	want := map[int]int{} // shard -> rows
	type msg struct {
		mid   int64
		from  string
		dt    time.Time
		shard int
	}
	var msgs []msg
	var batch []any
	start := time.Date(2021, 1, 1, 0, 0, 0, 0, zone)
	for i := 0; i < docs; i++ {
		// 40 months and a bit, ten days apart; some at a month's first
		// hours in +08:00, which are still the previous month in UTC.
		when := start.Add(time.Duration(i) * 73 * time.Hour).Add(time.Duration(i%5) * time.Minute)
		ms := when.UnixMilli()
		mid := (ms-1514736000000)<<21 | int64(i%64)<<15 | int64(i)
		m := msg{mid: mid, from: fmt.Sprintf("u%d", i%17), dt: when.Truncate(time.Second), shard: wfShard(ms, zone)}
		msgs = append(msgs, m)
		want[m.shard]++
		batch = append(batch, bson.D{{Key: "_id", Value: int64(i + 1)}, {Key: "_mid", Value: mid}, {Key: "_from", Value: m.from},
			{Key: "_type", Value: int32(i % 2)}, {Key: "_target", Value: fmt.Sprintf("g%d", i%7)}, {Key: "_line", Value: int32(0)},
			{Key: "_data", Value: bson.Binary{Data: []byte(fmt.Sprintf("payload %d", i))}}, {Key: "_searchable_key", Value: fmt.Sprintf("hello %d", i)},
			{Key: "_dt", Value: bson.NewDateTimeFromTime(m.dt)}, {Key: "_content_type", Value: int32(1)}, {Key: "_to", Value: ""}})
	}
	// A document whose _mid is text: the route fails on it.
	batch = append(batch, bson.D{{Key: "_id", Value: int64(docs + 1)}, {Key: "_mid", Value: "oops"}, {Key: "_from", Value: "u1"},
		{Key: "_target", Value: "g1"}, {Key: "_data", Value: bson.Binary{Data: []byte("x")}}, {Key: "_dt", Value: bson.NewDateTimeFromTime(start)}})
	if _, err := srcDB.Collection("messages").InsertMany(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if len(want) != 36 {
		t.Fatalf("the fixture fills %d shards, want all 36", len(want))
	}
	dir := t.TempDir()
	bpath := filepath.Join(dir, "wf.imb")
	if out, err := runCLI(t, "-q", "export", "--source", srcURL, "-o", bpath); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	shards := func(name string) (string, *sql.DB, func() map[int]int) {
		url, db := testenv.MySQLDatabase(t, name)
		for n := 0; n < 36; n++ {
			if _, err := db.Exec(wfMessageDDL(n)); err != nil {
				t.Fatal(err)
			}
		}
		return url, db, func() map[int]int {
			got := map[int]int{}
			for n := 0; n < 36; n++ {
				var c int
				if err := db.QueryRow(fmt.Sprintf("SELECT COUNT(*) FROM t_messages_%d", n)).Scan(&c); err != nil {
					t.Fatal(err)
				}
				if c > 0 {
					got[n] = c
				}
			}
			return got
		}
	}
	mapFile := filepath.Join(dir, "wf.yaml")
	write := func(s string) {
		if err := os.WriteFile(mapFile, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(wfRouteMapping)
	dstURL, db, counts := shards("rt_dst")

	out, err := runCLI(t, "plan", bpath, "--target", dstURL, "--map", mapFile)
	if err != nil {
		t.Fatalf("plan: %v\n%s", err, out)
	}
	for _, want := range []string{".messages/t_messages_0 ", ".messages/t_messages_35 ", "the documents whose route gives t_messages_17", "by mongodb-collection into existing mysql-table v1"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan: want %q in\n%s", want, out)
		}
	}
	rejects := filepath.Join(dir, "rejects.jsonl")
	out, err = runCLI(t, "-q", "import", bpath, "--target", dstURL, "--map", mapFile, "--rejects", rejects, "--jobs", "8")
	if exitCodeOf(err) != exitRejects {
		t.Fatalf("import: exit %d (%v), want %d (one reject)\n%s", exitCodeOf(err), err, exitRejects, out)
	}
	// Each shard its own line: the collection's documents, the shard's
	// rows written; the first output holds the route's reject.
	for _, s := range []int{0, 17, 35} {
		rejected := 0
		if s == 0 {
			rejected = 1
		}
		line := fmt.Sprintf(`messages/t_messages_%d\s+\S+\s+%d\s+%d\s+%d\s+0\s`, s, docs+1, want[s], rejected)
		if !regexp.MustCompile(line).MatchString(out) {
			t.Errorf("import report: want %s in\n%s", line, out)
		}
	}
	if reasons := rejectReasons(t, rejects); len(reasons) != 1 || !strings.Contains(reasons[0], "route ("+mapFile+":4:") || !strings.Contains(reasons[0], "bitshr") {
		t.Errorf("rejects %q, want the document whose _mid is text, by the route's error", reasons)
	}
	if got := counts(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("rows per shard:\n%v\nwant\n%v", got, want)
	}
	for _, i := range []int{0, 7, 123, 399} {
		m := msgs[i]
		var from, dt string
		var id int
		q := fmt.Sprintf("SELECT id, _from, DATE_FORMAT(_dt, '%%Y-%%m-%%d %%H:%%i:%%s') FROM t_messages_%d WHERE _mid = ?", m.shard)
		if err := db.QueryRow(q, m.mid).Scan(&id, &from, &dt); err != nil {
			t.Errorf("message %d (_mid %d) not in t_messages_%d: %v", i, m.mid, m.shard, err)
			continue
		}
		if wantDT := m.dt.UTC().Format("2006-01-02 15:04:05"); id != i+1 || from != m.from || dt != wantDT {
			t.Errorf("message %d in t_messages_%d: id %d, _from %s, _dt %s; want %d, %s, %s", i, m.shard, id, from, dt, i+1, m.from, wantDT)
		}
	}
	out, err = runCLI(t, "verify", bpath, "--against", dstURL, "--map", mapFile)
	if err != nil || strings.Count(out, "match    rt_src") != 36 {
		t.Fatalf("verify --against: %v, want 36 outputs compared\n%s", err, out)
	}
	// A message moved to the wrong shard: both shards differ.
	if _, err := db.Exec("INSERT INTO t_messages_5 SELECT * FROM t_messages_6 LIMIT 1"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("DELETE t6 FROM t_messages_6 t6 JOIN t_messages_5 t5 ON t5.id = t6.id"); err != nil {
		t.Fatal(err)
	}
	out, err = runCLI(t, "verify", bpath, "--against", dstURL, "--map", mapFile)
	if exitCodeOf(err) != exitMismatch || !regexp.MustCompile(`MISMATCH \S+/t_messages_5 `).MatchString(out) || !regexp.MustCompile(`MISMATCH \S+/t_messages_6 `).MatchString(out) {
		t.Errorf("verify after a row moved from shard 6 to 5: exit %d (%v), want %d naming both\n%s", exitCodeOf(err), err, exitMismatch, out)
	}

	// Only the first year's shards declared: the others' rows are rejects
	// naming the object.
	write(strings.Replace(wfRouteMapping, "t_messages_{0..35}", "t_messages_{0..11}", 1))
	partURL, _, partCounts := shards("rt_part")
	rejects2 := filepath.Join(dir, "rejects2.jsonl")
	out, err = runCLI(t, "-q", "import", bpath, "--target", partURL, "--map", mapFile, "--rejects", rejects2)
	if exitCodeOf(err) != exitRejects {
		t.Fatalf("import with 12 shards declared: exit %d (%v)\n%s", exitCodeOf(err), err, out)
	}
	undeclared, first := 0, map[int]int{}
	for s, n := range want {
		if s >= 12 {
			undeclared += n
		} else {
			first[s] = n
		}
	}
	reasons := rejectReasons(t, rejects2)
	if len(reasons) != undeclared+1 || !strings.Contains(strings.Join(reasons, "\n"), `gives "t_messages_30", which is not among the objects the entry declares`) {
		t.Errorf("%d rejects, want %d (the shards not declared) and the text _mid; first %q", len(reasons), undeclared+1, reasons[:min(2, len(reasons))])
	}
	if got := partCounts(); fmt.Sprint(got) != fmt.Sprint(first) {
		t.Errorf("rows per shard with 12 declared: %v, want %v", got, first)
	}

	// A route that does not parse: plan and import stop at its line.
	write(strings.Replace(wfRouteMapping, `"t_messages_" + string(`, `"t_messages_" + string((`, 1))
	badURL, _, badCounts := shards("rt_bad")
	if out, err := runCLI(t, "plan", bpath, "--target", badURL, "--map", mapFile); exitCodeOf(err) != exitRefused || !strings.Contains(out+err.Error(), mapFile+":4:") {
		t.Errorf("plan with a bad route: exit %d (%v), want %d naming %s:4\n%s", exitCodeOf(err), err, exitRefused, mapFile, out)
	}
	if out, err := runCLI(t, "-q", "import", bpath, "--target", badURL, "--map", mapFile); exitCodeOf(err) != exitRefused || !strings.Contains(err.Error(), mapFile+":4:") {
		t.Errorf("import with a bad route: exit %d (%v), want %d naming %s:4\n%s", exitCodeOf(err), err, exitRefused, mapFile, out)
	}
	if got := badCounts(); len(got) != 0 {
		t.Errorf("a refused route wrote rows: %v", got)
	}
	// A route without objects is a usage error at its line.
	write(strings.Replace(wfRouteMapping, `    objects: ["t_messages_{0..35}"]`+"\n", "", 1))
	if _, err := runCLI(t, "plan", bpath, "--target", badURL, "--map", mapFile); exitCodeOf(err) != exitBadInput || !strings.Contains(err.Error(), mapFile+":4:12: a route needs objects") {
		t.Errorf("a route without objects: exit %d (%v), want %d", exitCodeOf(err), err, exitBadInput)
	}
}

// javaStringHash is Java's String.hashCode, written here on its own.
func javaStringHash(s string) int32 {
	var h int32
	for _, u := range utf16.Encode([]rune(s)) {
		h = h*31 + int32(u)
	}
	return h
}

// TestRouteTableRowsIntoCollections: a WildfireChat-like user messages
// table goes to MongoDB by a route on the user id's Java hash (as
// t_user_messages_N are chosen): each row in its collection, verify
// --against compares each collection and sees a document moved.
func TestRouteTableRowsIntoCollections(t *testing.T) {
	ctx := context.Background()
	stmts := []string{"CREATE TABLE user_messages (id BIGINT PRIMARY KEY, _uid VARCHAR(64), _seq BIGINT NOT NULL)",
		"INSERT INTO user_messages VALUES (1000, NULL, 0)"} // the route fails on it: a reject
	want := map[string]int64{}
	var values []string
	for i := 0; i < 120; i++ {
		uid := fmt.Sprintf("用户%d", i%23)
		h := int64(javaStringHash(uid))
		if h < 0 {
			h = -h
		}
		want[fmt.Sprintf("user_messages_%d", h%8)]++
		values = append(values, fmt.Sprintf("(%d, '%s', %d)", i, uid, i))
	}
	stmts = append(stmts, "INSERT INTO user_messages VALUES "+strings.Join(values, ", "))
	srcURL, bpath := exportedMySQL(t, "rtm_src", stmts)
	srcDB := srcURL[strings.LastIndexByte(srcURL, '/')+1:]
	dstURL, db := testenv.MongoDatabase(t, "rtm_dst")
	mapFile := filepath.Join(t.TempDir(), "m.yaml")
	if err := os.WriteFile(mapFile, []byte("version: 1\ndatasets:\n  - match: \"*.user_messages\"\n    route: \"'user_messages_' + string(abs(javaHash(_uid)) % 8)\"\n    objects: [\"user_messages_{0..7}\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	renamed := srcDB + "=" + db.Name()
	rejects := filepath.Join(t.TempDir(), "rejects.jsonl")
	if out, err := runCLI(t, "-q", "import", bpath, "--target", dstURL, "--map", renamed, "--map", mapFile, "--rejects", rejects); exitCodeOf(err) != exitRejects {
		t.Fatalf("import: exit %d (%v), want %d (the NULL _uid)\n%s", exitCodeOf(err), err, exitRejects, out)
	}
	if reasons := rejectReasons(t, rejects); len(reasons) != 1 || !strings.Contains(reasons[0], "route ("+mapFile+":4:12): javaHash(<nil>): want a string") {
		t.Errorf("rejects %q, want the row whose _uid is NULL", reasons)
	}
	for n := 0; n < 8; n++ {
		name := fmt.Sprintf("user_messages_%d", n)
		got, err := db.Collection(name).CountDocuments(ctx, bson.D{})
		if err != nil || got != want[name] {
			t.Errorf("%s: %d documents (%v), want %d", name, got, err, want[name])
		}
	}
	var doc bson.M
	h := int64(javaStringHash("用户5"))
	if h < 0 {
		h = -h
	}
	if err := db.Collection(fmt.Sprintf("user_messages_%d", h%8)).FindOne(ctx, bson.D{{Key: "_id", Value: int64(5)}}).Decode(&doc); err != nil || doc["_uid"] != "用户5" || doc["_seq"] != int64(5) {
		t.Errorf("row 5 in user_messages_%d: %v (%v)", h%8, doc, err)
	}
	out, err := runCLI(t, "verify", bpath, "--against", dstURL, "--map", renamed, "--map", mapFile)
	if err != nil || strings.Count(out, "match    ") != 8 {
		t.Fatalf("verify --against: %v, want 8 collections compared\n%s", err, out)
	}
	from := fmt.Sprintf("user_messages_%d", h%8)
	to := fmt.Sprintf("user_messages_%d", (h+1)%8)
	if _, err := db.Collection(from).DeleteOne(ctx, bson.D{{Key: "_id", Value: int64(5)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Collection(to).InsertOne(ctx, doc); err != nil {
		t.Fatal(err)
	}
	out, err = runCLI(t, "verify", bpath, "--against", dstURL, "--map", renamed, "--map", mapFile)
	if exitCodeOf(err) != exitMismatch || !strings.Contains(out, "MISMATCH "+srcDB+".user_messages/"+from+" ") || !strings.Contains(out, "MISMATCH "+srcDB+".user_messages/"+to+" ") {
		t.Errorf("verify after a document moved from %s to %s: exit %d (%v)\n%s", from, to, exitCodeOf(err), err, out)
	}
}
