package redis_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/redistype"
	"github.com/imbundle/imbundle/internal/redistype/redistest"
	"github.com/imbundle/imbundle/internal/redistype/resp"
	"github.com/imbundle/imbundle/spec"
)

// withFieldTTLs is the Redis exporter reading a real server, with hash
// field TTLs added to its rows as a Redis 7.4 source would have them: this
// machine's Redis (7.0) cannot hold any, so the bundle of a 7.4 source is
// made from the real export path, only the field_expire_at_ms column filled
// in (exps: "key/field" -> Unix ms).
type withFieldTTLs struct {
	exporter.Source
	exps map[string]int64
}

func (s *withFieldTTLs) Describe(ctx context.Context) (*exporter.Description, error) {
	d, err := s.Source.Describe(ctx)
	if err != nil {
		return nil, err
	}
	hashes := map[string]bool{}
	for kf := range s.exps {
		hashes[strings.SplitN(kf, "/", 2)[0]] = true
	}
	for i := range d.Datasets {
		ds := &d.Datasets[i]
		if ds.Spec.Options["layout"] == redistype.LayoutName {
			ds.Spec.Options[redistype.OptFieldTTLs] = fmt.Sprint(len(hashes))
			ds.Schema = redistype.SchemaFieldTTL
		}
	}
	return d, nil
}

func (s *withFieldTTLs) Read(ctx context.Context, ds *spec.Dataset, emit func(arrow.RecordBatch) error) error {
	return s.Source.Read(ctx, ds, func(rec arrow.RecordBatch) error {
		if rec.NumCols() != redistype.NumColsFieldTTL {
			return emit(rec)
		}
		rows, err := redistype.NewRows(rec)
		if err != nil {
			return err
		}
		b := array.NewInt64Builder(memory.DefaultAllocator)
		defer b.Release()
		for i := 0; i < rows.N; i++ {
			if e, ok := s.exps[string(rows.Key(i))+"/"+string(rows.Field(i))]; ok && !rows.IsKeyRow(i) {
				b.Append(e)
			} else {
				b.AppendNull()
			}
		}
		col := b.NewArray()
		defer col.Release()
		cols := append([]arrow.Array(nil), rec.Columns()...)
		cols[redistype.ColFieldExpireAt] = col
		out := array.NewRecordBatch(rec.Schema(), cols, rec.NumRows())
		defer out.Release()
		return emit(out)
	})
}

// exportWithFieldTTLs writes a bundle of src through withFieldTTLs.
func exportWithFieldTTLs(t *testing.T, src string, exps map[string]int64) (string, *spec.Manifest) {
	t.Helper()
	ctx := context.Background()
	s, err := exporter.Open(ctx, src, exporter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	path := filepath.Join(t.TempDir(), "fttl.imb")
	w, err := bundle.Create(path, bundle.Options{Tool: spec.Tool{Name: "imbundle", Version: "test"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := exporter.Export(ctx, []exporter.Source{&withFieldTTLs{Source: s, exps: exps}}, w, 1); err != nil {
		w.Abort()
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path, w.Manifest()
}

// TestFieldTTLBundleRefusedByRedis70: a bundle whose hashes have field
// TTLs is refused by this machine's Redis 7.0 (no HPEXPIREAT) before
// anything is written, naming the server, the dataset and the count; and
// verify --against a server without them names the key and field whose
// TTL is missing.
func TestFieldTTLBundleRefusedByRedis70(t *testing.T) {
	src, sc := redistest.Redis(t, 11)
	redistest.Do(t, sc, "HSET", "sess", "token", "abc", "user", "7")
	redistest.Do(t, sc, "HSET", "plain", "a", "1")
	redistest.Do(t, sc, "SET", "s", "v")
	exp := time.Now().Add(time.Hour).UnixMilli()
	path, m := exportWithFieldTTLs(t, src, map[string]int64{"sess/token": exp})
	ks := m.Datasets[0]
	if len(ks.Columns) != redistype.NumColsFieldTTL || ks.Options[redistype.OptFieldTTLs] != "1" {
		t.Fatalf("bundle dataset: %d columns, options %v", len(ks.Columns), ks.Options)
	}

	target, tc := redistest.Redis(t, 12)
	for _, mode := range []importer.Mode{importer.ModeFail, importer.ModeAppend, importer.ModeReplace} {
		_, err := redistest.Import(t, path, target, importer.Options{Mode: mode}, nil)
		if err == nil {
			t.Fatalf("%s: Redis 7.0 took a bundle with field TTLs", mode)
		}
		for _, want := range []string{"redis 7.0", "HPEXPIREAT", `dataset "redis.db11": 1 hashes`, "nothing was written", "skip-field-ttl=true", "7.4"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: the refusal does not say %q: %v", mode, want, err)
			}
		}
		if n := redistest.Do(t, tc, "DBSIZE").Int; n != 0 {
			t.Fatalf("%s: refused, but db 12 holds %d keys", mode, n)
		}
	}

	// The source itself (7.0) has no field TTL: verify --against it finds
	// the content equal and the field's TTL missing, by key and field.
	res := redistest.Verify(t, path, src, nil, nil)
	var d *exporter.Difference
	for _, r := range res {
		if r.Dataset == "redis.db11" {
			if r.Match || len(r.Differences) != 1 {
				t.Fatalf("verify: match %v, differences %+v, err %v: want exactly the field TTL", r.Match, r.Differences, r.Err)
			}
			d = &r.Differences[0]
		}
	}
	if d == nil {
		t.Fatalf("verify compared no keyspace dataset: %+v", res)
	}
	got := fmt.Sprint(d.BundleKey, d.TargetKey)
	for _, want := range []string{`"sess"`, `field "token"`, fmt.Sprintf("field_expire_at_ms=%d", exp), "no field TTL"} {
		if !strings.Contains(got, want) {
			t.Errorf("difference %s does not say %q", got, want)
		}
	}
}

// TestFieldTTLRoundTrip74 exports a real Redis 7.4+ with field TTLs,
// imports it into another database of it and verifies: only when
// IMBUNDLE_TEST_REDIS74=host:port names such a server (this machine has
// none).
func TestFieldTTLRoundTrip74(t *testing.T) {
	addr := os.Getenv("IMBUNDLE_TEST_REDIS74")
	if addr == "" {
		t.Skip("IMBUNDLE_TEST_REDIS74 not set: no Redis 7.4+ to carry field TTLs through")
	}
	src := "redis://" + addr + "/14"
	target := "redis://" + addr + "/15"
	sc, tc := redistest.Conn(t, src), redistest.Conn(t, target)
	redistest.Do(t, sc, "FLUSHDB")
	redistest.Do(t, tc, "FLUSHDB")
	t.Cleanup(func() {
		redistest.Do(t, sc, "FLUSHDB")
		redistest.Do(t, tc, "FLUSHDB")
	})
	redistest.Do(t, sc, "HSET", "sess", "token", "abc", "user", "7", "soon", "x")
	redistest.Do(t, sc, "HPEXPIRE", "sess", "3600000", "FIELDS", "1", "token")
	redistest.Do(t, sc, "HPEXPIRE", "sess", "7200000", "FIELDS", "1", "soon")
	redistest.Do(t, sc, "PEXPIRE", "sess", "86400000")
	args := []string{"HSET", "big"}
	for i := 0; i < 3000; i++ {
		args = append(args, fmt.Sprintf("f%d", i), "v")
	}
	redistest.Do(t, sc, args...)
	redistest.Do(t, sc, "HPEXPIRE", "big", "600000", "FIELDS", "2", "f1", "f2999")
	path, m := redistest.MustExport(t, src, redistest.ExportOptions{})
	if m.Datasets[0].Options[redistype.OptFieldTTLs] != "2" {
		t.Fatalf("options %v: want field-ttls=2", m.Datasets[0].Options)
	}
	redistest.MustImport(t, path, target, importer.Options{Map: map[string]string{"14": "15"}})
	redistest.RequireMatch(t, path, target, map[string]string{"14": "15"})
	for _, f := range []string{"token", "soon"} {
		want := redistest.Do(t, sc, "HPEXPIRETIME", "sess", "FIELDS", "1", f).Elems[0].Int
		got := redistest.Do(t, tc, "HPEXPIRETIME", "sess", "FIELDS", "1", f).Elems[0].Int
		if d := want - got; d < -2000 || d > 2000 || got <= 0 {
			t.Errorf("sess/%s: target expiry %d, source %d", f, got, want)
		}
	}
	if got := redistest.Do(t, tc, "HPEXPIRETIME", "sess", "FIELDS", "1", "user").Elems[0].Int; got != -1 {
		t.Errorf("sess/user got a TTL: %d", got)
	}
	if got := redistest.Do(t, tc, "HPEXPIRETIME", "big", "FIELDS", "3", "f1", "f2", "f2999").Elems; got[0].Int <= 0 || got[1].Int != -1 || got[2].Int <= 0 {
		t.Errorf("big: %v", got)
	}
}

// recording74 is a target that answers like a Redis 7.4 and records what
// it is sent: the only way here to see the import's HPEXPIREAT commands,
// as no real server on this machine takes them. Every command but COMMAND
// INFO is answered :0 (EXISTS finds nothing, writes "succeed").
func recording74(t *testing.T) (string, func() []string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var mu sync.Mutex
	var got []string
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					v, err := resp.ReadValue(r)
					if err != nil {
						return
					}
					var args []string
					for _, e := range v.Elems {
						args = append(args, string(e.Str))
					}
					out := ":0\r\n"
					if strings.EqualFold(args[0], "COMMAND") {
						out = "*1\r\n*1\r\n$10\r\nhpexpireat\r\n"
					}
					mu.Lock()
					got = append(got, strings.Join(args, " "))
					mu.Unlock()
					if _, err := c.Write([]byte(out)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return "redis://" + l.Addr().String() + "/3", func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}
}

// TestFieldTTLCommands: each live field TTL follows its HSET as an
// HPEXPIREAT, fields of one expiry time in one command; a field already
// expired is not written and counts as expired, and a hash whose every
// field expired is not written at all (one more expired: the key).
func TestFieldTTLCommands(t *testing.T) {
	src, sc := redistest.Redis(t, 11)
	redistest.Do(t, sc, "HSET", "sess", "token", "abc", "user", "7", "old", "x", "plain", "p")
	redistest.Do(t, sc, "HSET", "dead", "a", "1")
	later := time.Now().Add(time.Hour).UnixMilli()
	past := time.Now().Add(-time.Hour).UnixMilli()
	path, _ := exportWithFieldTTLs(t, src, map[string]int64{"sess/token": later, "sess/user": later, "sess/old": past, "dead/a": past})
	target, sent := recording74(t)
	rep, err := redistest.Import(t, path, target, importer.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var expired int64
	for _, d := range rep.Datasets {
		expired += d.Expired
	}
	if expired != 3 {
		t.Errorf("expired %d, want 3 (sess/old, dead/a, and dead itself)", expired)
	}
	var hset, hpexp []string
	cmds := sent()
	for _, c := range cmds {
		switch {
		case strings.HasPrefix(c, "HSET sess"):
			hset = append(hset, c)
		case strings.HasPrefix(c, "HPEXPIREAT"):
			hpexp = append(hpexp, c)
		case strings.Contains(c, "dead") && !strings.HasPrefix(c, "EXISTS"):
			t.Errorf("the expired hash was written: %s", c)
		}
	}
	if len(hset) != 1 || strings.Contains(hset[0], "old") {
		t.Fatalf("HSETs of sess: %q, want one without the expired field", hset)
	}
	fields := func(c string) string { // "token user" in either order
		f := strings.Fields(c)[5:]
		sort.Strings(f)
		return strings.Join(f, " ")
	}
	if len(hpexp) != 1 || !strings.HasPrefix(hpexp[0], fmt.Sprintf("HPEXPIREAT sess %d FIELDS 2 ", later)) || fields(hpexp[0]) != "token user" {
		t.Fatalf("HPEXPIREATs: %q, want one for token and user at %d", hpexp, later)
	}
	// The HPEXPIREAT comes after the HSET that wrote its fields.
	order := strings.Join(cmds, "\n")
	if strings.Index(order, hpexp[0]) < strings.Index(order, hset[0]) {
		t.Fatal("HPEXPIREAT before HSET")
	}
}
