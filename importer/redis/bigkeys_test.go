package redis_test

import (
	"context"
	"testing"

	"github.com/imbundle/imbundle/fixtures"
	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/redistype/redistest"
)

// TestBigKeysFixtureRoundTrip carries the big-key keyspace of issue 9
// (keys of 50..800 elements of the four types, in miniature) Redis ->
// bundle -> Redis, with a page smaller than most keys so that some keys are
// read whole and others paged, and record batches and parts small enough
// that keys straddle part boundaries. The fixture is deterministic: the
// same seed written into another database exports to the same digest.
func TestBigKeysFixtureRoundTrip(t *testing.T) {
	ctx := context.Background()
	srcURL, src := redistest.Redis(t, 9)
	_, twin := redistest.Redis(t, 11)
	_, dst := redistest.Redis(t, 10)
	redistest.Redis(t, 12)
	o := fixtures.RedisBigKeysOptions{Seed: 7, Keys: 120}
	n, err := fixtures.LoadRedisBigKeys(ctx, src, o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fixtures.LoadRedisBigKeys(ctx, twin, o); err != nil {
		t.Fatal(err)
	}
	if n.Keys != 120 || n.Elements < 120*50 || n.Elements > 120*800 || n.WithTTL == 0 {
		t.Fatalf("fixture wrote %+v: want 120 keys of 50..800 elements, some with a TTL", n)
	}
	server := srcURL[:len(srcURL)-len("/9")]
	eo := redistest.ExportOptions{Params: map[string]string{"db": "9,11", "page": "300"}, BatchRows: 500, PartBytes: 64 << 10, Jobs: 2}
	b, m := redistest.MustExport(t, server, eo)
	ds := byName(m)
	if ds["redis.db9"].Digest != ds["redis.db11"].Digest {
		t.Fatalf("the same seed gave different keyspaces: %+v and %+v", ds["redis.db9"].Digest, ds["redis.db11"].Digest)
	}
	toDst := map[string]string{"9": "10", "11": "12"}
	redistest.MustImport(t, b, server, importer.Options{Jobs: 2, Map: toDst})
	redistest.RequireMatch(t, b, server, toDst)
	if v := redistest.UserKeys(t, dst); v != int64(n.Keys) {
		t.Fatalf("target holds %d keys, want %d", v, n.Keys)
	}
}
