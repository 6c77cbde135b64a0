package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/testenv"
	"github.com/imbundle/imbundle/spec"
)

// TestImportIntoSeveralTargets: a bundle of a MySQL database and a Redis
// keyspace restores into a MySQL and a Redis target in one command, each
// dataset to its own engine, and verify --against each says so; a damaged
// bundle touches neither target; two targets of one engine are refused.
func TestImportIntoSeveralTargets(t *testing.T) {
	ctx := context.Background()
	srcURL, src := testenv.MySQLDatabase(t, "mt_src")
	if _, err := src.Exec("CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR(20))"); err != nil {
		t.Fatal(err)
	}
	src.Exec("INSERT INTO users VALUES (1, 'ann'), (2, 'bob')")
	rs := testenv.Redis(t, 10)
	rs.FlushDB(ctx)
	rs.Set(ctx, "MAX_SEQ:si_1_2", "7", 0)
	rs.HSet(ctx, "h", "f", "v")
	dir := t.TempDir()
	path := filepath.Join(dir, "site.imb")
	if out, err := runCLI(t, "-q", "export", "--source", srcURL, "--source", redisURL(10), "-o", path, "--param", "lock-wait=2"); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	rs.FlushDB(ctx)
	dstURL, dst := testenv.MySQLDatabase(t, "mt_dst")
	srcDB := srcURL[strings.LastIndexByte(srcURL, '/')+1:]
	dstDB := dstURL[strings.LastIndexByte(dstURL, '/')+1:]
	rd := testenv.Redis(t, 11)
	rd.FlushDB(ctx)
	out, err := runCLI(t, "-q", "import", path, "--target", dstURL, "--target", redisURL(11), "--map", srcDB+"="+dstDB)
	if err != nil {
		t.Fatalf("import into two targets: %v\n%s", err, out)
	}
	var n int
	if err := dst.QueryRow("SELECT COUNT(*) FROM users").Scan(&n); err != nil || n != 2 {
		t.Errorf("MySQL target: %d users (%v), want 2", n, err)
	}
	if v, _ := rd.Get(ctx, "MAX_SEQ:si_1_2").Result(); v != "7" {
		t.Errorf("Redis target: MAX_SEQ:si_1_2 = %q, want 7", v)
	}
	out, err = runCLI(t, "verify", path, "--against", dstURL, "--against", redisURL(11), "--map", srcDB+"="+dstDB)
	if err != nil || strings.Count(out, "OK: 1 dataset(s) on") != 1 || !strings.Contains(out, "OK: 2 dataset(s) on") {
		t.Errorf("verify --against both targets: %v\n%s", err, out)
	}
	rd.Set(ctx, "MAX_SEQ:si_1_2", "8", 0)
	if out, err := runCLI(t, "verify", path, "--against", dstURL, "--against", redisURL(11), "--map", srcDB+"="+dstDB); exitCodeOf(err) != exitMismatch || !strings.Contains(out, "OK: 1 dataset(s) on") {
		t.Errorf("verify --against both, the Redis one changed: exit %d (%v)\n%s", exitCodeOf(err), err, out)
	}
	rd.Set(ctx, "MAX_SEQ:si_1_2", "7", 0)

	// One MySQL target alone loads the MySQL table and leaves the keyspace,
	// until it is named: then it is converted into a table.
	solo, sdb := testenv.MySQLDatabase(t, "mt_solo")
	soloDB := solo[strings.LastIndexByte(solo, '/')+1:]
	out, err = runCLI(t, "-q", "import", path, "--target", solo, "--map", srcDB+"="+soloDB)
	if err != nil || !strings.Contains(out, "not loaded here") || !strings.Contains(out, "redis.db10") {
		t.Errorf("a site bundle into its MySQL store alone: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "verify", path, "--against", solo, "--map", srcDB+"="+soloDB); err != nil || !strings.Contains(out, "OK: 1 dataset(s)") {
		t.Errorf("verify of the MySQL store alone: %v\n%s", err, out)
	}
	out, err = runCLI(t, "-q", "import", path, "--target", solo, "--datasets", "redis.db10")
	if err != nil {
		t.Fatalf("the keyspace named with --datasets: %v\n%s", err, out)
	}
	var keys int
	if err := sdb.QueryRow("SELECT COUNT(DISTINCT `key`) FROM redis_db10").Scan(&keys); err != nil || keys != 2 {
		t.Errorf("the keyspace converted into %s: %d keys (%v), want 2", soloDB, keys, err)
	}

	// A dataset name the bundle lacks, with several targets: a usage
	// error, not an import of nothing that exits 0.
	mongoURL, _ := testenv.MongoDatabase(t, "mt_none")
	if _, err := runCLI(t, "-q", "import", path, "--target", mongoURL, "--target", redisURL(11), "--datasets", srcDB+".nope"); exitCodeOf(err) != exitUsage || !strings.Contains(err.Error(), "is not in the bundle") {
		t.Errorf("--datasets naming no dataset, two targets: exit %d (%v), want %d", exitCodeOf(err), err, exitUsage)
	}

	// Two MySQL targets: which one gets the table is not the tool's guess.
	other, _ := testenv.MySQLDatabase(t, "mt_other")
	if _, err := runCLI(t, "import", path, "--target", dstURL, "--target", other); exitCodeOf(err) != exitUsage {
		t.Errorf("two MySQL targets: exit %d (%v), want %d", exitCodeOf(err), err, exitUsage)
	}

	// A damaged bundle: neither target is touched, although the Redis
	// target comes second and its dataset might be intact.
	bad := filepath.Join(dir, "bad.imb")
	damageLast(t, path, bad)
	fresh, fdb := testenv.MySQLDatabase(t, "mt_fresh")
	rd.FlushDB(ctx)
	freshDB := fresh[strings.LastIndexByte(fresh, '/')+1:]
	_, err = runCLI(t, "-q", "import", bad, "--target", fresh, "--target", redisURL(11), "--map", srcDB+"="+freshDB)
	if exitCodeOf(err) != exitBadInput {
		t.Errorf("damaged bundle: exit %d (%v), want %d", exitCodeOf(err), err, exitBadInput)
	}
	var tables int
	fdb.QueryRow("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()").Scan(&tables)
	if size, _ := rd.DBSize(ctx).Result(); tables != 0 || size != 0 {
		t.Errorf("a damaged bundle wrote %d tables and %d keys", tables, size)
	}
}

// damageLast copies the bundle at path to bad with one byte flipped in the
// first part of its last dataset that has parts (the Redis keyspace here).
func damageLast(t *testing.T, path, bad string) {
	t.Helper()
	r, err := bundle.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var p spec.Part
	for _, ds := range r.Manifest().Datasets {
		if len(ds.Parts) > 0 {
			p = ds.Parts[0]
		}
	}
	r.Close()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(raw, []byte(p.Path))
	raw[at+len(p.Path)+int(p.Bytes)/2] ^= 0x55
	if err := os.WriteFile(bad, raw, 0o644); err != nil {
		t.Fatal(err)
	}
}
