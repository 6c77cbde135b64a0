package redis_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/redistype/redistest"
	"github.com/imbundle/imbundle/internal/redistype/resp"
)

// streamState renders what XINFO STREAM FULL says of a stream that must
// travel: its IDs and counters, every group with its last-delivered ID,
// entries-read, lag and pending entries (ID, consumer, delivery count),
// every consumer with its pending entries. Times (seen, active, delivery)
// are left out: they restart on the target.
func streamState(t *testing.T, c *resp.Conn, key string) string {
	t.Helper()
	v := redistest.Do(t, c, "XINFO", "STREAM", key, "FULL")
	get := func(v resp.Value, name string) resp.Value {
		for i := 0; i+1 < len(v.Elems); i += 2 {
			if string(v.Elems[i].Str) == name {
				return v.Elems[i+1]
			}
		}
		t.Fatalf("XINFO STREAM FULL %s: no %s", key, name)
		return resp.Value{}
	}
	var b strings.Builder
	for _, f := range []string{"length", "last-generated-id", "max-deleted-entry-id", "entries-added", "recorded-first-entry-id"} {
		fmt.Fprintf(&b, "%s=%s ", f, get(v, f).String())
	}
	fmt.Fprintf(&b, "entries=%d\n", len(get(v, "entries").Elems))
	for _, g := range get(v, "groups").Elems {
		fmt.Fprintf(&b, "group %s last-delivered=%s entries-read=%s lag=%s pel-count=%s\n",
			get(g, "name").String(), get(g, "last-delivered-id").String(), get(g, "entries-read").String(), get(g, "lag").String(), get(g, "pel-count").String())
		for _, p := range get(g, "pending").Elems {
			fmt.Fprintf(&b, "  pending %s consumer=%s deliveries=%s\n", p.Elems[0].String(), p.Elems[1].String(), p.Elems[3].String())
		}
		for _, cs := range get(g, "consumers").Elems {
			fmt.Fprintf(&b, "  consumer %s pel-count=%s:", get(cs, "name").String(), get(cs, "pel-count").String())
			for _, p := range get(cs, "pending").Elems {
				fmt.Fprintf(&b, " %s(%s)", p.Elems[0].String(), p.Elems[2].String())
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

// TestStreamStateRoundTrip: a stream with deleted entries, two consumer
// groups, active and idle consumers and pending entries (one delivered
// twice) comes back with everything XINFO STREAM FULL shows but times;
// verify --against matches, and names the stream once a group moves.
func TestStreamStateRoundTrip(t *testing.T) {
	u, c := redistest.Redis(t, 9)
	for i := 1; i <= 10; i++ {
		redistest.Do(t, c, "XADD", "s", fmt.Sprintf("1-%d", i), "n", fmt.Sprint(i))
	}
	redistest.Do(t, c, "XDEL", "s", "1-3")
	redistest.Do(t, c, "XGROUP", "CREATE", "s", "g1", "0")
	redistest.Do(t, c, "XREADGROUP", "GROUP", "g1", "alice", "COUNT", "3", "STREAMS", "s", ">")
	redistest.Do(t, c, "XREADGROUP", "GROUP", "g1", "bob", "COUNT", "2", "STREAMS", "s", ">")
	redistest.Do(t, c, "XACK", "s", "g1", "1-2")
	redistest.Do(t, c, "XCLAIM", "s", "g1", "bob", "0", "1-1")
	redistest.Do(t, c, "XGROUP", "CREATECONSUMER", "s", "g1", "carol")
	redistest.Do(t, c, "XGROUP", "CREATE", "s", "g2", "1-4", "ENTRIESREAD", "3")
	redistest.Do(t, c, "XREADGROUP", "GROUP", "g2", "dave", "COUNT", "1", "STREAMS", "s", ">")
	redistest.Do(t, c, "XGROUP", "CREATE", "s", "", "$") // an empty group name is a name
	redistest.Do(t, c, "XADD", "plain", "5-5", "f", "v")
	redistest.Do(t, c, "XDEL", "plain", "5-5") // an empty stream whose counters must travel
	want := streamState(t, c, "s")
	wantPlain := streamState(t, c, "plain")
	t.Logf("source state:\n%s%s", want, wantPlain)

	// page=2: pending entries are paged with XPENDING.
	path, m := redistest.MustExport(t, u, redistest.ExportOptions{Params: map[string]string{"page": "2"}})
	if len(m.Datasets) != 2 || m.Datasets[1].Name != "redis.db9.stream-state" || m.Datasets[1].Rows == 0 {
		t.Fatalf("datasets: %+v", m.Datasets)
	}
	_, tc := redistest.Redis(t, 10)
	toTen := map[string]string{"9": "10"}
	rep := redistest.MustImport(t, path, server, importer.Options{Map: toTen})
	if d := rep.Datasets[1]; d.Written != d.Rows {
		t.Fatalf("stream state: %d of %d rows written", d.Written, d.Rows)
	}
	if got := streamState(t, tc, "s"); got != want {
		t.Fatalf("stream s after import:\n%s\nwant:\n%s", got, want)
	}
	if got := streamState(t, tc, "plain"); got != wantPlain {
		t.Fatalf("stream plain after import:\n%s\nwant:\n%s", got, wantPlain)
	}
	redistest.RequireMatch(t, path, server, toTen)

	// A resumed or repeated load changes nothing; --mode replace restores.
	redistest.MustImport(t, path, server, importer.Options{Map: toTen, Mode: importer.ModeReplace})
	if got := streamState(t, tc, "s"); got != want {
		t.Fatalf("stream s after --mode replace:\n%s\nwant:\n%s", got, want)
	}

	redistest.Do(t, tc, "XGROUP", "SETID", "s", "g2", "1-9")
	res := redistest.Verify(t, path, server, toTen, nil)
	if !res[0].Match || res[1].Match || len(res[1].Differences) != 1 || res[1].Differences[0].BundleKey[0] != `"s"` {
		t.Fatalf("a moved group: %+v", res)
	}
}

// TestPendingEntryOfDeletedEntryRejected: Redis keeps a pending entry for
// an entry deleted after delivery, but cannot recreate one (XCLAIM drops
// it): the row goes to the reject file with its reason.
func TestPendingEntryOfDeletedEntryRejected(t *testing.T) {
	u, c := redistest.Redis(t, 9)
	redistest.Do(t, c, "XADD", "s", "1-1", "f", "v")
	redistest.Do(t, c, "XADD", "s", "1-2", "f", "v")
	redistest.Do(t, c, "XGROUP", "CREATE", "s", "g", "0")
	redistest.Do(t, c, "XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">")
	redistest.Do(t, c, "XDEL", "s", "1-1")
	path, _ := redistest.MustExport(t, u, redistest.ExportOptions{})
	redistest.Redis(t, 10)
	rej := t.TempDir() + "/rejects.jsonl"
	rejects := importer.NewRejects(rej)
	rep, err := redistest.Import(t, path, server, importer.Options{Map: map[string]string{"9": "10"}, Rejects: rejects}, nil)
	rejects.Close()
	if err != nil {
		t.Fatal(err)
	}
	if d := rep.Datasets[1]; d.Rejected != 1 {
		t.Fatalf("stream state: %d rows rejected, want 1", d.Rejected)
	}
	if b, _ := os.ReadFile(rej); !strings.Contains(string(b), "1-1") || !strings.Contains(string(b), "deleted after delivery") {
		t.Fatalf("reject file: %s", b)
	}
}

// TestStreamStateAloneNeedsAppend: stream state without its keyspace would
// write groups into streams already on the target.
func TestStreamStateAloneNeedsAppend(t *testing.T) {
	u, c := redistest.Redis(t, 9)
	redistest.Do(t, c, "XADD", "s", "1-1", "f", "v")
	redistest.Do(t, c, "XGROUP", "CREATE", "s", "g", "0")
	path, _ := redistest.MustExport(t, u, redistest.ExportOptions{})
	_, tc := redistest.Redis(t, 10)
	redistest.Do(t, tc, "XADD", "s", "1-1", "f", "v")
	only := []string{"redis.db9.stream-state"}
	toTen := map[string]string{"9": "10"}
	_, err := redistest.Import(t, path, server, importer.Options{Map: toTen, Datasets: only}, nil)
	if err == nil || !strings.Contains(err.Error(), "redis.db9.stream-state") || !strings.Contains(err.Error(), "--mode append") {
		t.Fatalf("want a refusal naming the dataset, got %v", err)
	}
	if n := len(redistest.Do(t, tc, "XINFO", "GROUPS", "s").Elems); n != 0 {
		t.Fatalf("the refused import created %d groups", n)
	}
	redistest.MustImport(t, path, server, importer.Options{Map: toTen, Datasets: only, Mode: importer.ModeAppend})
	if n := len(redistest.Do(t, tc, "XINFO", "GROUPS", "s").Elems); n != 1 {
		t.Fatalf("append: %d groups, want 1", n)
	}
}
