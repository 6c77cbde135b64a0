package redis_test

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/imbundle/imbundle/internal/redistype/redistest"
)

// fillKeys writes keys hashes, sets and sorted sets of n elements each
// (binary members, the scores' edge cases), named by type, n and number.
func fillKeys(t *testing.T, u string, keys, n int) {
	t.Helper()
	c := redistest.Conn(t, u)
	scores := []string{"-0", "inf", "0.1", "-3", "1e300", "-inf", "7"}
	for k := 0; k < keys; k++ {
		for i := 0; i < n; i++ {
			m := fmt.Sprintf("m%d\x00\xff", i)
			redistest.Do(t, c, "HSET", fmt.Sprintf("h%d:%d", n, k), m, "v"+m)
			redistest.Do(t, c, "SADD", fmt.Sprintf("s%d:%d", n, k), m)
			redistest.Do(t, c, "ZADD", fmt.Sprintf("z%d:%d", n, k), scores[i%len(scores)], m)
		}
	}
}

// TestWholeReadUpToAPage: while the keys of a type average 32 elements or
// more, their lengths are asked, those of at most a page are read whole
// (HGETALL, SMEMBERS, ZREVRANGE) and a key one element longer is paged
// with H/S/ZSCAN: counted by the server itself. Both ways give the same
// bundle as an export that pages every key.
func TestWholeReadUpToAPage(t *testing.T) {
	u := redistest.StartRedis(t)
	const page, keys = 40, 10
	fillKeys(t, u, keys, page)
	fillKeys(t, u, keys, page+1)
	redistest.Do(t, redistest.Conn(t, u), "CONFIG", "RESETSTAT")
	// Batches of 3 keys on 2 connections: many rounds, each carrying the
	// reads, lengths and TYPE+PTTL of three batches.
	params := map[string]string{"page": strconv.Itoa(page), "batch": "3", "connections": "2"}
	_, m1 := redistest.MustExport(t, u, redistest.ExportOptions{Params: params})
	calls := redistest.CommandCalls(t, u)
	for _, c := range [][3]string{{"HLEN", "HGETALL", "HSCAN"}, {"SCARD", "SMEMBERS", "SSCAN"}, {"ZCARD", "ZREVRANGE", "ZSCAN"}} {
		length, whole, scan := calls[c[0]], calls[c[1]], calls[c[2]]
		if length != 2*keys || whole != keys || scan < keys {
			t.Errorf("%s %d, %s %d, %s %d calls: want %s for all %d keys, %s for the %d of %d elements, %s for the %d of %d: %v",
				c[0], length, c[1], whole, c[2], scan, c[0], 2*keys, c[1], keys, page, c[2], keys, page+1, calls)
		}
	}
	params["page"] = "1"
	_, m2 := redistest.MustExport(t, u, redistest.ExportOptions{Params: params})
	if m1.Datasets[0].Digest != m2.Datasets[0].Digest || m1.Datasets[0].Rows != m2.Datasets[0].Rows {
		t.Fatalf("whole reads: %d rows, digest %+v; paged: %d rows, %+v", m1.Datasets[0].Rows, m1.Datasets[0].Digest, m2.Datasets[0].Rows, m2.Datasets[0].Digest)
	}
}

// TestSmallKeysNoLengthProbe: once a worker has read keys of a type
// averaging fewer than 32 elements, it reads that type's keys with
// H/S/ZSCAN alone, without a length probe (one more command a key, which
// they do not earn back). Its first two batches are probed (their lengths
// are asked before any key is read), and so may be a third's keys of a type
// the first batch lacked.
func TestSmallKeysNoLengthProbe(t *testing.T) {
	u := redistest.StartRedis(t)
	const keys, batch = 100, 30
	fillKeys(t, u, keys, 5)
	redistest.Do(t, redistest.Conn(t, u), "CONFIG", "RESETSTAT")
	redistest.MustExport(t, u, redistest.ExportOptions{Params: map[string]string{"batch": strconv.Itoa(batch), "connections": "1"}})
	calls := redistest.CommandCalls(t, u)
	probes := calls["HLEN"] + calls["SCARD"] + calls["ZCARD"]
	if probes < 2*batch || probes > 3*batch || calls["HGETALL"]+calls["SMEMBERS"]+calls["ZREVRANGE"] != probes {
		t.Errorf("%d length probes: want those of the first two batches (%d keys) and at most a third's, each followed by a whole read: %v", probes, 2*batch, calls)
	}
	if scans := calls["HSCAN"] + calls["SSCAN"] + calls["ZSCAN"]; scans < 3*keys-probes {
		t.Errorf("%d H/S/ZSCAN calls: want one at least for each of the %d keys not probed: %v", scans, 3*keys-probes, calls)
	}
}
