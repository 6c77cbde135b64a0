package redis_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/exporter"
	rexp "github.com/imbundle/imbundle/exporter/redis"
	"github.com/imbundle/imbundle/fixtures"
	"github.com/imbundle/imbundle/internal/redistype"
	"github.com/imbundle/imbundle/internal/redistype/redistest"
	"github.com/imbundle/imbundle/internal/redistype/resp"
	"github.com/imbundle/imbundle/spec"
)

// eachRow calls fn for every row of every keyspace dataset of the bundle
// at path (not the stream-state datasets).
func eachRow(t *testing.T, path string, fn func(ds *spec.Dataset, part int, rows *redistype.Rows, i int)) {
	t.Helper()
	r, err := bundle.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	m := r.Manifest()
	for d := range m.Datasets {
		ds := &m.Datasets[d]
		if ds.Options["layout"] != redistype.LayoutName {
			continue
		}
		for p := range ds.Parts {
			pr, err := r.OpenPart(ds, p)
			if err != nil {
				t.Fatal(err)
			}
			for {
				rec, err := pr.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				rows, err := redistype.NewRows(rec)
				if err != nil {
					t.Fatal(err)
				}
				for i := 0; i < rows.N; i++ {
					fn(ds, p, rows, i)
				}
			}
			pr.Close()
		}
	}
}

// checkLayout asserts the layout's promises: every key's rows are
// contiguous, numbered from 0, closed by one key row whose elements count
// them, and every key appears once. It returns the number of keys and of
// parts that begin in the middle of a key.
func checkLayout(t *testing.T, path string) (keys, straddling int) {
	t.Helper()
	seen := map[string]bool{}
	var cur []byte
	var next int64
	open := false
	eachRow(t, path, func(ds *spec.Dataset, part int, rows *redistype.Rows, i int) {
		if err := rows.Check(i); err != nil {
			t.Fatalf("row check: %v", err)
		}
		k, seq := rows.Key(i), rows.Seq(i)
		if !open {
			if seen[string(k)] {
				t.Fatalf("key %q exported twice", k)
			}
			seen[string(k)] = true
			if seq != 0 {
				t.Fatalf("key %q starts at seq %d", k, seq)
			}
			cur, next, open = bytes.Clone(k), 0, true
		} else if i == 0 && seq != 0 {
			straddling++
		}
		if !bytes.Equal(k, cur) || seq != next {
			t.Fatalf("row of key %q seq %d inside key %q at seq %d: rows not contiguous", k, seq, cur, next)
		}
		next++
		if rows.IsKeyRow(i) {
			if rows.Elements(i) != seq {
				t.Fatalf("key %q: key row says %d elements, %d rows came before", k, rows.Elements(i), seq)
			}
			open = false
			keys++
		}
	})
	if open {
		t.Fatalf("key %q has no key row", cur)
	}
	return keys, straddling
}

func TestBigKeysPagedAndContiguous(t *testing.T) {
	u, c := redistest.Redis(t, 13)
	if _, err := fixtures.LoadRedisEdge(context.Background(), c, fixtures.RedisEdgeOptions{Big: 2500}); err != nil {
		t.Fatal(err)
	}
	whole, m1 := redistest.MustExport(t, u, redistest.ExportOptions{})
	// Pages of 7 elements: every big key is read in hundreds of rounds, in
	// small record batches, by 3 workers at once.
	paged, m2 := redistest.MustExport(t, u, redistest.ExportOptions{
		Params: map[string]string{"page": "7", "batch": "13", "connections": "3"}, BatchRows: 100, PartBytes: 16 << 10})
	if m1.Datasets[0].Digest != m2.Datasets[0].Digest {
		t.Fatalf("paged export digest %+v differs from one-page export %+v", m2.Datasets[0].Digest, m1.Datasets[0].Digest)
	}
	k1, _ := checkLayout(t, whole)
	k2, straddling := checkLayout(t, paged)
	if k1 != k2 || int64(k1) != m1.Datasets[0].Counters["keys"] {
		t.Fatalf("keys: %d and %d, counter %d", k1, k2, m1.Datasets[0].Counters["keys"])
	}
	if straddling == 0 {
		t.Fatalf("no key straddles a part boundary; the test does not test what it says")
	}
	v := redistest.Do(t, c, "DBSIZE")
	if int64(k1) != v.Int {
		t.Fatalf("exported %d keys, DBSIZE says %d", k1, v.Int)
	}
}

func TestTTLCapturedAsAbsoluteExpiry(t *testing.T) {
	u, c := redistest.Redis(t, 13)
	before := time.Now().UnixMilli()
	redistest.Do(t, c, "SET", "ttl", "x", "PX", "3600000")
	redistest.Do(t, c, "HSET", "ttlhash", "f", "v")
	redistest.Do(t, c, "PEXPIRE", "ttlhash", "7200000")
	redistest.Do(t, c, "SET", "forever", "x")
	path, m := redistest.MustExport(t, u, redistest.ExportOptions{})
	after := time.Now().UnixMilli()
	if ex := m.Sources[0].ExportedAt.UnixMilli(); ex < before || ex > after {
		t.Fatalf("ExportedAt %d outside [%d, %d]", ex, before, after)
	}
	want := map[string]int64{"ttl": 3600000, "ttlhash": 7200000}
	eachRow(t, path, func(_ *spec.Dataset, _ int, rows *redistype.Rows, i int) {
		k, exp := string(rows.Key(i)), rows.ExpireAt(i)
		ttl, ok := want[k]
		switch {
		case !ok && exp != redistype.NoExpiry:
			t.Errorf("%s: expire_at_ms %d, want none", k, exp)
		case ok && (exp < before+ttl || exp > after+ttl):
			t.Errorf("%s: expire_at_ms %d outside [%d, %d]", k, exp, before+ttl, after+ttl)
		}
	})
}

func TestKeyPrefixAndMatch(t *testing.T) {
	u, c := redistest.Redis(t, 13)
	for _, k := range []string{"a:1", "a:2", "ab", "b:1", "b:2", "c*", "c*x", "cx"} {
		redistest.Do(t, c, "SET", k, k)
	}
	for _, tc := range []struct {
		params map[string]string
		want   string
	}{
		{map[string]string{"key-prefix": "a:"}, "a:1 a:2"},
		{map[string]string{"match": "b:*"}, "b:1 b:2"},
		{map[string]string{"key-prefix": "c*"}, "c* c*x"}, // a glob character in the prefix is literal
		{map[string]string{"match": "*1", "key-prefix": "b"}, "b:1"},
	} {
		path, _ := redistest.MustExport(t, u, redistest.ExportOptions{Params: tc.params})
		var got []string
		eachRow(t, path, func(_ *spec.Dataset, _ int, rows *redistype.Rows, i int) { got = append(got, string(rows.Key(i))) })
		sortStrings(got)
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%v: got %v, want %s", tc.params, got, tc.want)
		}
	}
}

func sortStrings(s []string) {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
}

func TestDatabasesFromInfoKeyspace(t *testing.T) {
	u, c := redistest.Redis(t, 13)
	redistest.Do(t, c, "SET", "k", "v")
	server := strings.TrimSuffix(u, "/13")
	src, err := exporter.Open(context.Background(), server, exporter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	d, err := src.Describe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, ds := range d.Datasets {
		if ds.Spec.Name == "redis.db13" && ds.Spec.Namespace == "13" && ds.Spec.Kind == spec.KindKeyspace {
			found = true
		}
	}
	if !found || d.Source.Settings["databases_from"] != "INFO keyspace" || d.Source.Settings["server"] != "redis" {
		t.Fatalf("db 13 not described from INFO keyspace: %+v %+v", d.Source, d.Datasets)
	}
	// miniredis has no INFO keyspace: databases are probed.
	mini, m := redistest.Miniredis(t)
	m.Select(3)
	m.Set("x", "y")
	src, _ = exporter.Open(context.Background(), mini, exporter.Options{})
	d, err = src.Describe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Datasets) != 2 || d.Datasets[0].Spec.Namespace != "3" || d.Datasets[1].Spec.Name != "redis.db3.stream-state" {
		t.Fatalf("miniredis databases: %+v", d.Datasets)
	}
}

// TestUnsupportedTypes uses miniredis, whose HyperLogLogs have their own
// TYPE ("hll"), unlike Redis's (strings): a real server answering a type
// the layout does not know, as Kvrocks does with sortedint or bitmap.
func TestUnsupportedTypes(t *testing.T) {
	mini, m := redistest.Miniredis(t)
	m.Set("plain", "v")
	c := redistest.Conn(t, mini)
	redistest.Do(t, c, "PFADD", "visitors", "a", "b")
	redistest.Do(t, c, "PFADD", "visitors2", "c")
	if v := redistest.Do(t, c, "TYPE", "visitors"); string(v.Str) != "hll" {
		t.Skipf("miniredis reports TYPE %q for a HyperLogLog; no unknown type to test with", v.Str)
	}
	_, _, err := redistest.Export(t, mini, redistest.ExportOptions{})
	if err == nil || !strings.Contains(err.Error(), `"visitors" (hll)`) || !strings.Contains(err.Error(), "--skip-unsupported") {
		t.Fatalf("want an error naming the hll keys, got %v", err)
	}
	path, man := redistest.MustExport(t, mini, redistest.ExportOptions{Params: map[string]string{"skip-unsupported": "true"}})
	ds := man.Datasets[0]
	if ds.Skipped != 2 || ds.Counters["skipped_type:hll"] != 2 || ds.Counters["keys"] != 1 {
		t.Fatalf("skipped %d, counters %v", ds.Skipped, ds.Counters)
	}
	keys, _ := checkLayout(t, path)
	if keys != 1 {
		t.Fatalf("bundle holds %d keys, want 1", keys)
	}
}

// TestVanishedAndRetypedKeys deletes keys between SCAN and TYPE, and
// changes keys' types between TYPE and the read, with hooks.
func TestVanishedAndRetypedKeys(t *testing.T) {
	u, c := redistest.Redis(t, 13)
	for i := 0; i < 300; i++ {
		redistest.Do(t, c, "SET", "k"+strconv.Itoa(i), "v")
	}
	side := redistest.Conn(t, u)
	var mu sync.Mutex // the hooks run in several workers
	deleted, retyped := 0, 0
	path, m := redistest.MustExport(t, u, redistest.ExportOptions{
		Params: map[string]string{"batch": "50"},
		Setup: func(s exporter.Source) {
			rexp.SetScanHook(s, func(db int, keys [][]byte) [][]byte {
				mu.Lock()
				defer mu.Unlock()
				for _, k := range keys {
					if n, _ := strconv.Atoi(string(k[1:])); n%10 == 0 {
						redistest.Do(t, side, "DEL", string(k))
						deleted++
					}
				}
				return keys
			})
			rexp.SetProbeHook(s, func(db int, keys [][]byte) {
				mu.Lock()
				defer mu.Unlock()
				for _, k := range keys {
					if n, _ := strconv.Atoi(string(k[1:])); n%10 == 1 && redistest.Do(t, side, "TYPE", string(k)).String() == "string" {
						redistest.Do(t, side, "DEL", string(k))
						redistest.Do(t, side, "RPUSH", string(k), "now", "a", "list")
						retyped++
					}
				}
			})
		},
	})
	ds := m.Datasets[0]
	if deleted != 30 || retyped != 30 {
		t.Fatalf("hooks deleted %d and retyped %d keys, want 30 each", deleted, retyped)
	}
	if ds.Counters["vanished"] != 30 || ds.Counters["retyped"] != 30 || ds.Counters["keys"] != 270 {
		t.Fatalf("counters %v", ds.Counters)
	}
	lists := 0
	eachRow(t, path, func(_ *spec.Dataset, _ int, rows *redistype.Rows, i int) {
		if rows.IsKeyRow(i) && rows.Type(i) == redistype.List {
			lists++
		}
	})
	if lists != 30 {
		t.Fatalf("%d retyped keys exported as lists, want 30", lists)
	}
	redistest.RequireMatch(t, path, strings.TrimSuffix(u, "/13"), nil)
}

// TestScanDuplicatesDeduped repeats every SCAN page and replays earlier
// pages, as a Pika cursor that fell out of its cache restarts a scan.
func TestScanDuplicatesDeduped(t *testing.T) {
	u, c := redistest.Redis(t, 13)
	for i := 0; i < 500; i++ {
		redistest.Do(t, c, "HSET", "h"+strconv.Itoa(i), "f", strconv.Itoa(i))
	}
	clean, m1 := redistest.MustExport(t, u, redistest.ExportOptions{})
	var earlier [][]byte
	dups := 0
	_, m2 := redistest.MustExport(t, u, redistest.ExportOptions{
		Params: map[string]string{"scan-count": "20"},
		Setup: func(s exporter.Source) {
			rexp.SetScanHook(s, func(db int, keys [][]byte) [][]byte {
				out := append(append([][]byte{}, keys...), keys...)
				out = append(out, earlier...)
				dups += len(keys) + len(earlier)
				earlier = append(earlier, keys...)
				if len(earlier) > 100 {
					earlier = earlier[len(earlier)-100:]
				}
				return out
			})
		},
	})
	if m1.Datasets[0].Digest != m2.Datasets[0].Digest {
		t.Fatalf("with duplicated SCAN pages: digest %+v, without %+v", m2.Datasets[0].Digest, m1.Datasets[0].Digest)
	}
	if got := m2.Datasets[0].Counters["scan_duplicates"]; got != int64(dups) || dups == 0 {
		t.Fatalf("scan_duplicates %d, hook added %d", got, dups)
	}
	checkLayout(t, clean)
}

func TestKeySetDedupe(t *testing.T) {
	var s redistype.KeySet
	for i := 0; i < 100000; i++ {
		if !s.Add([]byte(fmt.Sprint("key", i))) {
			t.Fatalf("key %d reported as seen", i)
		}
	}
	for i := 0; i < 100000; i += 7 {
		if s.Add([]byte(fmt.Sprint("key", i))) || !s.Has([]byte(fmt.Sprint("key", i))) {
			t.Fatalf("key %d not remembered", i)
		}
	}
	if s.Len() != 100000 || s.Has([]byte("key100000")) || s.Has(nil) {
		t.Fatalf("len %d", s.Len())
	}
	if !s.Add(nil) || s.Add([]byte{}) {
		t.Fatal("the empty key is a key like any other")
	}
}

var _ = resp.KindNil

// TestVerifyReadsTheURLDatabase: verify --against redis://host/N of a
// bundle of one other database reads database N, where an import to that
// URL writes it (never the bundle's own database number), and says so.
func TestVerifyReadsTheURLDatabase(t *testing.T) {
	u, c := redistest.Redis(t, 13)
	redistest.Do(t, c, "SET", "k", "v")
	path, _ := redistest.MustExport(t, u, redistest.ExportOptions{})
	other, oc := redistest.Redis(t, 12)
	res := redistest.Verify(t, path, other, nil, nil)
	if res[0].Match || res[0].Err != nil || res[0].Target != other {
		t.Fatalf("an empty db 12 against a bundle of db 13: want a mismatch reported on %s, got %+v", other, res[0])
	}
	redistest.Do(t, oc, "SET", "k", "v")
	redistest.RequireMatch(t, path, other, nil)
	redistest.RequireMatch(t, path, u, nil)
}

// TestEmptyKeyspaceVerifies exports servers that hold no key (Redis: INFO
// keyspace lists nothing; miniredis: every DBSIZE is 0): the bundle holds
// database 0 empty, and verify --against an empty target matches.
func TestEmptyKeyspaceVerifies(t *testing.T) {
	mini, _ := redistest.Miniredis(t)
	for _, src := range []string{redistest.StartRedis(t), mini} {
		path, m := redistest.MustExport(t, src, redistest.ExportOptions{})
		if len(m.Datasets) != 2 || m.Datasets[0].Name != "redis.db0" || m.Datasets[1].Name != "redis.db0.stream-state" || m.Datasets[0].Rows+m.Datasets[1].Rows != 0 {
			t.Fatalf("%s: datasets %+v, want redis.db0 and its stream state, empty", src, m.Datasets)
		}
		redistest.RequireMatch(t, path, src, nil)
	}
}
