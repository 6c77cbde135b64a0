package redis_test

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	_ "github.com/imbundle/imbundle/exporter/redis"
	_ "github.com/imbundle/imbundle/importer/redis"
	"github.com/imbundle/imbundle/internal/enginetest"
	"github.com/imbundle/imbundle/internal/redistype"
	"github.com/imbundle/imbundle/internal/testenv"
)

// The logical databases the suite may use on the test Redis: 9..12, those
// of this package's other tests, which never run at the same time (13 is
// exporter/redis's, whose test binary may). The source takes the first
// free one, each target another, flushed before and after.
var (
	dbMu   sync.Mutex
	dbFree = []int{9, 10, 11, 12}
)

// TestConformance runs the engine conformance suite against the test Redis
// (IMBUNDLE_TEST_REDIS).
func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("the conformance suite builds the CLI and runs many imports")
	}
	testenv.Redis(t, 0) // skip (or fail under CI) without a server
	enginetest.Run(t, enginetest.Harness{
		Name:      "redis",
		NewTarget: newRedisDB,
		Seed: func(t *testing.T, cli *enginetest.CLI, u string) {
			// OpenIM's keys (token hashes with a TTL) and the edge keys:
			// big hash, list (with a TTL), set and sorted set of 10000
			// elements that straddle parts, bit-exact scores, streams.
			cli.MustRun(t, "fixtures", "redis", "--target", u, "--users", "100", "--groups", "10", "--messages", "1000", "--big", "10000", "-q")
			if ms, err := client(t, u).Do(context.Background(), "PEXPIRETIME", "big:list").Int64(); err != nil || ms <= 0 {
				t.Fatalf("the fixture's big:list has no TTL (%d, %v): the suite would not check TTLs", ms, err)
			}
		},
		BatchRows: 1000,
		Map: func(source, target string) map[string]string {
			return map[string]string{strconv.Itoa(dbOf(source)): strconv.Itoa(dbOf(target))}
		},
		Dump:            dumpRedis,
		ExpiryTolerance: time.Second, // the exporter turns PTTL into an expiry time
		Exists: func(t *testing.T, u string) bool {
			n, err := client(t, u).DBSize(context.Background()).Result()
			if err != nil {
				t.Fatal(err)
			}
			return n > 0
		},
		Residue: func(t *testing.T, u string) []string {
			keys, err := scanAll(client(t, u), "imbundle*")
			if err != nil {
				t.Fatal(err)
			}
			// The last-applied record outlives the import (SPEC.md §14.3).
			keys = slices.DeleteFunc(keys, func(k string) bool { return k == redistype.AppliedKey })
			return quoteAll(keys)
		},
		AddForeign: func(t *testing.T, source, target string) {
			set(t, target, "enginetest:foreign", "not in the bundle")
		},
		Collide: func(t *testing.T, source, target string) string {
			set(t, target, "small:str:1", "enginetest-collide")
			return "small:str:1"
		},
		Change: func(t *testing.T, target string) string {
			set(t, target, "small:str:1", "enginetest-changed")
			return "small:str:1"
		},
		Refuse: func(t *testing.T, source, target string) (string, []string) {
			// small:hash:1 (no TTL) is a hash in the bundle; a string of
			// that name makes the HSET of --mode append a WRONGTYPE error.
			set(t, target, "small:hash:1", "a string, not a hash")
			return "append", []string{strconv.Quote("small:hash:1")}
		},
		SilentURL: func(addr string) string {
			// No database in the path: the bundle's db 9 goes to db 9.
			return "redis://" + addr + "?timeout=1s"
		},
	})
}

// newRedisDB hands out a free logical database, flushed, and gives it back
// flushed when t ends.
func newRedisDB(t *testing.T) string {
	t.Helper()
	dbMu.Lock()
	if len(dbFree) == 0 {
		dbMu.Unlock()
		t.Fatal("no free Redis database among 9..12: the suite holds too many targets at once")
	}
	db := dbFree[0]
	dbFree = dbFree[1:]
	dbMu.Unlock()
	u := "redis://" + testenv.RedisAddr() + "/" + strconv.Itoa(db)
	flush := func() {
		c := redis.NewClient(&redis.Options{Addr: testenv.RedisAddr(), DB: db})
		defer c.Close()
		if err := c.FlushDB(context.Background()).Err(); err != nil {
			t.Error(err)
		}
	}
	flush()
	t.Cleanup(func() {
		flush()
		dbMu.Lock()
		dbFree = append(dbFree, db)
		sort.Ints(dbFree)
		dbMu.Unlock()
	})
	return u
}

func dbOf(raw string) int {
	u, err := url.Parse(raw)
	if err != nil {
		panic(err)
	}
	n, err := strconv.Atoi(strings.Trim(u.Path, "/"))
	if err != nil {
		panic(err)
	}
	return n
}

func client(t *testing.T, u string) *redis.Client {
	t.Helper()
	return testenv.Redis(t, dbOf(u))
}

func set(t *testing.T, u, key, val string) {
	t.Helper()
	if err := client(t, u).Set(context.Background(), key, val, 0).Err(); err != nil {
		t.Fatal(err)
	}
}

func scanAll(c *redis.Client, match string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	it := c.Scan(context.Background(), 0, match, 1000).Iterator()
	for it.Next(context.Background()) {
		if k := it.Val(); !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out, it.Err()
}

func quoteAll(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = strconv.Quote(k)
	}
	return out
}

// dumpRedis reads every key of the URL's database but imbundle's: its
// type, its whole value (hash fields and set members sorted, scores by
// their bits, stream entries with the last generated ID) and its absolute
// expiry time.
func dumpRedis(t *testing.T, u string) enginetest.State {
	t.Helper()
	ctx := context.Background()
	c := client(t, u)
	keys, err := scanAll(c, "*")
	if err != nil {
		t.Fatal(err)
	}
	st := enginetest.State{}
	for _, k := range keys {
		if strings.HasPrefix(k, "imbundle") {
			continue
		}
		typ, err := c.Type(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		var parts []string
		switch typ {
		case "string":
			v, err := c.Get(ctx, k).Result()
			if err != nil {
				t.Fatal(err)
			}
			parts = []string{strconv.Quote(v)}
		case "hash":
			m, err := c.HGetAll(ctx, k).Result()
			if err != nil {
				t.Fatal(err)
			}
			for f, v := range m {
				parts = append(parts, strconv.Quote(f)+"="+strconv.Quote(v))
			}
			sort.Strings(parts)
		case "list":
			l, err := c.LRange(ctx, k, 0, -1).Result()
			if err != nil {
				t.Fatal(err)
			}
			parts = quoteAll(l)
		case "set":
			m, err := c.SMembers(ctx, k).Result()
			if err != nil {
				t.Fatal(err)
			}
			parts = quoteAll(m)
			sort.Strings(parts)
		case "zset":
			z, err := c.ZRangeWithScores(ctx, k, 0, -1).Result()
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range z {
				parts = append(parts, fmt.Sprintf("%q@%016x", e.Member, math.Float64bits(e.Score)))
			}
		case "stream":
			// Raw XRANGE: entries keep repeated field names in order.
			xs, err := c.Do(ctx, "XRANGE", k, "-", "+").Slice()
			if err != nil {
				t.Fatal(err)
			}
			info, err := c.XInfoStream(ctx, k).Result()
			if err != nil {
				t.Fatal(err)
			}
			parts = append(parts, "last="+info.LastGeneratedID)
			for _, x := range xs {
				parts = append(parts, fmt.Sprintf("%q", fmt.Sprint(x)))
			}
		default:
			t.Fatalf("key %q has type %s, which the dump does not know", k, typ)
		}
		rec := enginetest.Record{Value: typ + ":" + strings.Join(parts, ",")}
		ms, err := c.Do(ctx, "PEXPIRETIME", k).Int64()
		if err != nil {
			t.Fatal(err)
		}
		if ms > 0 {
			rec.ExpireAt = time.UnixMilli(ms)
		}
		st[strconv.Quote(k)] = rec
	}
	return st
}
