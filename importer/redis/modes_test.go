package redis_test

import (
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/importer"
	rimp "github.com/imbundle/imbundle/importer/redis"
	"github.com/imbundle/imbundle/internal/redistype/redistest"
	"github.com/imbundle/imbundle/internal/redistype/resp"
	"github.com/imbundle/imbundle/internal/testenv"
)

var server = "redis://" + testenv.RedisAddr()

// source fills db 9 with a few keys of each type and returns a bundle of it.
func source(t *testing.T) string {
	t.Helper()
	u, c := redistest.Redis(t, 9)
	redistest.Do(t, c, "SET", "s", "v")
	redistest.Do(t, c, "HSET", "h", "a", "1", "b", "2")
	redistest.Do(t, c, "RPUSH", "l", "x", "y")
	redistest.Do(t, c, "SADD", "set", "m")
	redistest.Do(t, c, "ZADD", "z", "1.5", "m")
	redistest.Do(t, c, "XADD", "x", "1-1", "f", "v")
	redistest.Do(t, c, "SET", "ttl", "v", "PX", "3600000")
	path, _ := redistest.MustExport(t, u, redistest.ExportOptions{})
	return path
}

func lrange(t *testing.T, c *resp.Conn, key string) string {
	v := redistest.Do(t, c, "LRANGE", key, "0", "-1")
	var s []string
	for _, e := range v.Elems {
		s = append(s, string(e.Str))
	}
	return strings.Join(s, ",")
}

func TestModeFailRefusesExistingKeys(t *testing.T) {
	path := source(t)
	_, c := redistest.Redis(t, 10)
	redistest.Do(t, c, "SET", "h", "already here")
	_, err := redistest.Import(t, path, server, importer.Options{Map: map[string]string{"9": "10"}}, nil)
	if err == nil || !strings.Contains(err.Error(), `"h"`) || !strings.Contains(err.Error(), "--mode fail") {
		t.Fatalf("want a refusal naming key h, got %v", err)
	}
	if n := redistest.Do(t, c, "DBSIZE").Int; n != 1 {
		t.Fatalf("the refused import wrote: DBSIZE %d", n)
	}
}

func TestModeReplaceAndAppend(t *testing.T) {
	path := source(t)
	_, c := redistest.Redis(t, 10)
	toTen := map[string]string{"9": "10"}
	redistest.Do(t, c, "HSET", "h", "extra", "field")
	redistest.Do(t, c, "RPUSH", "l", "old")
	redistest.Do(t, c, "SET", "unrelated", "kept")

	redistest.MustImport(t, path, server, importer.Options{Mode: importer.ModeAppend, Map: toTen})
	if got := lrange(t, c, "l"); got != "old,x,y" {
		t.Fatalf("append: list %s, want old,x,y", got)
	}
	if v := redistest.Do(t, c, "HGET", "h", "extra"); string(v.Str) != "field" {
		t.Fatalf("append: merged hash lost its field")
	}
	// z is now a string on the target: its row is rejected, not dropped.
	redistest.Do(t, c, "DEL", "z")
	redistest.Do(t, c, "SET", "z", "a string where the bundle has a zset")
	rej := t.TempDir() + "/rejects.jsonl"
	rejects := importer.NewRejects(rej)
	rep, err := redistest.Import(t, path, server, importer.Options{Mode: importer.ModeAppend, Map: toTen, Rejects: rejects}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rejects.Close()
	if rep.Datasets[0].Rejected == 0 {
		t.Fatalf("ZADD into a string key: nothing rejected")
	}
	if b, _ := os.ReadFile(rej); !strings.Contains(string(b), "WRONGTYPE") {
		t.Fatalf("reject file lacks the reason: %s", b)
	}

	redistest.MustImport(t, path, server, importer.Options{Mode: importer.ModeReplace, Map: toTen})
	if v := redistest.Do(t, c, "GET", "unrelated"); string(v.Str) != "kept" {
		t.Fatalf("replace touched a key the bundle does not hold")
	}
	redistest.Do(t, c, "DEL", "unrelated")
	// Every bundle key is now exactly as in the bundle: the merged hash
	// field, the older list element and the string z are gone.
	redistest.RequireMatch(t, path, server, toTen)
}

// TestInterruptedImportResumes stops an import after its first part, then
// runs it again in --mode fail (accepted: the marker says it is the same
// bundle) and in append mode: no list grows twice.
func TestInterruptedImportResumes(t *testing.T) {
	u, c := redistest.Redis(t, 9)
	for i := 0; i < 40; i++ {
		args := []string{"RPUSH", "list" + strconv.Itoa(i)}
		for j := 0; j < 300; j++ {
			args = append(args, strconv.Itoa(j))
		}
		redistest.Do(t, c, args...)
	}
	path, m := redistest.MustExport(t, u, redistest.ExportOptions{BatchRows: 500, PartBytes: 16 << 10})
	if len(m.Datasets[0].Parts) < 4 {
		t.Fatalf("want several parts, got %d", len(m.Datasets[0].Parts))
	}
	_, tc := redistest.Redis(t, 10)
	toTen := map[string]string{"9": "10"}
	for _, mode := range []importer.Mode{importer.ModeFail, importer.ModeAppend} {
		redistest.Do(t, tc, "FLUSHDB")
		if mode == importer.ModeAppend {
			redistest.Do(t, tc, "RPUSH", "list7", "pre", "existing")
		}
		_, err := redistest.Import(t, path, server, importer.Options{Mode: mode, Jobs: 2, Map: toTen}, func(tg importer.Target) { rimp.FailAfterParts(tg, 2) })
		if err == nil || !strings.Contains(err.Error(), "simulated interruption") {
			t.Fatalf("%s: want the simulated interruption, got %v", mode, err)
		}
		if redistest.Do(t, tc, "DBSIZE").Int < 2 {
			t.Fatalf("%s: the interrupted import wrote nothing", mode)
		}
		redistest.MustImport(t, path, server, importer.Options{Mode: mode, Jobs: 3, Map: toTen})
		if mode == importer.ModeFail {
			redistest.RequireMatch(t, path, server, toTen)
		} else {
			want := "pre,existing"
			for j := 0; j < 300; j++ {
				want += "," + strconv.Itoa(j)
			}
			if got := lrange(t, tc, "list7"); got != want {
				t.Fatalf("append after an interruption: list7 = %.80s...", got)
			}
			if n := redistest.Do(t, tc, "LLEN", "list8").Int; n != 300 {
				t.Fatalf("append after an interruption: list8 has %d elements", n)
			}
		}
		if n := redistest.Do(t, tc, "EXISTS", "imbundle:import:"+bundleID(t, path)[:16]).Int; n != 0 {
			t.Fatalf("%s: import marker left after a finished import", mode)
		}
	}
}

func bundleID(t *testing.T, path string) string {
	r, err := bundle.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	return r.ID()
}

func TestExpiredKeysSkippedAndCounted(t *testing.T) {
	path := source(t)
	_, c := redistest.Redis(t, 10)
	later := func() time.Time { return time.Now().Add(2 * time.Hour) }
	rep, err := redistest.Import(t, path, server, importer.Options{Map: map[string]string{"9": "10"}}, func(tg importer.Target) { rimp.SetClock(tg, later) })
	if err != nil {
		t.Fatal(err)
	}
	if d := rep.Datasets[0]; d.Expired != 1 || d.Written != d.Rows-1 {
		t.Fatalf("expired %d written %d of %d rows", d.Expired, d.Written, d.Rows)
	}
	if redistest.Do(t, c, "EXISTS", "ttl").Int != 0 || redistest.Do(t, c, "EXISTS", "s").Int != 1 {
		t.Fatal("the expired key was written, or another was not")
	}
}

func TestTTLAbsoluteAndRelative(t *testing.T) {
	path := source(t)
	r, _ := bundle.Open(path)
	m := r.Manifest()
	exportedAt := m.Sources[0].ExportedAt.UnixMilli()
	var exp int64
	pr, _ := r.OpenPart(&m.Datasets[0], 0)
	for {
		rec, err := pr.Next()
		if err == io.EOF {
			break
		}
		rows, _ := newRows(rec)
		for i := 0; i < rows.N; i++ {
			if string(rows.Key(i)) == "ttl" {
				exp = rows.ExpireAt(i)
			}
		}
	}
	pr.Close()
	r.Close()

	_, c := redistest.Redis(t, 10)
	toTen := map[string]string{"9": "10"}
	redistest.MustImport(t, path, server, importer.Options{Map: toTen})
	if got := redistest.Do(t, c, "PEXPIRETIME", "ttl").Int; got != exp {
		t.Fatalf("absolute: PEXPIRETIME %d, bundle %d", got, exp)
	}
	before := time.Now().UnixMilli()
	redistest.MustImport(t, path, server, importer.Options{Mode: importer.ModeReplace, Map: toTen, Params: map[string]string{"ttl": "relative"}})
	after := time.Now().UnixMilli()
	left := exp - exportedAt
	if got := redistest.Do(t, c, "PEXPIRETIME", "ttl").Int; got < before+left || got > after+left {
		t.Fatalf("relative: PEXPIRETIME %d outside [%d, %d]", got, before+left, after+left)
	}
}

func TestKeyPrefixOnImport(t *testing.T) {
	path := source(t)
	_, c := redistest.Redis(t, 10)
	rep := redistest.MustImport(t, path, server, importer.Options{Map: map[string]string{"9": "10"}, Params: map[string]string{"key-prefix": "s"}})
	if n := redistest.UserKeys(t, c); n != 2 || redistest.Do(t, c, "EXISTS", "s", "set").Int != 2 {
		t.Fatalf("key-prefix s: DBSIZE %d", n)
	}
	if rep.Datasets[0].Written != 1+2 { // s; set's member and key row
		t.Fatalf("written %d", rep.Datasets[0].Written)
	}
}

// TestVerifyNamesDifferences changes the target after an import: verify
// must fail and name the keys, and a changed TTL is caught by the side
// check although the digests match.
func TestVerifyNamesDifferences(t *testing.T) {
	path := source(t)
	_, c := redistest.Redis(t, 10)
	toTen := map[string]string{"9": "10"}
	redistest.MustImport(t, path, server, importer.Options{Map: toTen})
	redistest.RequireMatch(t, path, server, toTen)

	redistest.Do(t, c, "PEXPIRE", "ttl", "60000")
	res := redistest.Verify(t, path, server, toTen, nil)
	if res[0].Match || len(res[0].Differences) != 1 || res[0].Differences[0].BundleKey[0] != `"ttl"` {
		t.Fatalf("TTL change: %+v", res[0])
	}
	if res = redistest.Verify(t, path, server, toTen, map[string]string{"ttl-tolerance": "2h"}); !res[0].Match {
		t.Fatalf("TTL change within a 2h tolerance: %+v", res[0])
	}

	redistest.Do(t, c, "HSET", "h", "b", "changed")
	redistest.Do(t, c, "DEL", "l")
	redistest.Do(t, c, "SET", "extra", "1")
	res = redistest.Verify(t, path, server, toTen, nil)
	got := map[string]string{}
	for _, d := range res[0].Differences {
		switch {
		case d.BundleKey != nil && d.TargetKey != nil:
			got[d.BundleKey[0]] = "differs"
		case d.BundleKey != nil:
			got[d.BundleKey[0]] = "missing on target"
		default:
			got[d.TargetKey[0]] = "not in bundle"
		}
	}
	want := map[string]string{`"h"`: "differs", `"l"`: "missing on target", `"extra"`: "not in bundle"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
	if res[0].Match {
		t.Fatal("verify matched a changed target")
	}
}

// TestTTLsSurviveBatchBoundaries imports with two commands per batch over
// four connections, so a key's write and its PEXPIREAT land in different
// batches: they must still run in order, on one connection.
func TestTTLsSurviveBatchBoundaries(t *testing.T) {
	u, c := redistest.Redis(t, 9)
	for i := 0; i < 100; i++ {
		is := strconv.Itoa(i)
		redistest.Do(t, c, "SET", "s"+is, is, "PX", "3600000")
		redistest.Do(t, c, "RPUSH", "l"+is, "a", is)
		redistest.Do(t, c, "PEXPIRE", "l"+is, "7200000")
	}
	path, _ := redistest.MustExport(t, u, redistest.ExportOptions{})
	redistest.Redis(t, 10)
	toTen := map[string]string{"9": "10"}
	redistest.MustImport(t, path, server, importer.Options{Map: toTen, Params: map[string]string{"batch": "2", "connections": "4"}})
	redistest.RequireMatch(t, path, server, toTen)
}
