package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/testenv"
)

// embedMember is a group_members row of TestEmbedChildRowsIntoMongo.
type embedMember struct {
	group, user string
	role        int64
	joined      time.Time
}

// TestEmbedChildRowsIntoMongo: a groups table takes its group_members rows
// (spread over several parts, inserted out of order) as an array ordered
// by join time, and its group_settings row merged in as fields, through
// plan, import (sorting with a 1 MiB budget) and verify --against; a
// member and a setting of no group are rejects of their own datasets, the
// children are not loaded on their own, a changed member fails verify,
// and mistakes in the embed list fail before anything is written.
func TestEmbedChildRowsIntoMongo(t *testing.T) {
	srcURL, src := testenv.MySQLDatabase(t, "embed_src")
	srcDB := srcURL[strings.LastIndexByte(srcURL, '/')+1:]
	if i := strings.IndexByte(srcDB, '?'); i >= 0 {
		srcDB = srcDB[:i]
	}
	pad := strings.Repeat("n", 30000) // members over 8 MiB: several parts at --part-size 1
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := src.Exec(q, args...); err != nil {
			t.Fatalf("%.80s: %v", q, err)
		}
	}
	exec("CREATE TABLE `groups` (group_id VARCHAR(64) PRIMARY KEY, name VARCHAR(255), create_time DATETIME(3))")
	exec("CREATE TABLE group_members (group_id VARCHAR(64) NOT NULL, user_id VARCHAR(64) NOT NULL, role_level BIGINT, join_time DATETIME(3), note TEXT, PRIMARY KEY (group_id, user_id))")
	exec("CREATE TABLE group_settings (gid VARCHAR(64) PRIMARY KEY, mute BIGINT, notice TEXT)")
	created := time.UnixMilli(1700000000123).UTC()
	for _, g := range []string{"g1", "g2", "g3"} {
		exec("INSERT INTO `groups` VALUES (?, ?, ?)", g, "name of "+g, created.Format("2006-01-02 15:04:05.000"))
	}
	var members []embedMember
	for g, n := range map[string]int{"g1": 200, "g3": 150} {
		for i := 0; i < n; i++ {
			members = append(members, embedMember{g, fmt.Sprintf("u%03d", i), int64(i % 3 * 50), time.UnixMilli(1700000000000 + int64((i*7919)%n)*1000).UTC()})
		}
	}
	members = append(members, embedMember{"g9", "u_orphan", 0, created}) // a member of no group
	sort.Slice(members, func(i, j int) bool {
		return hashOf(members[i].group+members[i].user) < hashOf(members[j].group+members[j].user)
	})
	for _, m := range members {
		exec("INSERT INTO group_members VALUES (?, ?, ?, ?, ?)", m.group, m.user, m.role, m.joined.Format("2006-01-02 15:04:05.000"), pad)
	}
	exec("INSERT INTO group_settings VALUES ('g1', 1, 'welcome'), ('g3', 0, NULL), ('g7', 1, 'a setting of no group')")

	dir := t.TempDir()
	path := filepath.Join(dir, "b.imb")
	if out, err := runCLI(t, "-q", "export", "--source", srcURL, "-o", path, "--part-size", "1", "--param", "lock-wait=2"); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	r, err := bundle.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, ds := range r.Manifest().Datasets {
		if ds.Object == "group_members" && len(ds.Parts) < 2 {
			t.Fatalf("group_members is %d part(s): the test means to join rows across parts", len(ds.Parts))
		}
	}
	r.Close()

	dstURL, db := testenv.MongoDatabase(t, "embed_dst")
	dstDB := dstURL[strings.LastIndexByte(dstURL, '/')+1:]
	mapFile := filepath.Join(dir, "m.yaml")
	mapping := `version: 1
datasets:
  - match: "` + srcDB + `.groups"
    target: ` + dstDB + `.groups
    rename: {name: group_name}
    embed:
      - dataset: "` + srcDB + `.group_members"
        on: {group_id: group_id}
        into: members
        order: [join_time]
      - dataset: "` + srcDB + `.group_settings"
        on: {group_id: gid}
        one: true
    indexes:
      - fields: [members.user_id]
  - match: "` + srcDB + `.group_members"
    drop: [group_id, note]
  - match: "` + srcDB + `.group_settings"
    drop: [gid]
`
	os.WriteFile(mapFile, []byte(mapping), 0o644)
	out, err := runCLI(t, "plan", path, "--target", dstURL, "--map", mapFile)
	if err != nil || !strings.Contains(out, "mysql-table embedding to mongodb-collection v1") || !strings.Contains(out, "embed    "+srcDB+".group_members") ||
		!strings.Contains(out, "into the documents of "+srcDB+".groups ("+mapFile+":3:") || !strings.Contains(out, "embed "+srcDB+".group_members ("+mapFile+":7:") {
		t.Errorf("plan: %v\n%s", err, out)
	}
	sortDir := t.TempDir()
	rejects := filepath.Join(dir, "r.jsonl")
	// The two rejects make the import's exit non-zero, after loading the rest.
	out, err = runCLI(t, "import", path, "--target", dstURL, "--map", mapFile, "--rejects", rejects, "--sort-memory", "1", "--temp-dir", sortDir)
	if exitCodeOf(err) != exitRejects || !strings.Contains(out, "rejects: 2,") {
		data, _ := os.ReadFile(rejects)
		t.Fatalf("import: exit %d %v, want %d with 2 rejects\n%s\n%.2000s", exitCodeOf(err), err, exitRejects, out, data)
	}
	if left, _ := os.ReadDir(sortDir); len(left) != 0 {
		t.Errorf("sort files left: %v", left)
	}
	ctx := context.Background()
	names, _ := db.ListCollectionNames(ctx, bson.D{})
	if len(names) != 1 || names[0] != "groups" {
		t.Errorf("collections %v, want only groups: the children load within it", names)
	}
	got := map[string]string{}
	cur, err := db.Collection("groups").Find(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	for cur.Next(ctx) {
		got[cur.Current.Lookup("_id").StringValue()] = cur.Current.String()
	}
	want := expectedGroupDocs(members, created)
	if len(got) != 3 {
		t.Errorf("%d documents, want 3", len(got))
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("document %s:\n got %.600s\nwant %.600s", k, got[k], w)
		}
	}
	var rejected []map[string]any
	f, err := os.Open(rejects)
	if err != nil {
		t.Fatalf("no reject file: %v", err)
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rj map[string]any
		json.Unmarshal(sc.Bytes(), &rj)
		rejected = append(rejected, rj)
	}
	f.Close()
	sort.Slice(rejected, func(i, j int) bool { return fmt.Sprint(rejected[i]["dataset"]) < fmt.Sprint(rejected[j]["dataset"]) })
	if len(rejected) != 2 || rejected[0]["dataset"] != srcDB+".group_members" || !strings.Contains(fmt.Sprint(rejected[0]["reason"]), `no row of `+srcDB+`.groups has the key "g9"`) ||
		rejected[1]["dataset"] != srcDB+".group_settings" || !strings.Contains(fmt.Sprint(rejected[1]["reason"]), `has the key "g7"`) {
		t.Errorf("rejects %v, want the member of g9 and the setting of g7", rejected)
	}
	ixs, _ := db.Collection("groups").Indexes().ListSpecifications(ctx)
	found := false
	for _, ix := range ixs {
		found = found || strings.Contains(string(ix.KeysDocument), "members.user_id") || bson.Raw(ix.KeysDocument).Lookup("members.user_id").Type != 0
	}
	if !found {
		t.Errorf("no index on members.user_id: %v", ixs)
	}

	out, err = runCLI(t, "verify", path, "--against", dstURL, "--map", mapFile, "--sort-memory", "1", "--temp-dir", sortDir)
	if err != nil {
		t.Fatalf("verify --against: %v\n%s", err, out)
	}
	db.Collection("groups").UpdateOne(ctx, bson.D{{Key: "_id", Value: "g3"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "members.7.role_level", Value: int64(99)}}}})
	if out, err := runCLI(t, "verify", path, "--against", dstURL, "--map", mapFile); exitCodeOf(err) != exitMismatch || !strings.Contains(out, "g3") {
		t.Errorf("verify after a changed member: exit %d, want %d naming g3\n%s", exitCodeOf(err), exitMismatch, out)
	}

	other, odb := testenv.MongoDatabase(t, "embed_bad")
	for _, bad := range []struct{ from, to, want string }{
		{"on: {group_id: gid}", "on: {group_id: nope}", mapFile + ":12:24: embed on {group_id: nope}: " + srcDB + ".group_settings has no column nope"},
		{`dataset: "` + srcDB + `.group_settings"`, `dataset: "` + srcDB + `.nope"`, "the bundle has no such dataset"},
		{"on: {group_id: group_id}", "on: {name: group_id}", "not the primary key or a unique key"},
	} {
		os.WriteFile(mapFile, []byte(strings.Replace(mapping, bad.from, bad.to, 1)), 0o644)
		out, err := runCLI(t, "-q", "import", path, "--target", other, "--map", mapFile)
		if err == nil || !strings.Contains(err.Error(), bad.want) || !strings.Contains(err.Error(), "nothing was written") {
			t.Errorf("import with %s: %v (want %q)\n%s", bad.to, err, bad.want, out)
		}
	}
	if names, _ := odb.ListCollectionNames(ctx, bson.D{}); len(names) != 0 {
		t.Errorf("a refused mapping wrote %v", names)
	}
	os.WriteFile(mapFile, []byte(strings.Replace(mapping, "into: members", "into: _id", 1)), 0o644)
	if _, err := runCLI(t, "plan", path, "--target", dstURL, "--map", mapFile); exitCodeOf(err) != exitBadInput || !strings.Contains(err.Error(), mapFile+":9:15: embed into _id") {
		t.Errorf("embed into _id: exit %d %v, want %d at %s:9:15", exitCodeOf(err), err, exitBadInput, mapFile)
	}
}

// expectedGroupDocs is what TestEmbedChildRowsIntoMongo's mapping makes of
// the groups and their members and settings, by _id.
func expectedGroupDocs(members []embedMember, created time.Time) map[string]string {
	byGroup := map[string][]embedMember{}
	for _, m := range members {
		byGroup[m.group] = append(byGroup[m.group], m)
	}
	settings := map[string]bson.D{
		"g1": {{Key: "mute", Value: int64(1)}, {Key: "notice", Value: "welcome"}},
		"g3": {{Key: "mute", Value: int64(0)}, {Key: "notice", Value: nil}},
	}
	out := map[string]string{}
	for _, g := range []string{"g1", "g2", "g3"} {
		ms := byGroup[g]
		// join_time, then the bundle's order: the primary key's (group_id, user_id)
		sort.SliceStable(ms, func(i, j int) bool {
			if !ms[i].joined.Equal(ms[j].joined) {
				return ms[i].joined.Before(ms[j].joined)
			}
			return ms[i].user < ms[j].user
		})
		arr := bson.A{}
		for _, m := range ms {
			arr = append(arr, bson.D{{Key: "user_id", Value: m.user}, {Key: "role_level", Value: m.role}, {Key: "join_time", Value: bson.NewDateTimeFromTime(m.joined)}})
		}
		doc := bson.D{{Key: "_id", Value: g}, {Key: "group_name", Value: "name of " + g}, {Key: "create_time", Value: bson.NewDateTimeFromTime(created)}, {Key: "members", Value: arr}}
		doc = append(doc, settings[g]...)
		raw, _ := bson.Marshal(doc)
		out[g] = bson.Raw(raw).String()
	}
	return out
}
