package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"hash"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/imbundle/imbundle/internal/redistype"
)

// Independent readers of an import's target, for the fault tests: they
// read the target with the engines' own clients, not with imbundle's
// verify, so that a bug shared by the importer and verify --against still
// shows. Each returns one line per object (table, collection, group of
// keys), equal for equal content.

// mysqlTableStates is, per table of database name: the row count, CHECKSUM
// TABLE, and for a table without a primary key the multiset of its rows
// (each distinct row with its count), since a duplicated or lost copy of
// a duplicate row is what such a table can hide.
func mysqlTableStates(t *testing.T, db *sql.DB, name string) map[string]string {
	t.Helper()
	rows, err := db.Query(`SELECT t.TABLE_NAME, EXISTS (SELECT 1 FROM information_schema.TABLE_CONSTRAINTS c
		WHERE c.TABLE_SCHEMA = t.TABLE_SCHEMA AND c.TABLE_NAME = t.TABLE_NAME AND c.CONSTRAINT_TYPE = 'PRIMARY KEY')
		FROM information_schema.TABLES t WHERE t.TABLE_SCHEMA = ? AND t.TABLE_TYPE = 'BASE TABLE'`, name)
	if err != nil {
		t.Fatalf("list the tables of %s: %v", name, err)
	}
	keyed := map[string]bool{}
	for rows.Next() {
		var tbl string
		var pk bool
		if err := rows.Scan(&tbl, &pk); err != nil {
			t.Fatal(err)
		}
		keyed[tbl] = pk
	}
	rows.Close()
	out := map[string]string{}
	for tbl, pk := range keyed {
		full := "`" + name + "`.`" + tbl + "`"
		var n int64
		if err := db.QueryRow("SELECT COUNT(*) FROM " + full).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", full, err)
		}
		var ignored string
		var sum sql.NullInt64
		if err := db.QueryRow("CHECKSUM TABLE "+full).Scan(&ignored, &sum); err != nil {
			t.Fatalf("checksum %s: %v", full, err)
		}
		out[tbl] = fmt.Sprintf("%d rows, checksum %d", n, sum.Int64)
		if !pk {
			out[tbl] += ", rows " + mysqlMultiset(t, db, full)
		}
	}
	return out
}

// mysqlMultiset digests COUNT(*) grouped by every column of a table.
func mysqlMultiset(t *testing.T, db *sql.DB, full string) string {
	t.Helper()
	cols, err := db.Query("SELECT * FROM " + full + " LIMIT 0")
	if err != nil {
		t.Fatal(err)
	}
	names, _ := cols.Columns()
	cols.Close()
	list := "`" + strings.Join(names, "`, `") + "`"
	rows, err := db.Query("SELECT " + list + ", COUNT(*) FROM " + full + " GROUP BY " + list + " ORDER BY " + list)
	if err != nil {
		t.Fatalf("group %s: %v", full, err)
	}
	defer rows.Close()
	h := sha256.New()
	groups := 0
	vals := make([]sql.RawBytes, len(names)+1)
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			if v == nil {
				h.Write([]byte{0})
			} else {
				fmt.Fprintf(h, "\x01%d:%s", len(v), v)
			}
		}
		groups++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d distinct, sha256 %x", groups, h.Sum(nil)[:8])
}

// mysqlUnfinished is what the imbundle state schema still holds for
// database name: progress rows of an import that did not finish ("" if
// none; the schema is shared with other tests' imports, so only this
// database's rows count).
func mysqlUnfinished(t *testing.T, db *sql.DB, name string) string {
	t.Helper()
	var n int
	err := db.QueryRow("SELECT COUNT(*) FROM imbundle.progress WHERE db = ?", name).Scan(&n)
	if err != nil {
		if strings.Contains(err.Error(), "1146") || strings.Contains(err.Error(), "1049") {
			return "" // no state table: nothing unfinished anywhere
		}
		t.Fatalf("read imbundle.progress: %v", err)
	}
	if n > 0 {
		return fmt.Sprintf("%d progress rows in imbundle.progress for %s", n, name)
	}
	return ""
}

// mongoCollectionStates is, per collection: the document count and the
// digest of the sorted _ids (verify --against digests the documents'
// content; FerretDB reads slowly, and this reads the _ids only).
func mongoCollectionStates(t *testing.T, db *mongo.Database) map[string]string {
	t.Helper()
	ctx := context.Background()
	names, err := db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		t.Fatalf("list the collections of %s: %v", db.Name(), err)
	}
	out := map[string]string{}
	for _, c := range names {
		cur, err := db.Collection(c).Find(ctx, bson.D{}, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}).SetSort(bson.D{{Key: "_id", Value: 1}}))
		if err != nil {
			t.Fatalf("read %s.%s: %v", db.Name(), c, err)
		}
		ids, n := sha256.New(), 0
		for cur.Next(ctx) {
			ids.Write(cur.Current.Lookup("_id").Value)
			n++
		}
		if err := cur.Err(); err != nil {
			t.Fatalf("read %s.%s: %v", db.Name(), c, err)
		}
		cur.Close(ctx)
		out[c] = fmt.Sprintf("%d documents, _ids sha256 %x", n, ids.Sum(nil)[:8])
	}
	return out
}

// mongoUnfinished is the resume markers the state database holds for
// database name ("" if none).
func mongoUnfinished(t *testing.T, c *mongo.Client, name string) string {
	t.Helper()
	n, err := c.Database("imbundle").Collection("progress").CountDocuments(context.Background(), bson.D{{Key: "_id.database", Value: name}})
	if err != nil {
		t.Fatalf("read imbundle.progress: %v", err)
	}
	if n > 0 {
		return fmt.Sprintf("%d resume markers in imbundle.progress for %s", n, name)
	}
	return ""
}

// redisKeyStates is, per logical database of dbs and per key prefix (up
// to the first ':'), the key count and a digest of every key's name, type,
// content and whether it has a TTL; import markers are listed by name.
func redisKeyStates(t *testing.T, addr string, dbs []int) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	for _, db := range dbs {
		// Big keys and a busy machine: generous waits, no threshold.
		c := redis.NewClient(&redis.Options{Addr: addr, DB: db, ReadTimeout: time.Minute})
		keys, err := c.Keys(ctx, "*").Result()
		if err != nil {
			c.Close()
			t.Fatalf("KEYS in db %d of %s: %v", db, addr, err)
		}
		// imbundle's last-applied record stays by design (SPEC.md §14.3)
		// and names the time it was written: not the target's content.
		keys = slices.DeleteFunc(keys, func(k string) bool { return k == redistype.AppliedKey })
		sort.Strings(keys)
		type group struct {
			n   int
			sum hash.Hash
		}
		groups := map[string]*group{}
		var values []string
		for i := 0; i < len(keys); i += 1000 {
			values = append(values, redisValues(t, c, keys[i:min(i+1000, len(keys))])...)
		}
		for i, k := range keys {
			prefix, _, _ := strings.Cut(k, ":")
			name := fmt.Sprintf("db %d %s", db, prefix)
			g := groups[name]
			if g == nil {
				g = &group{sum: sha256.New()}
				groups[name] = g
			}
			g.n++
			fmt.Fprintf(g.sum, "%q %s\n", k, values[i])
		}
		for name, g := range groups {
			out[name] = fmt.Sprintf("%d keys, sha256 %x", g.n, g.sum.Sum(nil)[:8])
		}
		c.Close()
	}
	return out
}

// redisValues is each key's type, content (in an order-free form) and
// whether it has a TTL, read in two pipelines: one round trip per key
// would make the check slower than the import it checks.
func redisValues(t *testing.T, c *redis.Client, keys []string) []string {
	t.Helper()
	ctx := context.Background()
	p := c.Pipeline()
	types := make([]*redis.StatusCmd, len(keys))
	ttls := make([]*redis.DurationCmd, len(keys))
	for i, k := range keys {
		types[i], ttls[i] = p.Type(ctx, k), p.PTTL(ctx, k)
	}
	if _, err := p.Exec(ctx); err != nil {
		t.Fatalf("TYPE, PTTL: %v", err)
	}
	p = c.Pipeline()
	contents := make([]redis.Cmder, len(keys))
	for i, k := range keys {
		switch types[i].Val() {
		case "string":
			contents[i] = p.Get(ctx, k)
		case "hash":
			contents[i] = p.HGetAll(ctx, k)
		case "list":
			contents[i] = p.LRange(ctx, k, 0, -1)
		default:
			contents[i] = p.Dump(ctx, k)
		}
	}
	if _, err := p.Exec(ctx); err != nil {
		t.Fatalf("read the keys' content: %v", err)
	}
	out := make([]string, len(keys))
	for i := range keys {
		var content string
		switch cmd := contents[i].(type) {
		case *redis.StringCmd:
			content = strconv.Quote(cmd.Val())
		case *redis.MapStringStringCmd:
			fields := make([]string, 0, len(cmd.Val()))
			for f, v := range cmd.Val() {
				fields = append(fields, strconv.Quote(f)+"="+strconv.Quote(v))
			}
			sort.Strings(fields)
			content = strings.Join(fields, ",")
		case *redis.StringSliceCmd:
			content = strconv.Quote(strings.Join(cmd.Val(), "\x00"))
		}
		ttl := "no ttl"
		if ttls[i].Val() > 0 {
			ttl = "ttl"
		}
		out[i] = types[i].Val() + " " + content + " " + ttl
	}
	return out
}

// redisUnfinished names the import markers left in dbs ("" if none).
func redisUnfinished(t *testing.T, addr string, dbs []int) string {
	t.Helper()
	var left []string
	for _, db := range dbs {
		c := redis.NewClient(&redis.Options{Addr: addr, DB: db})
		keys, err := c.Keys(context.Background(), "imbundle:*").Result()
		c.Close()
		if err != nil {
			t.Fatalf("KEYS in db %d of %s: %v", db, addr, err)
		}
		for _, k := range keys {
			if k != redistype.AppliedKey {
				left = append(left, fmt.Sprintf("db %d: %s", db, k))
			}
		}
	}
	return strings.Join(left, ", ")
}

// diffStates lists the objects whose states differ, for a failure message
// ("" when equal).
func diffStates(got, want map[string]string) string {
	var d []string
	for k, w := range want {
		if g, ok := got[k]; !ok {
			d = append(d, fmt.Sprintf("%s: missing (want %s)", k, w))
		} else if g != w {
			d = append(d, fmt.Sprintf("%s: %s, want %s", k, g, w))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			d = append(d, fmt.Sprintf("%s: %s, not expected", k, g))
		}
	}
	sort.Strings(d)
	return strings.Join(d, "; ")
}
