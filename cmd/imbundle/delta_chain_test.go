package main

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/internal/testenv"
)

// checksums is CHECKSUM TABLE of every base table of db's database.
func checksums(t *testing.T, db *sql.DB) map[string]string {
	t.Helper()
	rows, err := db.Query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		names = append(names, n)
	}
	rows.Close()
	out := map[string]string{}
	for _, n := range names {
		var tbl, sum sql.NullString
		if err := db.QueryRow("CHECKSUM TABLE `"+n+"`").Scan(&tbl, &sum); err != nil {
			t.Fatal(err)
		}
		out[n] = sum.String
	}
	return out
}

func sameMaps(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d entries, want %d: %v vs %v", what, len(got), len(want), got, want)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %s is %q, want %q", what, k, got[k], w)
		}
	}
}

// The cutover, on MySQL: a base imported into a new site, then a chain
// of deltas (updates, inserts, deletes, a keyless table, a dropped and a
// new table) applied one by one; after each the target's tables equal the
// source's (CHECKSUM TABLE) and verify of the chain against it is green.
// A delta applied twice changes nothing; a delta onto a target that does
// not hold its parent is refused (exit 6) unless --force.
func TestDeltaChainAppliedMySQL(t *testing.T) {
	src, sdb := testenv.MySQLDatabase(t, "dchs")
	dst, ddb := testenv.MySQLDatabase(t, "dchd")
	mustExecAll(t, sdb,
		"CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(80), d DECIMAL(65,30), KEY (v))",
		"INSERT INTO t SELECT seq, MD5(seq), seq/7 FROM seq_1_to_20000",
		"CREATE TABLE pair (a INT, b VARBINARY(8), v TEXT, PRIMARY KEY (a, b))",
		"INSERT INTO pair SELECT seq DIV 3, CONCAT('k', seq MOD 3), SHA1(seq) FROM seq_1_to_3000",
		"CREATE TABLE nopk (a INT, v VARCHAR(10))",
		"INSERT INTO nopk VALUES (1, 'x'), (1, 'x'), (2, NULL)",
		"CREATE TABLE gone (id INT PRIMARY KEY)",
		"INSERT INTO gone VALUES (1)",
	)
	dir := t.TempDir()
	base := exportTo(t, dir, "base.imb", "--source", src)
	if out, err := runCLI(t, "import", "-q", base, "--target", dst); err != nil {
		t.Fatalf("import base: %v\n%s", err, out)
	}
	mustExecAll(t, sdb,
		"UPDATE t SET v = 'changed' WHERE id % 50 = 0",
		"DELETE FROM t WHERE id BETWEEN 100 AND 180",
		"INSERT INTO t VALUES (30001, 'new', 1)",
		"DELETE FROM pair WHERE a = 5",
		"UPDATE pair SET v = 'x' WHERE a = 7",
		"INSERT INTO nopk VALUES (1, 'x')",
		"DROP TABLE gone",
		"CREATE TABLE fresh (id INT PRIMARY KEY, v INT)",
		"INSERT INTO fresh VALUES (1, 1), (2, 2)",
	)
	d1 := exportTo(t, dir, "d1.imb", "--source", src, "--since", base)
	apply := func(path string, extra ...string) string {
		t.Helper()
		out, err := runCLI(t, append([]string{"import", "-q", path, "--target", dst}, extra...)...)
		if err != nil {
			t.Fatalf("import %s: %v\n%s", path, err, out)
		}
		return out
	}
	apply(d1)
	sameMaps(t, "after d1, the target's tables", checksums(t, ddb), checksums(t, sdb))
	if out, err := runCLI(t, "verify", base, d1, "--against", dst); err != nil {
		t.Fatalf("verify base d1 --against: %v\n%s", err, out)
	}
	before := checksums(t, ddb)
	out := apply(d1)
	if !strings.Contains(out, "already") {
		t.Errorf("a delta applied twice does not say it was applied already:\n%s", out)
	}
	sameMaps(t, "d1 applied twice", checksums(t, ddb), before)

	mustExecAll(t, sdb,
		"UPDATE t SET v = 'again' WHERE id < 30",
		"DELETE FROM fresh WHERE id = 1",
		"UPDATE nopk SET v = 'y'",
	)
	d2 := exportTo(t, dir, "d2.imb", "--source", src, "--since", base, "--since", d1)

	// Another site that holds only the base: d2's parent is d1, not it.
	other, odb := testenv.MySQLDatabase(t, "dcho")
	if out, err := runCLI(t, "import", "-q", base, "--target", other); err != nil {
		t.Fatalf("import base elsewhere: %v\n%s", err, out)
	}
	was := checksums(t, odb)
	out, err := runCLI(t, "import", "-q", d2, "--target", other)
	if exitCodeOf(err) != exitRefused || !strings.Contains(errString(err), "--force") {
		t.Fatalf("a delta onto a target without its parent: exit %d %v\n%s", exitCodeOf(err), err, out)
	}
	sameMaps(t, "a refused delta", checksums(t, odb), was)

	apply(d2)
	sameMaps(t, "after d2, the target's tables", checksums(t, ddb), checksums(t, sdb))
	if out, err := runCLI(t, "verify", base, d1, d2, "--against", dst); err != nil || !strings.Contains(out, "adds up") {
		t.Fatalf("verify of the chain --against: %v\n%s", err, out)
	}
	// A change on the target after the chain: verify names it.
	mustExec(t, ddb, "UPDATE t SET v = 'drift' WHERE id = 1")
	if out, err := runCLI(t, "verify", base, d1, d2, "--against", dst); exitCodeOf(err) != exitMismatch {
		t.Fatalf("verify of a drifted target: exit %d %v\n%s", exitCodeOf(err), err, out)
	}
	// --force applies d2 onto the other site's base: its changed keys
	// land, the rest is the base's.
	if out, err := runCLI(t, "import", "-q", d2, "--target", other, "--force"); err != nil {
		t.Fatalf("import --force: %v\n%s", err, out)
	}
}

// The same chain on MongoDB and on Redis: after each delta the target
// equals the source (verify --against the chain), deletions, updates and
// a TTL change included.
func TestDeltaChainAppliedMongoRedis(t *testing.T) {
	t.Run("mongodb", func(t *testing.T) {
		src, sdb := testenv.MongoDatabase(t, "dchs")
		dst, _ := testenv.MongoDatabase(t, "dchd")
		ctx := context.Background()
		c := sdb.Collection("msgs")
		var docs []any
		for i := 0; i < 1500; i++ {
			docs = append(docs, bson.D{{Key: "_id", Value: int64(i)}, {Key: "n", Value: i}})
		}
		if _, err := c.InsertMany(ctx, docs); err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		base := exportTo(t, dir, "base.imb", "--source", src)
		if out, err := runCLI(t, "import", "-q", base, "--target", dst); err != nil {
			t.Fatalf("import base: %v\n%s", err, out)
		}
		c.UpdateMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$lt", Value: 20}}}}, bson.D{{Key: "$set", Value: bson.D{{Key: "x", Value: "changed"}}}})
		c.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$gte", Value: 1400}}}})
		c.InsertOne(ctx, bson.D{{Key: "_id", Value: "new"}})
		d1 := exportTo(t, dir, "d1.imb", "--source", src, "--since", base)
		if out, err := runCLI(t, "import", "-q", d1, "--target", dst); err != nil {
			t.Fatalf("import d1: %v\n%s", err, out)
		}
		if out, err := runCLI(t, "verify", base, d1, "--against", dst); err != nil {
			t.Fatalf("verify --against: %v\n%s", err, out)
		}
		// The target's documents, exported whole, digest as the source's.
		got := bundleDigests(t, exportTo(t, dir, "dst.imb", "--source", dst))
		want := bundleDigests(t, exportTo(t, dir, "src.imb", "--source", src))
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("target %v, source %v", got, want)
		}
	})
	t.Run("redis", func(t *testing.T) {
		ctx := context.Background()
		s, d := testenv.Redis(t, 11), testenv.Redis(t, 12)
		s.FlushDB(ctx)
		d.FlushDB(ctx)
		t.Cleanup(func() { s.FlushDB(context.Background()); d.FlushDB(context.Background()) })
		p := s.Pipeline()
		for i := 0; i < 2000; i++ {
			p.Set(ctx, fmt.Sprintf("s:%d", i), i, 0)
		}
		p.HSet(ctx, "h", "a", "1", "b", "2")
		p.Set(ctx, "ttl", "v", time.Hour)
		if _, err := p.Exec(ctx); err != nil {
			t.Fatal(err)
		}
		addr := "redis://" + testenv.RedisAddr()
		dir := t.TempDir()
		base := exportTo(t, dir, "base.imb", "--source", addr, "--db", "11")
		if out, err := runCLI(t, "import", "-q", base, "--target", addr+"/12"); err != nil {
			t.Fatalf("import base: %v\n%s", err, out)
		}
		s.HDel(ctx, "h", "b")
		s.Del(ctx, "s:7", "s:8")
		s.Set(ctx, "s:9", "changed", 0)
		s.Expire(ctx, "ttl", 9*time.Hour)
		d1 := exportTo(t, dir, "d1.imb", "--source", addr, "--db", "11", "--since", base)
		if out, err := runCLI(t, "import", "-q", d1, "--target", addr+"/12"); err != nil {
			t.Fatalf("import d1: %v\n%s", err, out)
		}
		if out, err := runCLI(t, "verify", base, d1, "--against", addr+"/12"); err != nil {
			t.Fatalf("verify --against: %v\n%s", err, out)
		}
		if ttl := d.TTL(ctx, "ttl").Val(); ttl < 8*time.Hour {
			t.Errorf("the TTL change did not reach the target: %s", ttl)
		}
		if n := d.HLen(ctx, "h").Val(); n != 1 {
			t.Errorf("h has %d fields on the target, want 1", n)
		}
		var keys []string
		for _, k := range d.Keys(ctx, "*").Val() {
			if !strings.HasPrefix(k, "imbundle:") {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		want := s.Keys(ctx, "*").Val()
		sort.Strings(want)
		if fmt.Sprint(keys) != fmt.Sprint(want) {
			t.Errorf("target keys %d, source %d", len(keys), len(want))
		}
	})
}

// bundleDigests is each dataset's digest and rows by object name (the
// namespace differs between a source and a target).
func bundleDigests(t *testing.T, path string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, ds := range manifestOf(t, path).Datasets {
		out[ds.Object] = fmt.Sprintf("%s/%d", ds.Digest.Sum, ds.Rows)
	}
	return out
}

// A Redis database holding a stream goes whole in a delta (its consumer
// groups travel apart from its entries, SPEC.md §14.2): after new entries
// and a group's reads, the target holds the source's entries and groups.
func TestDeltaRedisStreams(t *testing.T) {
	ctx := context.Background()
	s, d := testenv.Redis(t, 10), testenv.Redis(t, 9)
	s.FlushDB(ctx)
	d.FlushDB(ctx)
	t.Cleanup(func() { s.FlushDB(context.Background()); d.FlushDB(context.Background()) })
	for i := 0; i < 5; i++ {
		s.XAdd(ctx, &redis.XAddArgs{Stream: "ev", Values: []string{"n", fmt.Sprint(i)}})
	}
	s.XGroupCreate(ctx, "ev", "g", "0")
	s.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: "c", Streams: []string{"ev", ">"}, Count: 2})
	s.Set(ctx, "plain", "v", 0)
	addr := "redis://" + testenv.RedisAddr()
	dir := t.TempDir()
	base := exportTo(t, dir, "base.imb", "--source", addr, "--db", "10")
	if out, err := runCLI(t, "import", "-q", base, "--target", addr+"/9"); err != nil {
		t.Fatalf("import base: %v\n%s", err, out)
	}
	s.XAdd(ctx, &redis.XAddArgs{Stream: "ev", Values: []string{"n", "new"}})
	s.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: "c2", Streams: []string{"ev", ">"}, Count: 1})
	d1 := exportTo(t, dir, "d1.imb", "--source", addr, "--db", "10", "--since", base)
	for _, ds := range manifestOf(t, d1).Datasets {
		if ds.Delta.Change != "whole" {
			t.Errorf("%s: change %s, want whole (the database holds a stream)", ds.Name, ds.Delta.Change)
		}
	}
	if out, err := runCLI(t, "import", "-q", d1, "--target", addr+"/9"); err != nil {
		t.Fatalf("import d1: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "verify", base, d1, "--against", addr+"/9"); err != nil {
		t.Fatalf("verify --against: %v\n%s", err, out)
	}
	want, got := s.XInfoGroups(ctx, "ev").Val(), d.XInfoGroups(ctx, "ev").Val()
	if len(got) != 1 || got[0].LastDeliveredID != want[0].LastDeliveredID || got[0].Pending != want[0].Pending || got[0].Consumers != want[0].Consumers {
		t.Errorf("the target's groups %+v, the source's %+v", got, want)
	}
	if n := d.XLen(ctx, "ev").Val(); n != 6 {
		t.Errorf("the target's stream holds %d entries, want 6", n)
	}
}
