package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/enginetest"
	"github.com/imbundle/imbundle/internal/testenv"
)

// A pairSource is one engine's small site, exported in parts small enough
// that an interrupted import has parts behind and ahead of it.
type pairSource struct {
	engine string
	path   string
	parts  int
}

// A pairTarget is a fresh, empty target of one engine: its URL, the
// flags an import and a verify of a converted bundle need there, how many
// records it holds, and a way to lose one of them.
type pairTarget struct {
	url   string
	flags []string
	count func() int64
	lose  func()
}

// TestEveryEnginePairConverts is the conformance of conversions, for the
// six ordered pairs of MySQL, MongoDB and Redis with the default mappings:
// an import interrupted after half its parts and run again ends with
// every record once and verify --against green; a third run finds it
// already imported and writes nothing; --mode replace loads it again, green;
// a record lost in the target makes verify fail, and a --mode fail import
// into that target is refused without writing.
func TestEveryEnginePairConverts(t *testing.T) {
	sources := []pairSource{pairMySQL(t), pairMongo(t), pairRedis(t)}
	targets := map[string]func(t *testing.T, src pairSource) pairTarget{
		"mysql": pairMySQLTarget, "mongodb": pairMongoTarget, "redis": pairRedisTarget,
	}
	for _, src := range sources {
		for _, engine := range []string{"mysql", "mongodb", "redis"} {
			if engine == src.engine {
				continue
			}
			t.Run(src.engine+" to "+engine, func(t *testing.T) {
				tg := targets[engine](t, src)
				checkPair(t, src, tg)
			})
		}
	}
}

func checkPair(t *testing.T, src pairSource, tg pairTarget) {
	rename := map[string]string{}
	for i := 0; i+1 < len(tg.flags); i += 2 {
		sep := map[string]string{"--map": "=", "--db-map": ":"}[tg.flags[i]]
		if old, new, ok := strings.Cut(tg.flags[i+1], sep); sep != "" && ok {
			rename[old] = new
		}
	}
	enginetest.ImportFailing(t, src.path, tg.url, rename, src.parts/2)
	importArgs := append([]string{"-q", "import", src.path, "--target", tg.url, "--rejects", filepath.Join(t.TempDir(), "r.jsonl")}, tg.flags...)
	verifyArgs := append([]string{"verify", src.path, "--against", tg.url}, tg.flags...)
	if out, err := runCLI(t, importArgs...); err != nil {
		t.Fatalf("the import run again after the failure: %v\n%s", err, out)
	}
	n := tg.count()
	if n == 0 {
		t.Fatal("the target holds nothing after the import")
	}
	if out, err := runCLI(t, verifyArgs...); err != nil {
		t.Fatalf("verify --against after the resumed import: %v\n%s", err, out)
	}
	if out, err := runCLI(t, importArgs...); err != nil || !strings.Contains(out, "already imported") {
		t.Fatalf("a third run: %v, want already imported\n%s", err, out)
	}
	if got := tg.count(); got != n {
		t.Fatalf("the third run changed the target: %d records, had %d", got, n)
	}
	if out, err := runCLI(t, append(importArgs, "--mode", "replace")...); err != nil {
		t.Fatalf("--mode replace: %v\n%s", err, out)
	}
	if out, err := runCLI(t, verifyArgs...); err != nil || tg.count() != n {
		t.Fatalf("verify --against after --mode replace (%d records, want %d): %v\n%s", tg.count(), n, err, out)
	}
	tg.lose()
	if out, err := runCLI(t, verifyArgs...); exitCodeOf(err) != exitMismatch {
		t.Fatalf("verify --against a target that lost a record: exit %d (%v), want %d\n%s", exitCodeOf(err), err, exitMismatch, out)
	}
	if out, err := runCLI(t, importArgs...); err == nil {
		t.Fatalf("--mode fail into a target that differs succeeded\n%s", out)
	}
	if got := tg.count(); got != n-1 {
		t.Fatalf("a refused import wrote: %d records, want %d", got, n-1)
	}
}

func pairMySQL(t *testing.T) pairSource {
	srcURL, db := testenv.MySQLDatabase(t, "pair_my")
	if _, err := db.Exec("CREATE TABLE msgs (id BIGINT PRIMARY KEY, body VARCHAR(200), at DATETIME(3), n BIGINT UNSIGNED NULL, KEY by_at (at))"); err != nil {
		t.Fatal(err)
	}
	var vals []string
	for i := 1; i <= 1500; i++ {
		n := "NULL"
		if i%3 != 0 {
			n = fmt.Sprint(uint64(1)<<62 + uint64(i))
		}
		vals = append(vals, fmt.Sprintf("(%d, 'message %d 😀 %s', '2024-01-01 00:00:%02d.%03d', %s)", i, i, strings.Repeat("x", i%40), i%60, i%1000, n))
	}
	if _, err := db.Exec("INSERT INTO msgs VALUES " + strings.Join(vals, ",")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "mysql.imb")
	m := enginetest.ExportSmallParts(t, srcURL, path, 100)
	return pairSource{engine: "mysql", path: path, parts: len(m.Datasets[0].Parts)}
}

func pairMongo(t *testing.T) pairSource {
	srcURL, db := testenv.MongoDatabase(t, "pair_mg")
	var docs []any
	for i := 1; i <= 1500; i++ {
		docs = append(docs, bson.D{
			{Key: "_id", Value: int64(i)},
			{Key: "s", Value: fmt.Sprintf("doc %d ✓ %s", i, strings.Repeat("y", i%40))},
			{Key: "at", Value: bson.DateTime(1700000000000 + int64(i))},
			{Key: "tags", Value: bson.A{"a", int32(i), 1.5}},
			{Key: "sub", Value: bson.D{{Key: "k", Value: i % 7}, {Key: "b", Value: bson.Binary{Data: []byte{0, byte(i), 0xff}}}}},
		})
	}
	if _, err := db.Collection("docs").InsertMany(context.Background(), docs); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "mongo.imb")
	m := enginetest.ExportSmallParts(t, srcURL, path, 100)
	return pairSource{engine: "mongodb", path: path, parts: len(m.Datasets[0].Parts)}
}

const (
	redisSourceDB = 4 // the Redis source's database
	redisTargetDB = 5 // the Redis target's
)

func pairRedis(t *testing.T) pairSource {
	c := testenv.Redis(t, redisSourceDB)
	ctx := context.Background()
	c.FlushDB(ctx)
	t.Cleanup(func() { c.FlushDB(context.Background()) })
	p := c.Pipeline()
	for i := 0; i < 300; i++ {
		p.Set(ctx, fmt.Sprintf("str:%d", i), fmt.Sprintf("v%d\x00\xff", i), time.Duration(i%2)*time.Hour)
		p.HSet(ctx, fmt.Sprintf("h:%d", i), "a", i, "b", "x")
		p.RPush(ctx, fmt.Sprintf("l:%d", i), "1", "2", "2")
		p.ZAdd(ctx, fmt.Sprintf("z:%d", i), redis.Z{Score: float64(i) / 3, Member: "m"}, redis.Z{Score: -1e300, Member: "n"})
		p.SAdd(ctx, fmt.Sprintf("s:%d", i), "p", "q")
	}
	if _, err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "redis.imb")
	m := enginetest.ExportSmallParts(t, redisURL(redisSourceDB), path, 100)
	parts := 0
	for _, ds := range m.Datasets {
		parts += len(ds.Parts)
	}
	return pairSource{engine: "redis", path: path, parts: parts}
}

// sourceDB is the namespace of the bundle's first dataset.
func sourceDB(t *testing.T, path string) string {
	t.Helper()
	r, err := bundle.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	return r.Manifest().Datasets[0].Namespace
}

func pairMySQLTarget(t *testing.T, src pairSource) pairTarget {
	url, db := testenv.MySQLDatabase(t, "pair_to_my")
	name := url[strings.LastIndexByte(url, '/')+1:]
	table := map[string]string{"mongodb": "docs", "redis": fmt.Sprintf("redis_db%d", redisSourceDB)}[src.engine]
	count := func() int64 {
		var n int64
		if err := db.QueryRow("SELECT COUNT(*) FROM `" + table + "`").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	lose := func() {
		if _, err := db.Exec("DELETE FROM `" + table + "` LIMIT 1"); err != nil {
			t.Fatal(err)
		}
	}
	return pairTarget{url: url, flags: []string{"--map", sourceDB(t, src.path) + "=" + name}, count: count, lose: lose}
}

func pairMongoTarget(t *testing.T, src pairSource) pairTarget {
	url, db := testenv.MongoDatabase(t, "pair_to_mg")
	name := url[strings.LastIndexByte(url, '/')+1:]
	coll := db.Collection(map[string]string{"mysql": "msgs", "redis": fmt.Sprintf("redis_db%d", redisSourceDB)}[src.engine])
	ctx := context.Background()
	count := func() int64 {
		n, err := coll.CountDocuments(ctx, bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	lose := func() {
		if _, err := coll.DeleteOne(ctx, bson.D{}); err != nil {
			t.Fatal(err)
		}
	}
	return pairTarget{url: url, flags: []string{"--map", sourceDB(t, src.path) + "=" + name}, count: count, lose: lose}
}

func pairRedisTarget(t *testing.T, src pairSource) pairTarget {
	c := testenv.Redis(t, redisTargetDB)
	ctx := context.Background()
	c.FlushDB(ctx)
	t.Cleanup(func() { c.FlushDB(context.Background()) })
	count := func() int64 {
		n, err := c.DBSize(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	lose := func() {
		keys, _, err := c.Scan(ctx, 0, "*:*", 100).Result()
		if err != nil || len(keys) == 0 {
			t.Fatalf("no key to lose (%v)", err)
		}
		for _, k := range keys {
			if !strings.HasPrefix(k, "imbundle:") {
				c.Del(ctx, k)
				return
			}
		}
		t.Fatal("no record key to lose")
	}
	return pairTarget{url: "redis://" + testenv.RedisAddr(), flags: []string{"--db-map", fmt.Sprintf("0:%d", redisTargetDB)}, count: count, lose: lose}
}
