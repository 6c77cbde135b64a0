package redis_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/imbundle/imbundle/fixtures"
	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/redistype"
	"github.com/imbundle/imbundle/internal/redistype/redistest"
	"github.com/imbundle/imbundle/internal/redistype/resp"
)

func allKeys(t *testing.T, c *resp.Conn) []string {
	t.Helper()
	var keys []string
	cursor := "0"
	for {
		v := redistest.Do(t, c, "SCAN", cursor, "COUNT", "1000")
		cursor = string(v.Elems[0].Str)
		for _, k := range v.Elems[1].Elems {
			if string(k.Str) != redistype.AppliedKey { // the last-applied record stays, by design (SPEC.md §14.3)
				keys = append(keys, string(k.Str))
			}
		}
		if cursor == "0" {
			break
		}
	}
	slices.Sort(keys)
	return keys
}

// TestNothingLeftAfterImport: after a finished import the target holds the
// bundle's keys and nothing of imbundle's (no import marker, no helper
// stream group); a second import of the same bundle in --mode fail finds
// its keys and refuses, naming them and --mode replace.
func TestNothingLeftAfterImport(t *testing.T) {
	u, c := redistest.Redis(t, 9)
	if _, err := fixtures.LoadRedisEdge(context.Background(), c, fixtures.RedisEdgeOptions{Big: 2000}); err != nil {
		t.Fatal(err)
	}
	// An empty stream with last ID 0-0 exists only with a group: the
	// import makes it with a temporary group of its own.
	redistest.Do(t, c, "XGROUP", "CREATE", "grouponly", "g", "$", "MKSTREAM")
	redistest.Do(t, c, "XADD", "withgroups", "1-1", "f", "v")
	redistest.Do(t, c, "XGROUP", "CREATE", "withgroups", "g", "0")
	redistest.Do(t, c, "XREADGROUP", "GROUP", "g", "alice", "STREAMS", "withgroups", ">")
	want := allKeys(t, c)
	path, _ := redistest.MustExport(t, u, redistest.ExportOptions{BatchRows: 300, PartBytes: 16 << 10})

	_, tc := redistest.Redis(t, 10)
	toTen := map[string]string{"9": "10"}
	redistest.MustImport(t, path, server, importer.Options{Map: toTen, Jobs: 3})
	got := allKeys(t, tc)
	if !slices.Equal(got, want) {
		t.Fatalf("target keys differ from the source's: %d vs %d keys", len(got), len(want))
	}
	for _, k := range got {
		if strings.HasPrefix(k, "imbundle:") {
			t.Fatalf("imbundle key %q left on the target", k)
		}
		if redistest.Do(t, tc, "TYPE", k).String() != "stream" {
			continue
		}
		for _, g := range redistest.Do(t, tc, "XINFO", "GROUPS", k).Elems {
			if name := g.Elems[1].String(); strings.HasPrefix(name, "imbundle") {
				t.Fatalf("stream %q keeps imbundle's group %q", k, name)
			}
		}
	}
	redistest.RequireMatch(t, path, server, toTen)

	_, err := redistest.Import(t, path, server, importer.Options{Map: toTen}, nil)
	if err == nil || !strings.Contains(err.Error(), "--mode fail") || !strings.Contains(err.Error(), "--mode replace") || !strings.Contains(err.Error(), "already holds") {
		t.Fatalf("a second import in --mode fail: want a refusal naming keys and --mode replace, got %v", err)
	}
}
