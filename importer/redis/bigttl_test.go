package redis_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imbundle/imbundle/importer"
	rimp "github.com/imbundle/imbundle/importer/redis"
	"github.com/imbundle/imbundle/internal/redistype/redistest"
)

// TestBigKeyTTLAcrossKilledImport: an import killed inside a big key with
// a TTL leaves the cut-off key with its TTL (so it still expires), and a
// re-run after the TTL has passed ends with the key absent and counted as
// expired, never a cut-off key without TTL.
func TestBigKeyTTLAcrossKilledImport(t *testing.T) {
	u, c := redistest.Redis(t, 9)
	pad := strings.Repeat("x", 100)
	for i := 0; i < 6000; i += 500 {
		args := []string{"RPUSH", "big"}
		for j := i; j < i+500; j++ {
			args = append(args, strconv.Itoa(j)+pad)
		}
		redistest.Do(t, c, args...)
	}
	redistest.Do(t, c, "PEXPIRE", "big", "3600000")
	redistest.Do(t, c, "SET", "small", "v")
	path, m := redistest.MustExport(t, u, redistest.ExportOptions{BatchRows: 500, PartBytes: 16 << 10})
	if n := len(m.Datasets[0].Parts); n < 4 {
		t.Fatalf("want the big key over several parts, got %d", n)
	}
	_, tc := redistest.Redis(t, 10)
	toTen := map[string]string{"9": "10"}
	for _, mode := range []importer.Mode{importer.ModeFail, importer.ModeReplace} {
		redistest.Do(t, tc, "FLUSHDB")
		_, err := redistest.Import(t, path, server, importer.Options{Mode: mode, Jobs: 1, Map: toTen}, func(tg importer.Target) { rimp.FailAfterParts(tg, 1) })
		if err == nil || !strings.Contains(err.Error(), "simulated interruption") {
			t.Fatalf("%s: want the simulated interruption, got %v", mode, err)
		}
		n := redistest.Do(t, tc, "LLEN", "big").Int
		if n == 0 || n >= 6000 {
			t.Fatalf("%s: the killed import left %d elements of 6000; the test needs a cut-off key", mode, n)
		}
		if ttl := redistest.Do(t, tc, "PTTL", "big").Int; ttl <= 0 {
			t.Fatalf("%s: the cut-off key has PTTL %d: it would never expire", mode, ttl)
		}
		// As an imbundle before this fix left it: cut off, no TTL. The
		// re-run must still remove it.
		redistest.Do(t, tc, "PERSIST", "big")
		// The re-run comes after the key's TTL has run out.
		later := func() time.Time { return time.Now().Add(2 * time.Hour) }
		rep, err := redistest.Import(t, path, server, importer.Options{Mode: mode, Jobs: 1, Map: toTen}, func(tg importer.Target) { rimp.SetClock(tg, later) })
		if err != nil {
			t.Fatalf("%s: re-run: %v", mode, err)
		}
		if rep.Datasets[0].Expired != 1 {
			t.Fatalf("%s: re-run counted %d expired keys, want 1", mode, rep.Datasets[0].Expired)
		}
		if redistest.Do(t, tc, "EXISTS", "big").Int != 0 {
			t.Fatalf("%s: the expired key is still there, %d elements", mode, redistest.Do(t, tc, "LLEN", "big").Int)
		}
		if v := redistest.Do(t, tc, "GET", "small"); string(v.Str) != "v" {
			t.Fatalf("%s: small = %q", mode, v.Str)
		}
	}
}
