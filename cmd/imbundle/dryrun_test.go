package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imbundle/imbundle/internal/testenv"
)

// import --dry-run runs every check an import runs before it writes, and
// writes nothing: not the database, not a table, not the state schema's
// rows, not a reject file. Where the import would be refused it exits with
// the code the import exits with.
func TestImportDryRunMySQL(t *testing.T) {
	src, sdb := testenv.MySQLDatabase(t, "clidrysrc")
	mustExecAll(t, sdb, "CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR(20))", "INSERT INTO users VALUES (1, 'a'), (2, 'b')")
	dir := t.TempDir()
	path := filepath.Join(dir, "dry.imb")
	if out, err := runCLI(t, "export", "-q", "--source", src, "-o", path); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	dst, ddb := testenv.MySQLDatabase(t, "clidrydst")
	tables := func() int {
		var n int
		if err := ddb.QueryRow("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	out, err := runCLI(t, "import", path, "--target", dst, "--dry-run")
	if err != nil || !strings.Contains(out, "nothing written") || !strings.Contains(out, ".users") {
		t.Fatalf("dry run into an empty database: %v\n%s", err, out)
	}
	if n := tables(); n != 0 {
		t.Fatalf("the dry run created %d table(s)", n)
	}
	// A non-empty table under --mode fail: refused, as the import is.
	mustExecAll(t, ddb, "CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR(20))", "INSERT INTO users VALUES (9, 'z')")
	_, dryErr := runCLI(t, "import", path, "--target", dst, "--dry-run")
	_, realErr := runCLI(t, "import", path, "--target", dst, "--rejects", filepath.Join(dir, "r.jsonl"))
	if dryErr == nil || exitCode(dryErr) != exitCode(realErr) || exitCode(dryErr) != exitRefused {
		t.Fatalf("dry run exit %d (%v), import exit %d (%v): want both %d", exitCode(dryErr), dryErr, exitCode(realErr), realErr, exitRefused)
	}
	var n int
	if err := ddb.QueryRow("SELECT COUNT(*) FROM users").Scan(&n); err != nil || n != 1 {
		t.Fatalf("target rows %d, %v", n, err)
	}
	// --mode replace would drop the table: the dry run does not.
	if out, err := runCLI(t, "import", path, "--target", dst, "--dry-run", "--mode", "replace"); err != nil {
		t.Fatalf("dry run, replace: %v\n%s", err, out)
	}
	if err := ddb.QueryRow("SELECT COUNT(*) FROM users WHERE id = 9").Scan(&n); err != nil || n != 1 {
		t.Fatalf("the replace dry run changed the table: %d, %v", n, err)
	}
	if names := dirNames(t, dir); len(names) != 1 {
		t.Fatalf("the dry runs left files: %v", names)
	}
	// A damaged bundle: the same exit as the import, nothing written.
	bad := filepath.Join(dir, "bad.imb")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[200] ^= 0xff // inside the first part
	if err := os.WriteFile(bad, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, dryErr = runCLI(t, "import", bad, "--target", dst, "--dry-run", "--mode", "replace")
	_, realErr = runCLI(t, "import", bad, "--target", dst, "--mode", "replace")
	if dryErr == nil || exitCode(dryErr) != exitCode(realErr) {
		t.Fatalf("damaged bundle: dry run exit %d (%v), import exit %d (%v)", exitCode(dryErr), dryErr, exitCode(realErr), realErr)
	}
}

// Redis: the dry run checks that none of the bundle's keys exists
// (--mode fail) and writes no import marker.
func TestImportDryRunRedis(t *testing.T) {
	rc := testenv.Redis(t, 12)
	ctx := context.Background()
	dstc := testenv.Redis(t, 13)
	rc.FlushDB(ctx)
	dstc.FlushDB(ctx)
	t.Cleanup(func() { rc.FlushDB(ctx); dstc.FlushDB(ctx) })
	for i := 0; i < 5; i++ {
		rc.Set(ctx, fmt.Sprintf("k%d", i), i, 0)
	}
	path := filepath.Join(t.TempDir(), "r.imb")
	if out, err := runCLI(t, "export", "-q", "--source", redisURL(12), "-o", path); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	target := fmt.Sprintf("redis://%s", testenv.RedisAddr())
	if out, err := runCLI(t, "import", path, "--target", target, "--db-map", "12:13", "--dry-run"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if n := dstc.DBSize(ctx).Val(); n != 0 {
		t.Fatalf("the dry run wrote %d key(s)", n)
	}
	dstc.Set(ctx, "k3", "mine", 0)
	_, dryErr := runCLI(t, "import", path, "--target", target, "--db-map", "12:13", "--dry-run")
	_, realErr := runCLI(t, "import", path, "--target", target, "--db-map", "12:13")
	if dryErr == nil || exitCode(dryErr) != exitCode(realErr) || exitCode(dryErr) != exitRefused {
		t.Fatalf("dry run exit %d (%v), import exit %d (%v): want both %d", exitCode(dryErr), dryErr, exitCode(realErr), realErr, exitRefused)
	}
	if n := dstc.DBSize(ctx).Val(); n != 1 || dstc.Get(ctx, "k3").Val() != "mine" {
		t.Fatalf("target changed: %d keys", n)
	}
}

// MongoDB: no collection is created, no resume marker written.
func TestImportDryRunMongo(t *testing.T) {
	ctx := context.Background()
	srcURL, src := testenv.MongoDatabase(t, "clidrym")
	if _, err := src.Collection("users").InsertOne(ctx, map[string]any{"_id": 1, "n": "a"}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.imb")
	if out, err := runCLI(t, "export", "-q", "--source", srcURL, "-o", path); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	dstURL, dst := testenv.MongoDatabase(t, "clidrymdst")
	srcName := srcURL[strings.LastIndex(srcURL, "/")+1:]
	rename := srcName + "=" + dst.Name()
	// The state database (resume markers) must not change either.
	state := dst.Client().Database("imbundle")
	stateDocs := func() int64 {
		var n int64
		colls, _ := state.ListCollectionNames(ctx, map[string]any{})
		for _, c := range colls {
			k, _ := state.Collection(c).CountDocuments(ctx, map[string]any{})
			n += k
		}
		return n
	}
	before := stateDocs()
	if out, err := runCLI(t, "import", path, "--target", dstURL, "--map", rename, "--dry-run"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if names, err := dst.ListCollectionNames(ctx, map[string]any{}); err != nil || len(names) != 0 {
		t.Fatalf("the dry run created %v (%v)", names, err)
	}
	if after := stateDocs(); after != before {
		t.Fatalf("the dry run changed the state database: %d documents, %d before", after, before)
	}
	if _, err := dst.Collection("users").InsertOne(ctx, map[string]any{"_id": 9}); err != nil {
		t.Fatal(err)
	}
	_, dryErr := runCLI(t, "import", path, "--target", dstURL, "--map", rename, "--dry-run")
	_, realErr := runCLI(t, "import", path, "--target", dstURL, "--map", rename, "--rejects", filepath.Join(t.TempDir(), "r.jsonl"))
	if dryErr == nil || exitCode(dryErr) != exitCode(realErr) || exitCode(dryErr) != exitRefused {
		t.Fatalf("dry run exit %d (%v), import exit %d (%v): want both %d", exitCode(dryErr), dryErr, exitCode(realErr), realErr, exitRefused)
	}
	if n, _ := dst.Collection("users").CountDocuments(ctx, map[string]any{}); n != 1 {
		t.Fatalf("target holds %d documents, want the 1 there before", n)
	}
}
