package redis_test

import (
	"fmt"
	"testing"

	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/redistype/redistest"
)

// TestBigHashBuiltAsHashTable: a hash whose first HSET holds more fields
// than a listpack may is preceded by the hint (HSET of its first field with
// a value too long for a listpack), and comes out a hash table holding
// exactly the bundle's fields; a hash small enough for a listpack gets no
// hint and stays one, as the server builds it; in replace mode too (keys
// deleted first), and when a key starts in one part and ends in the next.
func TestBigHashBuiltAsHashTable(t *testing.T) {
	u := redistest.StartRedis(t)
	src := redistest.Conn(t, u+"/1")
	// 128 upstream, 512 in Debian's build: the test makes its own.
	redistest.Do(t, src, "CONFIG", "SET", "hash-max-listpack-entries", "128")
	for _, n := range []int{100, 129, 700} {
		for i := 0; i < n; i++ {
			redistest.Do(t, src, "HSET", fmt.Sprintf("h%d", n), fmt.Sprintf("f%d\x00", i), fmt.Sprintf("v%d", i))
		}
	}
	path, _ := redistest.MustExport(t, u+"/1", redistest.ExportOptions{})
	small, _ := redistest.MustExport(t, u+"/1", redistest.ExportOptions{BatchRows: 50, PartBytes: 4 << 10})
	dst := redistest.Conn(t, u+"/2")
	toDst := map[string]string{"1": "2"}
	for _, c := range []struct {
		name string
		path string
		mode importer.Mode
	}{{"fail", path, importer.ModeFail}, {"replace", path, importer.ModeReplace}, {"parts", small, importer.ModeReplace}} {
		redistest.Do(t, dst, "CONFIG", "RESETSTAT")
		redistest.MustImport(t, c.path, u, importer.Options{Map: toDst, Mode: c.mode})
		redistest.RequireMatch(t, c.path, u, toDst)
		for n, want := range map[int]string{100: "listpack", 129: "hashtable", 700: "hashtable"} {
			if enc := string(redistest.Do(t, dst, "OBJECT", "ENCODING", fmt.Sprintf("h%d", n)).Str); enc != want {
				t.Errorf("%s: hash of %d fields is a %s on the target, want %s", c.name, n, enc, want)
			}
		}
		calls := redistest.CommandCalls(t, u)
		// Default 512 fields a command: h100 1, h129 1+1 hint, h700 2+1,
		// the import marker's and the last-applied record's.
		if c.name != "parts" && calls["HSET"] != 8 {
			t.Errorf("%s: %d HSET calls, want 4, 2 hints, the marker and the record: %v", c.name, calls["HSET"], calls)
		}
	}
	// Listpacks of up to 512 fields, as many as an HSET holds: the first
	// HSET of a key holds 513, one more than a listpack, and is hinted.
	redistest.Do(t, src, "CONFIG", "SET", "hash-max-listpack-entries", "512")
	redistest.Do(t, dst, "FLUSHDB")
	redistest.Do(t, src, "CONFIG", "RESETSTAT")
	redistest.MustImport(t, path, u, importer.Options{Map: toDst})
	redistest.RequireMatch(t, path, u, toDst)
	for n, want := range map[int]string{100: "listpack", 129: "listpack", 700: "hashtable"} {
		if enc := string(redistest.Do(t, dst, "OBJECT", "ENCODING", fmt.Sprintf("h%d", n)).Str); enc != want {
			t.Errorf("listpacks of 512: hash of %d fields is a %s on the target, want %s", n, enc, want)
		}
	}
	// h100 1, h129 1, h700 2 (513 + 187) + 1 hint, the marker, the
	// last-applied record.
	if calls := redistest.CommandCalls(t, u); calls["HSET"] != 7 {
		t.Errorf("listpacks of 512: %d HSET calls, want 4, 1 hint, the marker and the record: %v", calls["HSET"], calls)
	}
}
