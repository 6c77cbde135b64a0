package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/internal/testenv"
)

// grpName is the grp table's dataset name as verify prints it.
func grpName(out string) string {
	return regexp.MustCompile(`[A-Za-z0-9_]+\.grp\(g, k\)`).FindString(out)
}

// TestVerifyRelations: verify --relations checks each relation of the
// manifest against the bundle's rows, offline, and names its orphans:
// here a declared foreign key whose table was loaded with the checks off,
// and a composite relation given with --param relations.
func TestVerifyRelations(t *testing.T) {
	var msgs, pairs []string
	for i := 1; i <= 3000; i++ {
		user := i%500 + 1
		if i%1000 == 0 {
			user = 100000 + i // an orphan
		}
		msgs = append(msgs, fmt.Sprintf("(%d, %d)", i, user))
		pairs = append(pairs, fmt.Sprintf("(%d, 'g%d', %d)", i, i%7, i%3))
	}
	srcURL, path := exportedMySQL(t, "rel", []string{
		"CREATE TABLE users (id INT PRIMARY KEY)",
		"INSERT INTO users SELECT seq FROM seq_1_to_500",
		"CREATE TABLE msgs (id INT PRIMARY KEY, user_id INT NULL, CONSTRAINT fk_user FOREIGN KEY (user_id) REFERENCES users (id))",
		"SET FOREIGN_KEY_CHECKS = 0",
		"INSERT INTO msgs VALUES " + strings.Join(msgs, ",") + ", (3001, NULL)",
		"SET FOREIGN_KEY_CHECKS = 1",
		"CREATE TABLE grp (g VARCHAR(8), k INT, PRIMARY KEY (g, k))",
		"INSERT INTO grp VALUES ('g1', 1), ('g2', 2), ('g3', 0)",
		"CREATE TABLE pairs (id INT PRIMARY KEY, g VARCHAR(8), k INT)",
		"INSERT INTO pairs VALUES " + strings.Join(pairs, ","),
	})
	path = filepath.Join(t.TempDir(), "rel.imb")
	if out, err := runCLI(t, "-q", "export", "--source", srcURL, "-o", path, "--param", "relations=pairs(g,k)->grp(g,k)"); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	out, err := runCLI(t, "verify", path, "--relations")
	if err != nil {
		t.Fatalf("verify --relations: %v\n%s", err, out)
	}
	matched := 0
	for i := 1; i <= 3000; i++ {
		if g, k := i%7, i%3; g == 1 && k == 1 || g == 2 && k == 2 || g == 3 && k == 0 {
			matched++
		}
	}
	if want := fmt.Sprintf("pairs(g, k) -> %s: 3000 values, %d ORPHANS", grpName(out), 3000-matched); !strings.Contains(out, want) {
		t.Errorf("the composite relation's orphans: want %q in\n%s", want, out)
	}
	if !strings.Contains(out, `first: ("g0", "0"), ("g0", "1"), ("g0", "2"), ("g1", "0"), ("g1", "2")`) {
		t.Errorf("the composite relation's first orphans are not its first distinct values:\n%s", out)
	}
	if !strings.Contains(out, "msgs(user_id) -> ") || !strings.Contains(out, "3000 values, 3 ORPHANS, first: \"101000\", \"102000\", \"103000\"") {
		t.Errorf("the foreign key's orphans are not reported:\n%s", out)
	}
	out, err = runCLI(t, "verify", path, "--relations", "--json")
	if err != nil {
		t.Fatalf("verify --relations --json: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var res struct {
		Relations []struct {
			From, To        string
			Values, Orphans int64
			First           []string `json:"first_orphans"`
		}
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	found := false
	for _, r := range res.Relations {
		if strings.HasSuffix(r.From, "msgs(user_id)") {
			found = r.Values == 3000 && r.Orphans == 3 && len(r.First) == 3
		}
	}
	if !found {
		t.Errorf("JSON relations %+v, want msgs(user_id) with 3000 values and 3 orphans", res.Relations)
	}
}

// TestExportRelationAcrossSources: export --relation records an edge
// between two sources (MongoDB message documents' nested sender to a
// MySQL users table), verify --relations checks it; a relation naming a
// dataset the export did not write fails without a bundle, and a malformed
// one is a usage error.
func TestExportRelationAcrossSources(t *testing.T) {
	myURL, my := testenv.MySQLDatabase(t, "xrel")
	for _, q := range []string{"CREATE TABLE users (user_id VARCHAR(64) PRIMARY KEY)", "INSERT INTO users VALUES ('u1'), ('u2')"} {
		if _, err := my.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	mURL, mdb := testenv.MongoDatabase(t, "xrel_mg")
	var docs []any
	for i, s := range []string{"u1", "u2", "u9", "u1", "u9"} {
		docs = append(docs, bson.D{{Key: "_id", Value: i}, {Key: "msg", Value: bson.D{{Key: "send_id", Value: s}}}})
	}
	if _, err := mdb.Collection("msg").InsertMany(context.Background(), docs); err != nil {
		t.Fatal(err)
	}
	myDB, mDB := myURL[strings.LastIndexByte(myURL, '/')+1:], mURL[strings.LastIndexByte(mURL, '/')+1:]
	rel := fmt.Sprintf("%s.msg(msg.send_id)->%s.users(user_id)", mDB, myDB)
	path := filepath.Join(t.TempDir(), "site.imb")
	if out, err := runCLI(t, "-q", "export", "--source", myURL, "--source", mURL, "-o", path, "--relation", rel); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	out, err := runCLI(t, "verify", path, "--relations")
	if want := fmt.Sprintf("relation %s.msg(msg.send_id) -> %s.users(user_id): 5 values, 2 ORPHANS, first: \"u9\"", mDB, myDB); err != nil || !strings.Contains(out, want) {
		t.Fatalf("verify --relations: %v, want %q in\n%s", err, want, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.imb")
	for _, c := range []struct {
		rel  string
		code int
		says string
	}{
		{fmt.Sprintf("%s.msgs(send_id)->%s.users(user_id)", mDB, myDB), exitError, "no dataset"},
		{fmt.Sprintf("%s.msg(send_id)->%s.users(id)", mDB, myDB), exitError, "has no column \"id\""},
		{"msg(a,b)->users(c)", exitUsage, "2 column(s) on the left, 1 on the right"},
		{"msg.send_id->users", exitUsage, "want DATASET(col,...)"},
	} {
		_, err := runCLI(t, "-q", "export", "--source", myURL, "--source", mURL, "-o", bad, "--relation", c.rel)
		if exitCodeOf(err) != c.code || !strings.Contains(fmt.Sprint(err), c.says) {
			t.Errorf("--relation %s: exit %d (%v), want %d saying %q", c.rel, exitCodeOf(err), err, c.code, c.says)
		}
		if _, serr := os.Stat(bad); serr == nil {
			t.Errorf("--relation %s left a bundle", c.rel)
		}
	}
}
