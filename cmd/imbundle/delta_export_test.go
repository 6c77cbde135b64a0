package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/testenv"
	"github.com/imbundle/imbundle/spec"
)

// manifestOf opens a bundle and returns its manifest.
func manifestOf(t *testing.T, path string) *spec.Manifest {
	t.Helper()
	r, err := bundle.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer r.Close()
	return r.Manifest()
}

// exportTo runs export with args into dir/name and returns the path.
func exportTo(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if out, err := runCLI(t, append([]string{"export", "-q", "-o", path}, args...)...); err != nil {
		t.Fatalf("export %s: %v\n%s", name, err, out)
	}
	return path
}

// deltaMatchesFull asserts that every dataset's state in delta equals the
// digest of a full export of the same source now, and that the delta
// holds the same datasets.
func deltaMatchesFull(t *testing.T, deltaPath, fullPath string) map[string]*spec.Dataset {
	t.Helper()
	d, full := manifestOf(t, deltaPath), manifestOf(t, fullPath)
	if d.Delta == nil || d.Version != bundle.DeltaVersion {
		t.Fatalf("%s: format %s, delta %v: not a delta bundle", deltaPath, d.Version, d.Delta)
	}
	got := map[string]*spec.Dataset{}
	for i := range d.Datasets {
		got[d.Datasets[i].Name] = &d.Datasets[i]
	}
	if len(got) != len(full.Datasets) {
		t.Errorf("delta has %d datasets, a full export %d", len(got), len(full.Datasets))
	}
	for _, f := range full.Datasets {
		ds := got[f.Name]
		if ds == nil {
			t.Errorf("dataset %s: in the full export, not in the delta", f.Name)
			continue
		}
		if s := ds.Delta.State; s.Sum != f.Digest.Sum || s.Rows != f.Rows {
			t.Errorf("dataset %s: delta state %s (%d rows), full export %s (%d rows)", f.Name, s.Sum, s.Rows, f.Digest.Sum, f.Rows)
		}
	}
	return got
}

func wantChange(t *testing.T, ds map[string]*spec.Dataset, name, change string, changed, inserted, removed int64) {
	t.Helper()
	d := ds[name]
	if d == nil {
		t.Fatalf("no dataset %s in the delta", name)
	}
	dd := d.Delta
	if dd.Change != change || dd.Changed != changed || dd.Inserted != inserted || dd.Removals != removed {
		t.Errorf("%s: change %s (%d changed, %d inserted, %d removed), want %s (%d, %d, %d)", name, dd.Change, dd.Changed, dd.Inserted, dd.Removals, change, changed, inserted, removed)
	}
	if change == spec.ChangeRows {
		if n := changed + inserted + removed; dd.Deleted == nil || dd.Deleted.Rows != n {
			t.Errorf("%s: deleted keys %v, want %d (every entity written or removed)", name, dd.Deleted, n)
		}
	}
}

// A MySQL delta carries exactly the changed rows by key (updates, inserts
// and deletes of a single, composite, unsigned and binary key), keyless
// and new tables whole, unchanged ones not at all, dropped ones in the
// manifest; its states equal a full export's digests; a chain of two
// verifies and adds up; a delta of a 1% change is under a tenth of the
// base.
func TestDeltaExportMySQL(t *testing.T) {
	url, db := testenv.MySQLDatabase(t, "dexp")
	mustExecAll(t, db,
		"CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(80), d DECIMAL(65,30))",
		"INSERT INTO t SELECT seq, CONCAT(MD5(seq), SHA1(seq)), seq/7 FROM seq_1_to_100000",
		"CREATE TABLE pair (a INT, b VARCHAR(8), v TEXT, PRIMARY KEY (a, b))",
		"INSERT INTO pair SELECT seq DIV 3, CONCAT('k', seq MOD 3), SHA1(seq) FROM seq_1_to_3000",
		"CREATE TABLE u (id BIGINT UNSIGNED PRIMARY KEY, n INT)",
		"INSERT INTO u VALUES (18446744073709551615, 1), (0, 2), (9223372036854775808, 3)",
		"CREATE TABLE bin (k VARBINARY(16) PRIMARY KEY, v INT)",
		"INSERT INTO bin VALUES (X'00', 1), (X'FF00', 2), ('', 3)",
		"CREATE TABLE nopk (a INT, v VARCHAR(10))",
		"INSERT INTO nopk VALUES (1, 'x'), (1, 'x'), (2, NULL)",
		"CREATE TABLE same (id INT PRIMARY KEY)",
		"INSERT INTO same VALUES (1), (2)",
		"CREATE TABLE gone (id INT PRIMARY KEY)",
	)
	dir := t.TempDir()
	base := exportTo(t, dir, "base.imb", "--source", url)
	mustExecAll(t, db,
		"UPDATE t SET v = 'changed' WHERE id % 100 = 0", // 1,000 rows: 1%
		"DELETE FROM t WHERE id BETWEEN 501 AND 520",
		"INSERT INTO t VALUES (200001, 'new', 1), (200002, 'new', 2)",
		"DELETE FROM pair WHERE a = 5",
		"UPDATE pair SET v = 'x' WHERE a = 7 AND b = 'k1'",
		"UPDATE u SET n = 9 WHERE id = 18446744073709551615",
		"DELETE FROM bin WHERE k = X'00'",
		"UPDATE bin SET v = 7 WHERE k = ''",
		"INSERT INTO nopk VALUES (1, 'x')",
		"DROP TABLE gone",
		"CREATE TABLE fresh (id INT PRIMARY KEY)",
		"INSERT INTO fresh VALUES (1)",
	)
	d1 := exportTo(t, dir, "d1.imb", "--source", url, "--since", base)
	full1 := exportTo(t, dir, "full1.imb", "--source", url)
	ds := deltaMatchesFull(t, d1, full1)
	wantChange(t, ds, db0(url)+".t", spec.ChangeRows, 1000, 2, 20)
	wantChange(t, ds, db0(url)+".pair", spec.ChangeRows, 1, 0, 3)
	wantChange(t, ds, db0(url)+".u", spec.ChangeRows, 1, 0, 0)
	wantChange(t, ds, db0(url)+".bin", spec.ChangeRows, 1, 0, 1)
	wantChange(t, ds, db0(url)+".nopk", spec.ChangeWhole, 0, 0, 0)
	wantChange(t, ds, db0(url)+".fresh", spec.ChangeWhole, 0, 0, 0)
	wantChange(t, ds, db0(url)+".same", spec.ChangeNone, 0, 0, 0)
	m := manifestOf(t, d1)
	if len(m.Delta.Dropped) != 1 || m.Delta.Dropped[0].Object != "gone" || m.Delta.Depth != 1 {
		t.Errorf("delta member %+v: want depth 1 and table gone dropped", m.Delta)
	}
	if out, err := runCLI(t, "inspect", d1); err != nil || !strings.Contains(out, "delta 1 of base") || !strings.Contains(out, "dropped: "+db0(url)+".gone") {
		t.Errorf("inspect of a delta: %v\n%s", err, out)
	}
	if t1 := ds[db0(url)+".t"]; t1.Rows != 1002 {
		t.Errorf("t: the delta carries %d rows, want the 1,002 changed and new ones", t1.Rows)
	}
	if b, d := fileSize(t, base), fileSize(t, d1); d*10 >= b {
		t.Errorf("a delta of a 1%% change is %d bytes, the base %d: not under a tenth", d, b)
	}

	// A second delta, of the first; nothing but one row changed.
	mustExec(t, db, "UPDATE pair SET v = 'y' WHERE a = 8 AND b = 'k2'")
	d2 := exportTo(t, dir, "d2.imb", "--source", url, "--since", base, "--since", d1)
	full2 := exportTo(t, dir, "full2.imb", "--source", url)
	ds = deltaMatchesFull(t, d2, full2)
	wantChange(t, ds, db0(url)+".pair", spec.ChangeRows, 1, 0, 0)
	wantChange(t, ds, db0(url)+".t", spec.ChangeNone, 0, 0, 0)
	wantChange(t, ds, db0(url)+".nopk", spec.ChangeNone, 0, 0, 0)
	if out, err := runCLI(t, "verify", d2, base, d1); err != nil || !strings.Contains(out, "adds up") {
		t.Fatalf("verify of the chain: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "verify", base, d2); exitCodeOf(err) != exitBadInput || !strings.Contains(out+errString(err), "not among the bundles given") {
		t.Fatalf("verify of a chain missing its middle: exit %d %v\n%s", exitCodeOf(err), err, out)
	}
	// Another selection than the parent's: refused, since what it left
	// out would be dropped from the target.
	out, err := runCLI(t, "export", "-q", "-o", filepath.Join(dir, "narrow.imb"), "--source", url, "--since", base, "--since", d1, "--since", d2, "--tables", "t")
	if exitCodeOf(err) != exitUsage || !strings.Contains(errString(err), "a delta selects what its parent did") {
		t.Fatalf("export --since with another --tables: exit %d %v\n%s", exitCodeOf(err), err, out)
	}
	// --since without the base: refused before the source is read.
	out, err = runCLI(t, "export", "-q", "-o", filepath.Join(dir, "bad.imb"), "--source", url, "--since", d1)
	if exitCodeOf(err) != exitUsage || !strings.Contains(errString(err), "no full bundle") {
		t.Fatalf("export --since a delta alone: exit %d %v\n%s", exitCodeOf(err), err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "bad.imb")); err == nil {
		t.Fatal("a refused delta export left a bundle")
	}
}

func db0(url string) string { return url[strings.LastIndex(url, "/")+1:] }

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// A MongoDB delta finds changed, new and removed documents by _id, of
// several BSON types.
func TestDeltaExportMongo(t *testing.T) {
	url, db := testenv.MongoDatabase(t, "dexp")
	ctx := context.Background()
	c := db.Collection("msgs")
	var docs []any
	for i := 0; i < 2000; i++ {
		docs = append(docs, bson.D{{Key: "_id", Value: int64(i)}, {Key: "n", Value: i}, {Key: "s", Value: strings.Repeat("v", i%40)}})
	}
	oid := bson.NewObjectID()
	docs = append(docs, bson.D{{Key: "_id", Value: oid}, {Key: "n", Value: -1}}, bson.D{{Key: "_id", Value: "text"}, {Key: "n", Value: -2}})
	if _, err := c.InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Collection("still").InsertOne(ctx, bson.D{{Key: "_id", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	base := exportTo(t, dir, "base.imb", "--source", url)
	if _, err := c.UpdateMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$lt", Value: 10}}}}, bson.D{{Key: "$set", Value: bson.D{{Key: "s", Value: "changed"}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteOne(ctx, bson.D{{Key: "_id", Value: oid}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateOne(ctx, bson.D{{Key: "_id", Value: "text"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "n", Value: 5}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "a", Value: 1}}}, {Key: "n", Value: 7}}); err != nil {
		t.Fatal(err)
	}
	d1 := exportTo(t, dir, "d1.imb", "--source", url, "--since", base)
	full := exportTo(t, dir, "full.imb", "--source", url)
	ds := deltaMatchesFull(t, d1, full)
	name := db0(url)
	wantChange(t, ds, name+".msgs", spec.ChangeRows, 11, 1, 1)
	wantChange(t, ds, name+".still", spec.ChangeNone, 0, 0, 0)
	if out, err := runCLI(t, "verify", base, d1); err != nil {
		t.Fatalf("verify of the chain: %v\n%s", err, out)
	}
}

// A Redis delta compares keys with all their rows and TTLs: a hash that
// lost a field, a list changed in one element among many rows, a key
// deleted, a key whose only change is its TTL, a new key.
func TestDeltaExportRedis(t *testing.T) {
	ctx := context.Background()
	r := testenv.Redis(t, 13)
	if err := r.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.FlushDB(context.Background()) })
	p := r.Pipeline()
	for i := 0; i < 3000; i++ {
		p.Set(ctx, fmt.Sprintf("s:%d", i), strings.Repeat("x", i%30), 0)
	}
	p.HSet(ctx, "h", "a", "1", "b", "2", "c", "3")
	for i := 0; i < 20000; i++ {
		p.RPush(ctx, "big", fmt.Sprintf("element-%06d", i))
	}
	p.Set(ctx, "ttl", "v", time.Hour)
	p.Set(ctx, "gone", "v", 0)
	if _, err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	src := []string{"--source", "redis://" + testenv.RedisAddr(), "--db", "13", "--part-size", "1"}
	dir := t.TempDir()
	base := exportTo(t, dir, "base.imb", src...)
	r.HDel(ctx, "h", "b")
	r.LSet(ctx, "big", 12345, "changed")
	r.Del(ctx, "gone")
	r.Expire(ctx, "ttl", 5*time.Hour)
	r.Set(ctx, "new", "n", 0)
	// 1 MiB sorts: the entity sorts spill to runs and merge.
	d1 := exportTo(t, dir, "d1.imb", append(src, "--since", base, "--sort-memory", "1")...)
	full := exportTo(t, dir, "full.imb", src...)
	ds := deltaMatchesFull(t, d1, full)
	wantChange(t, ds, "redis.db13", spec.ChangeRows, 3, 1, 1)
	if d := ds["redis.db13"]; d.Rows > 20010 || d.Rows < 20003 {
		t.Errorf("the delta carries %d rows: want the rewritten keys' rows only (big's 20,001, h's 3, ttl and new)", d.Rows)
	}
	if out, err := runCLI(t, "verify", base, d1); err != nil {
		t.Fatalf("verify of the chain: %v\n%s", err, out)
	}
}
