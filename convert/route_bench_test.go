package convert

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/mongotype"
	"github.com/imbundle/imbundle/spec"
)

// wfMessages generates n WildfireChat-like message documents in batches
// of 4096, their _mid times spread over three years, made as read.
type wfMessages struct {
	n, next int
}

func (w *wfMessages) Next() (arrow.RecordBatch, error) {
	if w.next >= w.n {
		return nil, io.EOF
	}
	b := mongotype.NewBuilder(nil)
	defer b.Release()
	start := time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	for ; w.next < w.n && b.Len() < 4096; w.next++ {
		i := w.next
		ms := start + int64(i)*94608 // 3 years over 1M messages
		raw, _ := bson.Marshal(bson.D{{Key: "_id", Value: int64(i + 1)}, {Key: "_mid", Value: (ms-1514736000000)<<21 | int64(i%32768)},
			{Key: "_from", Value: fmt.Sprintf("user%d", i%5000)}, {Key: "_type", Value: int32(i % 2)}, {Key: "_target", Value: fmt.Sprintf("group%d", i%700)},
			{Key: "_line", Value: int32(0)}, {Key: "_data", Value: bson.Binary{Data: make([]byte, 120)}}, {Key: "_searchable_key", Value: "hello world, a message"},
			{Key: "_dt", Value: bson.DateTime(ms / 1000 * 1000)}, {Key: "_content_type", Value: int32(1)}, {Key: "_to", Value: ""}})
		if err := b.Append(raw); err != nil {
			panic(err)
		}
	}
	return b.NewRecord(), nil
}

func wfMessagesTable(name string) *spec.Dataset {
	col := func(n, typ string, null bool) spec.Column { return spec.Column{Name: n, Type: typ, Nullable: null} }
	return &spec.Dataset{Name: "wf." + name, Kind: spec.KindTable, Namespace: "wf", Object: name, PrimaryKey: []string{"id"},
		DDL: "CREATE TABLE `" + name + "` (\n  `id` int NOT NULL\n) ENGINE=InnoDB",
		Columns: []spec.Column{col("id", "int32", false), col("_mid", "int64", false), col("_from", "large_utf8", false), col("_type", "int8", false),
			col("_target", "large_utf8", false), col("_line", "int32", false), col("_data", "large_binary", false), col("_searchable_key", "large_utf8", true),
			col("_dt", "timestamp[s]", false), col("_content_type", "int32", false), col("_to", "large_utf8", true)}}
}

const wfBenchMapping = `version: 1
datasets:
  - match: wf.messages
    route: >-
      let t = fromUnixMilli(bitshr(_mid, 21) + 1514736000000).In(timezone("Asia/Shanghai"));
      "t_messages_" + string(t.Year() % 3 * 12 + int(t.Month()) - 1)
    objects: ["t_messages_{0..35}"]
`

// BenchmarkRouteWildfireShards converts 1M message documents (run
// with -benchtime=1x): plain,
// onto one table; routed, into 36 shards with each part routed once;
// passes, the same 36 outputs each reading the whole part again.
func BenchmarkRouteWildfireShards(b *testing.B) {
	const n = 1000000
	ds := &spec.Dataset{Name: "wf.messages", Kind: spec.KindCollection, Namespace: "wf", Object: "messages", PrimaryKey: mongotype.PrimaryKey,
		Columns: bundle.ColumnsOf(mongotype.Schema()), Parts: []spec.Part{{Rows: n}}, Rows: n}
	src := &spec.Source{ID: "s0", Engine: "mongodb"}
	drain := func(c *Conversion) int {
		rows := 0
		if err := bundle.Drain(c.Records(&wfMessages{n: n}, 0, func(rj Reject) error { return fmt.Errorf("reject: %s", rj.Reason) }),
			func(rec arrow.RecordBatch) error { rows += int(rec.NumRows()); rec.Release(); return nil }); err != nil {
			b.Fatal(err)
		}
		return rows
	}
	outputs := func() []*Conversion {
		m, err := ParseMapping("m.yaml", []byte(wfBenchMapping))
		if err != nil {
			b.Fatal(err)
		}
		var outs []*Conversion
		for _, cand := range ForMapped(ds, src, m.For("wf.messages")) {
			if cand.To != "mysql" {
				continue
			}
			for _, o := range cand.Conversion.Split {
				c, err := Onto(o, ds, src, "mysql", wfMessagesTable(o.Dataset.Object))
				if err != nil || len(c.Refused) > 0 {
					b.Fatal(err, c.Refused)
				}
				outs = append(outs, c)
			}
		}
		return outs
	}
	b.Run("plain", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			c, err := Into(ds, src, "mysql", wfMessagesTable("t_messages"))
			if err != nil {
				b.Fatal(err)
			}
			if rows := drain(c); rows != n {
				b.Fatalf("%d rows", rows)
			}
		}
	})
	b.Run("routed", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			rows := 0
			for _, c := range outputs() {
				rows += drain(c)
			}
			if rows != n {
				b.Fatalf("%d rows", rows)
			}
		}
	})
	b.Run("passes", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			outs := outputs()
			for _, c := range outs[1:] {
				drain(c) // the spools, then gone
			}
			drain(outs[0])
			b.ResetTimer()
			rows := 0
			for _, c := range outs {
				rows += drain(c) // no spool: each reads the part
			}
			if rows != n {
				b.Fatalf("%d rows", rows)
			}
		}
	})
}
