package redis_test

import (
	"context"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/imbundle/imbundle/fixtures"
	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/redistype/redistest"
	"github.com/imbundle/imbundle/internal/testenv"
	"github.com/imbundle/imbundle/spec"
)

var testWorld = fixtures.Scale{Users: 200, Groups: 20, Messages: 3000}

// TestRoundTripRedisMiniredisRedis is the "done when": a keyspace of
// edge cases and the OpenIM fixture go Redis -> bundle -> miniredis ->
// bundle -> Redis, with verify green at every step. Small record batches
// and parts make the big keys straddle part boundaries.
func TestRoundTripRedisMiniredisRedis(t *testing.T) {
	ctx := context.Background()
	edgeURL, edge := redistest.Redis(t, 9)
	_, openim := redistest.Redis(t, 10)
	if _, err := fixtures.LoadRedisEdge(ctx, edge, fixtures.RedisEdgeOptions{Big: 3000}); err != nil {
		t.Fatal(err)
	}
	counts, err := fixtures.LoadOpenIMRedis(ctx, openim, fixtures.MustNew(1, testWorld), 0)
	if err != nil {
		t.Fatal(err)
	}
	server := "redis://" + testenv.RedisAddr()
	_ = edgeURL
	small := redistest.ExportOptions{Params: map[string]string{"db": "9,10"}, BatchRows: 400, PartBytes: 32 << 10, Jobs: 2}

	b1, m1 := redistest.MustExport(t, server, small)
	if len(m1.Datasets) != 4 { // two keyspaces and their stream state
		t.Fatalf("want 4 datasets, got %d", len(m1.Datasets))
	}
	ds1 := byName(m1)
	if got := ds1["redis.db10"].Counters["keys"]; got != int64(counts.Total()) {
		t.Fatalf("OpenIM keys exported: %d, fixture wrote %d", got, counts.Total())
	}
	if n := len(ds1["redis.db9"].Parts); n < 3 {
		t.Fatalf("want the edge keyspace in several parts, got %d", n)
	}
	redistest.RequireMatch(t, b1, server, nil)

	mini, _ := redistest.Miniredis(t)
	toMini := map[string]string{"9": "0", "10": "1"}
	// miniredis TTLs do not tick: what it reports drifts later by the time
	// since the import, which bounds the tolerance its checks need.
	inMini := time.Now()
	drift := func() time.Duration { return time.Since(inMini) + 2*time.Second }
	// miniredis keeps no stream state beyond entries and the last ID
	// (no entries-added, no XSETID options): that hop carries keyspaces.
	keyspaces := []string{"redis.db9", "redis.db10"}
	redistest.MustImport(t, b1, mini, importer.Options{Jobs: 3, Map: toMini, Datasets: keyspaces})
	redistest.RequireMatchOf(t, b1, mini, toMini, drift(), keyspaces)

	small.Params = map[string]string{"db": "0,1"}
	b2, m2 := redistest.MustExport(t, mini, small)
	redistest.RequireMatchOf(t, b2, mini, nil, drift(), []string{"redis.db0", "redis.db1"})
	exported := drift()
	ds2 := byName(m2)
	for from, to := range map[string]string{"redis.db9": "redis.db0", "redis.db10": "redis.db1"} {
		if ds1[from].Digest != ds2[to].Digest {
			t.Fatalf("%s through miniredis (%s): digest %+v, was %+v", from, to, ds2[to].Digest, ds1[from].Digest)
		}
	}

	_, back := redistest.Redis(t, 11)
	redistest.Redis(t, 12)
	toRedis := map[string]string{"0": "11", "1": "12"}
	redistest.MustImport(t, b2, server, importer.Options{Jobs: 2, Map: toRedis})
	redistest.RequireMatchOf(t, b2, server, toRedis, 0, []string{"redis.db0", "redis.db1"})
	redistest.RequireMatchOf(t, b1, server, map[string]string{"9": "11", "10": "12"}, exported, keyspaces)

	// Scores are bit-exact at the far end, -0 included.
	for i, want := range fixtures.RedisEdgeScores {
		v := redistest.Do(t, back, "ZSCORE", "scores", "score"+strconv.Itoa(i))
		got, err := strconv.ParseFloat(string(v.Str), 64)
		if err != nil || math.Float64bits(got) != math.Float64bits(want) {
			t.Errorf("score %d: got %q, want %v", i, v.Str, want)
		}
	}
	if v := redistest.Do(t, back, "ZSCORE", "scores", "negzero"); string(v.Str) != "-0" {
		t.Errorf("-0 score came back as %q", v.Str)
	}
	// A binary key and its value.
	if v := redistest.Do(t, back, "GET", "bin:\x00"); string(v.Str) != "\x00\x00\xff\xff" {
		t.Errorf(`GET "bin:\x00" = %q`, v.Str)
	}
}

func byName(m *spec.Manifest) map[string]*spec.Dataset {
	out := map[string]*spec.Dataset{}
	for i := range m.Datasets {
		out[m.Datasets[i].Name] = &m.Datasets[i]
	}
	return out
}
