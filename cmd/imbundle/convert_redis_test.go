package main

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/internal/testenv"
)

// Redis databases of the conversion tests: the source keyspace, the
// specials only MySQL takes, and the targets of the way back (and
// rcBackMySQL+1). Other packages' tests use 9..14: packages run at once.
const (
	rcSource, rcSpecial, rcBackMongo, rcBackMySQL = 4, 5, 6, 7
)

// fillEdgeKeyspace writes every type into db: binary key names, empty
// values, fields and members, keys of thousands of elements (the list of
// 1 KiB elements spans several 1 MiB parts), TTLs, and a stream with
// entries, a consumer group, a consumer and pending entries.
func fillEdgeKeyspace(t *testing.T, c *redis.Client) {
	t.Helper()
	ctx := context.Background()
	at := time.Now().Add(time.Hour)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.Set(ctx, "empty", "", 0).Err())
	must(c.Set(ctx, "bin\x00\xff\nkey", "\xc3\x28", 0).Err())
	must(c.Set(ctx, "ttl:string", "expires", 0).Err())
	must(c.PExpireAt(ctx, "ttl:string", at).Err())
	must(c.HSet(ctx, "hash", "", "empty field", "empty value", "", "\xff", "\x00").Err())
	must(c.SAdd(ctx, "set", "", "a", "\x00").Err())
	must(c.ZAdd(ctx, "zset", redis.Z{Score: 1.5, Member: ""}, redis.Z{Score: -2.25e-300, Member: "tiny"}, redis.Z{Score: 1e300, Member: "huge"}).Err())
	must(c.RPush(ctx, "list:short", "", "x", "").Err())
	big := strings.Repeat("v", 1024)
	var elems []any
	for i := 0; i < 12000; i++ {
		elems = append(elems, fmt.Sprintf("%05d%s", i, big))
		if len(elems) == 1000 {
			must(c.RPush(ctx, "list:big", elems...).Err())
			elems = elems[:0]
		}
	}
	must(c.PExpireAt(ctx, "list:big", at).Err())
	var fields []any
	for i := 0; i < 2500; i++ {
		fields = append(fields, fmt.Sprintf("f%04d", i), fmt.Sprintf("v%d", i))
	}
	must(c.HSet(ctx, "hash:big", fields...).Err())
	var members []redis.Z
	for i := 0; i < 3000; i++ {
		members = append(members, redis.Z{Score: float64(i) / 3, Member: fmt.Sprintf("m%d", i)})
	}
	must(c.ZAdd(ctx, "zset:big", members...).Err())
	for i := 1; i <= 5; i++ {
		must(c.XAdd(ctx, &redis.XAddArgs{Stream: "stream", ID: fmt.Sprintf("%d-1", i), Values: []any{"f", fmt.Sprint(i), "", "dup", "f", "again"}}).Err())
	}
	must(c.XGroupCreate(ctx, "stream", "g\x00", "0").Err())
	must(c.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g\x00", Consumer: "c\xff", Streams: []string{"stream", ">"}, Count: 2}).Err())
	must(c.XDel(ctx, "stream", "5-1").Err())
}

// TestRedisThroughMongoAndMySQL: a Redis keyspace imported into MongoDB
// and into MySQL by the default rules, verified there, exported from
// there and imported back into Redis, is the keyspace it was (verify of
// the first bundle against the new Redis database: keys, types,
// elements, stream state, TTLs within 2 s); verify catches a changed
// element on each converted target.
func TestRedisThroughMongoAndMySQL(t *testing.T) {
	ctx := context.Background()

	src := testenv.Redis(t, rcSource)
	special := testenv.Redis(t, rcSpecial)
	backMongo, backMySQL := testenv.Redis(t, rcBackMongo), testenv.Redis(t, rcBackMySQL)
	for _, c := range []*redis.Client{src, special, backMongo, backMySQL} {
		c.FlushDB(ctx)
		t.Cleanup(func() { c.FlushDB(context.Background()) })
	}
	fillEdgeKeyspace(t, src)
	// Scores MariaDB's DOUBLE does not hold, and FerretDB refuses or
	// changes: only MySQL is given them. Redis keeps -0 in a skiplist
	// zset, one of more than 128 members.
	zs := []redis.Z{{Score: math.Inf(1), Member: "+inf"}, {Score: math.Inf(-1), Member: "-inf"}}
	for i := 0; i < 200; i++ {
		zs = append(zs, redis.Z{Score: float64(i), Member: fmt.Sprint(i)})
	}
	if err := special.ZAdd(ctx, "zinf", zs...).Err(); err != nil {
		t.Fatal(err)
	}
	if err := special.Do(ctx, "ZADD", "zinf", "-0", "negzero").Err(); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	redisBundle := filepath.Join(dir, "redis.imb")
	if out, err := runCLI(t, "-q", "export", "--source", "redis://"+testenv.RedisAddr(), "--db", fmt.Sprintf("%d,%d", rcSource, rcSpecial), "--part-size", "1", "-o", redisBundle); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	onlySource := fmt.Sprintf("redis.db%d,redis.db%d.stream-state", rcSource, rcSource)

	t.Run("mongo", func(t *testing.T) {
		dstURL, db := testenv.MongoDatabase(t, "h_rconv")
		if out, err := runCLI(t, "-q", "import", redisBundle, "--target", dstURL, "--datasets", onlySource); err != nil {
			t.Fatalf("import into MongoDB: %v\n%s", err, out)
		}
		coll := db.Collection(fmt.Sprintf("redis_db%d", rcSource))
		doc, err := coll.FindOne(ctx, bson.D{{Key: "key", Value: bson.Binary{Data: []byte("ttl:string")}}}).Raw()
		if err != nil {
			t.Fatal(err)
		}
		if v := doc.Lookup("value"); v.Type != bson.TypeBinary {
			t.Errorf("value is %s, want Binary: %s", v.Type, doc)
		}
		if v := doc.Lookup("expire_at_ms"); v.Type != bson.TypeInt64 || v.Int64() < time.Now().UnixMilli() {
			t.Errorf("expire_at_ms %s: want the absolute expiry as Int64", v)
		}
		if n, err := db.Collection(fmt.Sprintf("redis_db%d_stream_state", rcSource)).CountDocuments(ctx, bson.D{}); err != nil || n < 4 {
			t.Errorf("stream state: %d documents (%v), want the stream, group, consumer and pending rows", n, err)
		}
		if out, err := runCLI(t, "verify", redisBundle, "--against", dstURL, "--datasets", onlySource); err != nil {
			t.Fatalf("verify --against MongoDB: %v\n%s", err, out)
		}

		mongoBundle := filepath.Join(dir, "mongo.imb")
		if out, err := runCLI(t, "-q", "export", "--source", dstURL, "--param", "sort=_id", "--part-size", "1", "-o", mongoBundle); err != nil {
			t.Fatalf("export MongoDB: %v\n%s", err, out)
		}
		back := fmt.Sprintf("%d:%d", rcSource, rcBackMongo)
		if out, err := runCLI(t, "-q", "import", mongoBundle, "--target", "redis://"+testenv.RedisAddr(), "--db-map", back); err != nil {
			t.Fatalf("import the MongoDB bundle into Redis: %v\n%s", err, out)
		}
		if out, err := runCLI(t, "verify", mongoBundle, "--against", "redis://"+testenv.RedisAddr(), "--db-map", back); err != nil {
			t.Fatalf("verify the MongoDB bundle against Redis: %v\n%s", err, out)
		}
		if out, err := runCLI(t, "verify", redisBundle, "--against", "redis://"+testenv.RedisAddr(), "--db-map", back, "--datasets", onlySource); err != nil {
			t.Fatalf("Redis -> MongoDB -> Redis is not the keyspace it was: %v\n%s", err, out)
		}

		// A changed pending entry's delivery count. (The keyspace takes a
		// changed element on MySQL below: naming the differing documents of
		// its 17,535 on FerretDB takes a minute.)
		state := fmt.Sprintf("redis.db%d.stream-state", rcSource)
		if r, err := db.Collection(fmt.Sprintf("redis_db%d_stream_state", rcSource)).UpdateOne(ctx, bson.D{{Key: "row", Value: "pending"}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "count", Value: int64(99)}}}}); err != nil || r.ModifiedCount != 1 {
			t.Fatalf("update a pending entry: %v %+v", err, r)
		}
		out, err := runCLI(t, "verify", redisBundle, "--against", dstURL, "--datasets", state)
		if exitCodeOf(err) != exitMismatch || !strings.Contains(out, "MISMATCH "+state) {
			t.Fatalf("verify after a changed element: exit %d (%v), want %d\n%s", exitCodeOf(err), err, exitMismatch, out)
		}
	})

	t.Run("mysql", func(t *testing.T) {
		dstURL, db := testenv.MySQLDatabase(t, "h_rconv")
		if out, err := runCLI(t, "-q", "import", redisBundle, "--target", dstURL); err != nil {
			t.Fatalf("import into MySQL: %v\n%s", err, out)
		}
		var texts string
		if err := db.QueryRow(fmt.Sprintf("SELECT GROUP_CONCAT(score_text ORDER BY score_text) FROM redis_db%d WHERE score IS NULL AND score_text IS NOT NULL", rcSpecial)).Scan(&texts); err != nil {
			t.Fatal(err)
		}
		if texts != "-0,-inf,inf" {
			t.Errorf("score_text holds %q, want -0,-inf,inf", texts)
		}
		var comment string
		if err := db.QueryRow("SELECT TABLE_COMMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?", fmt.Sprintf("redis_db%d", rcSource)).Scan(&comment); err != nil || comment != "imbundle:redis-keyspace-v1" {
			t.Errorf("table comment %q (%v)", comment, err)
		}
		verifyArgs := []string{"verify", redisBundle, "--against", dstURL}
		if out, err := runCLI(t, verifyArgs...); err != nil {
			t.Fatalf("verify --against MySQL: %v\n%s", err, out)
		}
		// The same import again finds the converted tables holding exactly
		// the bundle.
		if out, err := runCLI(t, "import", redisBundle, "--target", dstURL); err != nil || !strings.Contains(out, "already imported") {
			t.Fatalf("the same import again: %v\n%s", err, out)
		}

		mysqlBundle := filepath.Join(dir, "mysql.imb")
		if out, err := runCLI(t, "-q", "export", "--source", dstURL, "--part-size", "1", "--param", "lock-wait=2", "-o", mysqlBundle); err != nil {
			t.Fatalf("export MySQL: %v\n%s", err, out)
		}
		maps := []string{"--db-map", fmt.Sprintf("%d:%d", rcSource, rcBackMySQL), "--db-map", fmt.Sprintf("%d:%d", rcSpecial, rcBackMySQL+1)}
		back := testenv.Redis(t, rcBackMySQL+1)
		back.FlushDB(ctx)
		t.Cleanup(func() { back.FlushDB(context.Background()) })
		if out, err := runCLI(t, append([]string{"-q", "import", mysqlBundle, "--target", "redis://" + testenv.RedisAddr()}, maps...)...); err != nil {
			t.Fatalf("import the MySQL bundle into Redis: %v\n%s", err, out)
		}
		if out, err := runCLI(t, append([]string{"verify", mysqlBundle, "--against", "redis://" + testenv.RedisAddr()}, maps...)...); err != nil {
			t.Fatalf("verify the MySQL bundle against Redis: %v\n%s", err, out)
		}
		if out, err := runCLI(t, append([]string{"verify", redisBundle, "--against", "redis://" + testenv.RedisAddr()}, maps...)...); err != nil {
			t.Fatalf("Redis -> MySQL -> Redis is not the keyspace it was: %v\n%s", err, out)
		}
		if s, err := back.ZScore(ctx, "zinf", "negzero").Result(); err != nil || !math.Signbit(s) {
			t.Errorf("the -0 score came back as %v (%v)", s, err)
		}

		if _, err := db.Exec(fmt.Sprintf("UPDATE redis_db%d SET field = 'changed' WHERE `key` = 'hash:big' AND seq = 7", rcSource)); err != nil {
			t.Fatal(err)
		}
		out, err := runCLI(t, verifyArgs...)
		if exitCodeOf(err) != exitMismatch || !strings.Contains(out, fmt.Sprintf("MISMATCH redis.db%d", rcSource)) {
			t.Fatalf("verify after a changed element: exit %d (%v), want %d\n%s", exitCodeOf(err), err, exitMismatch, out)
		}
	})
}
