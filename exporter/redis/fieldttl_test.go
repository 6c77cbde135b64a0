package redis

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/internal/redistype"
	"github.com/imbundle/imbundle/internal/redistype/resp"
	"github.com/imbundle/imbundle/spec"
)

func TestParseSubexpiry(t *testing.T) {
	info := "# Keyspace\r\ndb0:keys=5,expires=1,avg_ttl=3,subexpiry=2\r\ndb3:keys=1,expires=0,avg_ttl=0,subexpiry=0\r\ndb4:keys=1,expires=0,avg_ttl=0\r\ndb0 Strings_keys=3, expires=0\r\n" +
		"db6:keys=9,expires=0,avg_ttl=0,keys_with_volatile_items=4\r\n" // Valkey 9
	got := parseSubexpiry(info)
	if len(got) != 3 || got[0] != 2 || got[3] != 0 || got[6] != 4 {
		t.Fatalf("got %v, want db0=2 db3=0 db6=4 (Valkey's name) and nothing for db4 (no figure) or Pika's lines", got)
	}
}

func TestParseFieldExpiries(t *testing.T) {
	ints := func(v ...int64) resp.Value {
		a := resp.Value{Kind: resp.KindArray}
		for _, n := range v {
			a.Elems = append(a.Elems, resp.Value{Kind: resp.KindInt, Int: n})
		}
		return a
	}
	got, err := parseFieldExpiries(ints(1893456000000, -1, -2), 3)
	if err != nil || fmt.Sprint(got) != "[1893456000000 -1 -2]" {
		t.Fatalf("got %v %v", got, err)
	}
	for _, v := range []resp.Value{{Kind: resp.KindNil}, ints(), {Kind: resp.KindError, Str: []byte("WRONGTYPE Operation against a key holding the wrong kind of value")}} {
		if got, err := parseFieldExpiries(v, 2); err != nil || fmt.Sprint(got) != "[-2 -2]" {
			t.Errorf("%s: got %v %v, want every field gone", v.String(), got, err)
		}
	}
	for _, v := range []resp.Value{ints(1, 2), ints(-3), {Kind: resp.KindError, Str: []byte("ERR unknown command 'HPEXPIRETIME'")}} {
		if _, err := parseFieldExpiries(v, 1); err == nil {
			t.Errorf("%s: accepted", v.String())
		}
	}
}

// fake74 is a Redis 7.4 whose db 0 holds hashes with field TTLs: the
// server this machine does not have (its Redis is 7.0, without HPEXPIRE).
// It answers what Describe and the keyspace Read send, and is used only to
// show what no real server here can: the export reading HPEXPIRETIME.
type fake74 struct {
	mu     sync.Mutex
	hashes map[string]map[string]int64 // key -> field -> own expiry (-1 none)
	// goneAfterScan: fields that HSCAN still returns and HPEXPIRETIME no
	// longer finds (deleted in between); the key goes when its last does.
	goneAfterScan map[string]bool
	hpexpiretime  int // HPEXPIRETIME commands answered
}

func (f *fake74) serve(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
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
					if _, err := c.Write([]byte(f.answer(args))); err != nil {
						return
					}
				}
			}()
		}
	}()
	return "redis://" + l.Addr().String()
}

func bulk(s string) string { return fmt.Sprintf("$%d\r\n%s\r\n", len(s), s) }

func array(elems ...string) string {
	return fmt.Sprintf("*%d\r\n%s", len(elems), strings.Join(elems, ""))
}

func (f *fake74) answer(args []string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	cmd := strings.ToUpper(args[0])
	switch {
	case cmd == "INFO" && strings.EqualFold(args[1], "server"):
		return bulk("# Server\r\nredis_version:7.4.0\r\n")
	case cmd == "INFO":
		return bulk(fmt.Sprintf("# Keyspace\r\ndb0:keys=%d,expires=0,avg_ttl=0,subexpiry=2\r\n", len(f.hashes)))
	case cmd == "FUNCTION":
		return "*0\r\n"
	case cmd == "SCAN":
		var keys []string
		for k := range f.hashes {
			keys = append(keys, bulk(k))
		}
		sort.Strings(keys)
		return array(bulk("0"), array(keys...))
	case cmd == "TYPE":
		if f.hashes[args[1]] == nil {
			return "+none\r\n"
		}
		return "+hash\r\n"
	case cmd == "PTTL":
		if f.hashes[args[1]] == nil {
			return ":-2\r\n"
		}
		return ":-1\r\n"
	case cmd == "HSCAN": // HSCAN key cursor COUNT n: pages in field order
		h := f.hashes[args[1]]
		var fields []string
		for fl := range h {
			fields = append(fields, fl)
		}
		sort.Strings(fields)
		from, _ := strconv.Atoi(args[2])
		n, _ := strconv.Atoi(args[4])
		to, next := min(from+n, len(fields)), "0"
		if to < len(fields) {
			next = strconv.Itoa(to)
		}
		var out []string
		for _, fl := range fields[from:to] {
			out = append(out, bulk(fl), bulk("v-"+fl))
		}
		return array(bulk(next), array(out...))
	case cmd == "HPEXPIRETIME": // key FIELDS n f...
		f.hpexpiretime++
		h := f.hashes[args[1]]
		var out []string
		for _, fl := range args[4:] {
			if f.goneAfterScan[args[1]+"/"+fl] {
				delete(h, fl)
			}
			e, ok := h[fl]
			if !ok {
				e = -2
			}
			out = append(out, fmt.Sprintf(":%d\r\n", e))
		}
		if h != nil && len(h) == 0 {
			delete(f.hashes, args[1])
		}
		return array(out...)
	}
	return "-ERR unknown command '" + args[0] + "'\r\n"
}

// newFake74 holds hash "h" (f1 with its own TTL, f2 without, f3 deleted
// between HSCAN and HPEXPIRETIME) and hash "g" (its only field deleted so:
// the hash is gone by the time its TTLs are read).
func newFake74() *fake74 {
	return &fake74{
		hashes: map[string]map[string]int64{
			"h": {"f1": 1893456000000, "f2": -1, "f3": 1893456000001},
			"g": {"x": -1},
		},
		goneAfterScan: map[string]bool{"h/f3": true, "g/x": true},
	}
}

// TestFieldTTLsCarriedOrCounted: a source whose INFO keyspace reports
// hashes with field TTLs is described with the field_expire_at_ms column
// (and the count in the dataset options), unless skip-field-ttl=true, which
// records them as not carried and keeps the ten columns.
func TestFieldTTLsCarriedOrCounted(t *testing.T) {
	raw := newFake74().serve(t)
	u, _ := url.Parse(raw)
	s, err := open(context.Background(), u, exporter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	d, err := s.Describe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ks := d.Datasets[0]
	if ks.Spec.Options[redistype.OptFieldTTLs] != "2" || ks.Schema.NumFields() != redistype.NumColsFieldTTL || len(d.Uncarried) != 0 {
		t.Fatalf("options %v, %d columns, uncarried %+v: want field-ttls=2, 11 columns, nothing uncarried", ks.Spec.Options, ks.Schema.NumFields(), d.Uncarried)
	}
	if st := d.Datasets[1]; st.Spec.Options[redistype.OptFieldTTLs] != "" {
		t.Fatalf("the stream-state dataset got %v", st.Spec.Options)
	}
	s, err = open(context.Background(), u, exporter.Options{Params: map[string]string{"skip-field-ttl": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	d, err = s.Describe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Uncarried) != 1 || d.Uncarried[0].Kind != "hash field TTL" || d.Uncarried[0].Count != 2 || d.Datasets[0].Schema.NumFields() != redistype.NumCols || redistype.HasFieldTTLs(&d.Datasets[0].Spec) {
		t.Fatalf("uncarried: %+v, %d columns", d.Uncarried, d.Datasets[0].Schema.NumFields())
	}
	// A database not exported does not count.
	u.Path = "/5"
	s, _ = open(context.Background(), u, exporter.Options{})
	if d, err := s.Describe(context.Background()); err != nil || redistype.HasFieldTTLs(&d.Datasets[0].Spec) {
		t.Fatalf("db 5 has no field TTLs: %v", err)
	}
}

// TestReadFieldTTLs: the keyspace Read asks HPEXPIRETIME for the fields of
// each hash (whole, and page by page for a big one) and writes each field's
// own expiry; a field gone meanwhile is left out and counted, and a hash
// all of whose fields went is not written (vanished). Only the fake 7.4
// server can show this here.
func TestReadFieldTTLs(t *testing.T) {
	for _, page := range []string{"1000", "2"} { // whole hashes; a big h paged 2 by 2
		t.Run("page="+page, func(t *testing.T) {
			f := newFake74()
			u, _ := url.Parse(f.serve(t))
			s, err := open(context.Background(), u, exporter.Options{Params: map[string]string{"page": page, "connections": "1"}})
			if err != nil {
				t.Fatal(err)
			}
			d, err := s.Describe(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			ds := d.Datasets[0].Spec
			got := map[string]int64{}
			keyRows := map[string]int64{}
			err = s.Read(context.Background(), &ds, func(rec arrow.RecordBatch) error {
				if rec.NumCols() != redistype.NumColsFieldTTL {
					t.Fatalf("%d columns", rec.NumCols())
				}
				rows, err := redistype.NewRows(rec)
				if err != nil {
					return err
				}
				for i := 0; i < rows.N; i++ {
					if err := rows.Check(i); err != nil {
						t.Errorf("row %d: %v", i, err)
					}
					if rows.IsKeyRow(i) {
						keyRows[string(rows.Key(i))] = rows.Elements(i)
						continue
					}
					got[string(rows.Key(i))+"/"+string(rows.Field(i))] = rows.FieldExpireAt(i)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]int64{"h/f1": 1893456000000, "h/f2": redistype.NoExpiry}
			if fmt.Sprint(got) != fmt.Sprint(want) || fmt.Sprint(keyRows) != "map[h:2]" {
				t.Fatalf("fields %v, key rows %v; want %v and h with 2 elements (g gone)", got, keyRows, want)
			}
			_, cnt := s.Counters(&ds)
			if cnt["fields_vanished"] != 2 || cnt["vanished"] != 1 || cnt["keys"] != 1 {
				t.Fatalf("counters %v: want 2 fields vanished (h/f3, g/x), 1 key vanished (g), 1 key", cnt)
			}
			if f.hpexpiretime == 0 {
				t.Fatal("no HPEXPIRETIME sent")
			}
		})
	}
}

// TestNoFieldTTLReadsWithoutColumn: a dataset without the option is read
// in ten columns and sends no HPEXPIRETIME, whatever the server.
func TestNoFieldTTLReadsWithoutColumn(t *testing.T) {
	f := newFake74()
	f.goneAfterScan = nil
	u, _ := url.Parse(f.serve(t))
	s, err := open(context.Background(), u, exporter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ds := &spec.Dataset{Name: DatasetName(0), Kind: spec.KindKeyspace, Namespace: "0", Object: "keyspace", Options: map[string]string{"layout": redistype.LayoutName}}
	var rowsN int64
	err = s.Read(context.Background(), ds, func(rec arrow.RecordBatch) error {
		if rec.NumCols() != redistype.NumCols {
			t.Fatalf("%d columns", rec.NumCols())
		}
		rowsN += rec.NumRows()
		return nil
	})
	if err != nil || rowsN != 6 || f.hpexpiretime != 0 {
		t.Fatalf("err %v, %d rows (want 6), %d HPEXPIRETIME (want 0)", err, rowsN, f.hpexpiretime)
	}
}
