package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/internal/testenv"
)

// TestMappingEngineAndSkipEmpty: an entry's engine sends a MySQL table to
// the MongoDB target of a two-target import although a MySQL target is
// in the run (plan for the MySQL one leaves it, naming the entry), and
// verify --against both is green; skip: empty leaves an empty table out
// and refuses one that holds rows, in plan and import, before anything is
// written; a bad engine, a bad skip, skip beside engine and a TTL index
// of two fields are usage errors at their line.
func TestMappingEngineAndSkipEmpty(t *testing.T) {
	ctx := context.Background()
	_, bpath := exportedMySQL(t, "eng_src", []string{
		"CREATE TABLE a (id INT PRIMARY KEY, v VARCHAR(10), at DATETIME NOT NULL)",
		"INSERT INTO a VALUES (1, 'x', '2024-01-02 03:04:05'), (2, 'y', '2024-02-03 04:05:06')",
		"CREATE TABLE b (id INT PRIMARY KEY)",
		"CREATE TABLE c (id INT PRIMARY KEY)",
		"INSERT INTO c VALUES (7)",
	})
	dir := t.TempDir()
	mapFile := filepath.Join(dir, "m.yaml")
	write := func(s string) {
		if err := os.WriteFile(mapFile, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(`version: 1
datasets:
  - match: "*.a"
    engine: mongodb
    indexes:
      - {name: at_ttl, fields: [at], expire_after_seconds: 3600}
  - match: "*.b"
    skip: empty
`)
	myURL, my := testenv.MySQLDatabase(t, "eng_my")
	moURL, mo := testenv.MongoDatabase(t, "eng_mo")
	out, err := runCLI(t, "plan", bpath, "--target", myURL, "--map", mapFile)
	if err != nil || !strings.Contains(out, ".a (mysql, 2 rows): the mapping sends it to a mongodb target ("+mapFile+":4:13)") || !strings.Contains(out, ".b (mysql, 0 rows): skipped by the mapping") {
		t.Errorf("plan for MySQL: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "plan", bpath, "--target", moURL, "--map", mapFile); err != nil || !strings.Contains(out, "index at_ttl on [at], TTL 3600 s") {
		t.Errorf("plan for MongoDB: %v, want the TTL index noted\n%s", err, out)
	}
	out, err = runCLI(t, "-q", "import", bpath, "--target", myURL, "--target", moURL, "--map", mapFile, "--param", "ttl-indexes=skip")
	if err != nil {
		t.Fatalf("import into both: %v\n%s", err, out)
	}
	if n, err := mo.Collection("a").CountDocuments(ctx, bson.D{}); err != nil || n != 2 {
		t.Errorf("MongoDB a: %d documents (%v), want 2", n, err)
	}
	tables := queryStrings(t, my, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY 1")
	if strings.Join(tables, ",") != "c" {
		t.Errorf("MySQL tables %v, want c alone (a went to MongoDB, b was empty and skipped)", tables)
	}
	if out, err := runCLI(t, "verify", bpath, "--against", myURL, "--against", moURL, "--map", mapFile); err != nil || strings.Count(out, "match    ") != 2 {
		t.Errorf("verify --against both: %v, want a and c matched\n%s", err, out)
	}

	// skip: empty on a table that holds rows: refused, nothing written.
	write("version: 1\ndatasets:\n  - match: \"*.c\"\n    skip: empty\n")
	emptyURL, empty := testenv.MySQLDatabase(t, "eng_none")
	want := mapFile + ":4:11: skip: empty leaves out datasets that hold no rows"
	if out, err := runCLI(t, "plan", bpath, "--target", emptyURL, "--map", mapFile); exitCodeOf(err) != exitRefused || !strings.Contains(out, want) {
		t.Errorf("plan, skip: empty on 1 row: exit %d (%v), want %d and %q\n%s", exitCodeOf(err), err, exitRefused, want, out)
	}
	if out, err := runCLI(t, "-q", "import", bpath, "--target", emptyURL, "--map", mapFile); exitCodeOf(err) != exitError || !strings.Contains(fmt.Sprint(err), want) || !strings.Contains(fmt.Sprint(err), "holds 1") {
		t.Errorf("import, skip: empty on 1 row: exit %d (%v), want %d and %q\n%s", exitCodeOf(err), err, exitError, want, out)
	}
	// With two targets the refusal comes before the first one is touched
	// (the MongoDB one, loaded first, would take a).
	write("version: 1\ndatasets:\n  - match: \"*.c\"\n    skip: empty\n  - match: \"*.a\"\n    engine: mongodb\n")
	otherURL, other := testenv.MongoDatabase(t, "eng_none")
	if out, err := runCLI(t, "-q", "import", bpath, "--target", otherURL, "--target", emptyURL, "--map", mapFile); exitCodeOf(err) != exitError || !strings.Contains(fmt.Sprint(err), want) {
		t.Errorf("import into two targets, skip: empty on 1 row: exit %d (%v), want %d and %q\n%s", exitCodeOf(err), err, exitError, want, out)
	}
	if n := queryStrings(t, empty, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"); len(n) != 0 {
		t.Errorf("a refused import wrote tables %v", n)
	}
	if names, _ := other.ListCollectionNames(ctx, bson.D{}); len(names) != 0 {
		t.Errorf("a refused import wrote collections %v", names)
	}

	for _, c := range []struct{ yaml, want string }{
		{"version: 1\ndatasets:\n  - match: \"*.a\"\n    engine: oracle\n", `:4:13: engine "oracle": want mysql, mongodb or redis`},
		{"version: 1\ndatasets:\n  - match: \"*.a\"\n    skip: maybe\n", "skip maybe: want true, false or empty"},
		{"version: 1\ndatasets:\n  - match: \"*.a\"\n    skip: true\n    engine: mongodb\n", ":4:11: an entry that skips its datasets takes nothing else"},
		{"version: 1\ndatasets:\n  - match: \"*.a\"\n    indexes: [{fields: [at, v], expire_after_seconds: 5}]\n", "a TTL index has one field"},
	} {
		write(c.yaml)
		if _, err := runCLI(t, "plan", bpath, "--target", moURL, "--map", mapFile); exitCodeOf(err) != exitBadInput || !strings.Contains(fmt.Sprint(err), c.want) {
			t.Errorf("%q: exit %d (%v), want %d and %q", c.yaml, exitCodeOf(err), err, exitBadInput, c.want)
		}
	}
}
