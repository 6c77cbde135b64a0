package convert

import (
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/mongotype"
	"github.com/imbundle/imbundle/spec"
)

// countedBatches hands on batches of documents and counts the rows read.
type countedBatches struct {
	recs []arrow.RecordBatch
	read *int
}

func (c *countedBatches) Next() (arrow.RecordBatch, error) {
	if len(c.recs) == 0 {
		return nil, io.EOF
	}
	r := c.recs[0]
	c.recs = c.recs[1:]
	*c.read += int(r.NumRows())
	return r, nil
}

// shardDocs are n documents {_id: i, shard: i % 4} in batches of 5, but
// document 7, whose shard is text, and document 9, which has a field no
// table has.
func shardDocs(n int) (*spec.Dataset, []arrow.RecordBatch) {
	var recs []arrow.RecordBatch
	b := mongotype.NewBuilder(nil)
	for i := 0; i < n; i++ {
		d := bson.D{{Key: "_id", Value: int64(i)}, {Key: "shard", Value: int64(i % 4)}}
		switch i {
		case 7:
			d[1].Value = "x"
		case 9:
			d = append(d, bson.E{Key: "extra", Value: 1})
		}
		raw, _ := bson.Marshal(d)
		if err := b.Append(raw); err != nil {
			panic(err)
		}
		if b.Len() == 5 {
			recs = append(recs, b.NewRecord())
		}
	}
	if b.Len() > 0 {
		recs = append(recs, b.NewRecord())
	}
	ds := &spec.Dataset{Name: "im.msg", Kind: spec.KindCollection, Namespace: "im", Object: "msg", PrimaryKey: mongotype.PrimaryKey,
		Columns: bundle.ColumnsOf(mongotype.Schema()), Parts: []spec.Part{{Rows: int64(n)}}, Rows: int64(n)}
	return ds, recs
}

func shardTable(name string) *spec.Dataset {
	return &spec.Dataset{Name: "im." + name, Kind: spec.KindTable, Namespace: "im", Object: name, PrimaryKey: []string{"id"},
		DDL:     "CREATE TABLE `" + name + "` (\n  `id` bigint NOT NULL\n) ENGINE=InnoDB",
		Columns: []spec.Column{{Name: "id", Type: "int64"}, {Name: "shard", Type: "int64", Nullable: true}}}
}

const shardMapping = `version: 1
datasets:
  - match: im.msg
    route: "'t_' + string(shard)"
    objects: ["t_{0..3}"]
`

// routedOutputs are the outputs of the shard mapping, onto their tables.
func routedOutputs(t *testing.T, ds *spec.Dataset) []*Conversion {
	t.Helper()
	src := &spec.Source{ID: "s0", Engine: "mongodb"}
	var c *Conversion
	for _, cand := range ForMapped(ds, src, msgEntry(t, shardMapping)) {
		if cand.To == "mysql" {
			c = cand.Conversion
		}
	}
	if c == nil || len(c.Refused) > 0 || len(c.Split) != 4 {
		t.Fatalf("conversion %+v", c)
	}
	var outs []*Conversion
	for _, o := range c.Split {
		into, err := Onto(o, ds, src, "mysql", shardTable(o.Dataset.Object))
		if err != nil || len(into.Refused) > 0 {
			t.Fatalf("onto %s: %v %v", o.Dataset.Object, err, into.Refused)
		}
		if into.Dataset.Name != "im.msg/"+o.Dataset.Object {
			t.Errorf("output named %s", into.Dataset.Name)
		}
		outs = append(outs, into)
	}
	return outs
}

// runOutput converts the part through output k, reading its own copy of
// the part: the ids it keeps, its rejects, the rows it read.
func runOutput(t *testing.T, c *Conversion, recs []arrow.RecordBatch) (ids []int64, rejects []string, read int) {
	return runOutputPart(t, c, recs, 0)
}

func runOutputPart(t *testing.T, c *Conversion, recs []arrow.RecordBatch, part int) (ids []int64, rejects []string, read int) {
	t.Helper()
	in := &countedBatches{recs: append([]arrow.RecordBatch(nil), recs...), read: &read}
	err := bundle.Drain(c.Records(in, part, func(rj Reject) error {
		rejects = append(rejects, fmt.Sprintf("row %d: %s", rj.Row, rj.Reason))
		return nil
	}), func(rec arrow.RecordBatch) error {
		for i := 0; i < int(rec.NumRows()); i++ {
			ids = append(ids, rec.Column(0).(interface{ Value(int) int64 }).Value(i))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids, rejects, read
}

// TestRouteReadsEachPartOnce: output 0 reads the part and routes every
// row once, the other outputs read their spools (no row of their own
// part); each keeps exactly its rows; a route to an undeclared object is
// output 0's reject, another output's reject keeps the row's number in
// the part; an output whose spool is read already, and output 0 after
// another output routed, read the part themselves, with the same rows.
func TestRouteReadsEachPartOnce(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // where spools are made, unlinked at once
	ds, recs := shardDocs(23)
	want := map[int]string{0: "[0 4 8 12 16 20]", 1: "[1 5 13 17 21]", 2: "[2 6 10 14 18 22]", 3: "[3 11 15 19]"}
	outs := routedOutputs(t, ds)
	total := 0
	for k, c := range outs {
		ids, rejects, read := runOutput(t, c, recs)
		total += read
		if fmt.Sprint(ids) != want[k] {
			t.Errorf("output %d: ids %v, want %s", k, ids, want[k])
		}
		switch k {
		case 0:
			if len(rejects) != 1 || !strings.HasPrefix(rejects[0], `row 7: route (m.yaml:4:12) gives "t_x", which is not among the objects the entry declares`) {
				t.Errorf("output 0 rejects %q", rejects)
			}
		case 1:
			if len(rejects) != 1 || !strings.HasPrefix(rejects[0], "row 9: field extra: the table has no column extra") {
				t.Errorf("output 1 rejects %q, want document 9 by its row in the part", rejects)
			}
		default:
			if len(rejects) != 0 {
				t.Errorf("output %d rejects %q", k, rejects)
			}
		}
	}
	if total != 23 {
		t.Errorf("the outputs read %d rows of their parts, want 23: the part once", total)
	}
	// Read again (a part loaded anew): the spool is gone, the part is read.
	if ids, rejects, read := runOutput(t, outs[1], recs); fmt.Sprint(ids) != want[1] || read != 23 || len(rejects) != 1 || !strings.HasPrefix(rejects[0], "row 9:") {
		t.Errorf("output 1 again: ids %v, read %d, rejects %q", ids, read, rejects)
	}

	// Another output first: it routes for the others but output 0, which
	// reads the part itself (with its digest and the route's rejects).
	outs = routedOutputs(t, ds)
	total = 0
	for _, k := range []int{3, 0, 2, 1} {
		ids, rejects, read := runOutput(t, outs[k], recs)
		total += read
		if fmt.Sprint(ids) != want[k] || (k == 0) != (len(rejects) == 1 && strings.HasPrefix(rejects[0], "row 7: route")) {
			t.Errorf("output %d: ids %v, rejects %q", k, ids, rejects)
		}
	}
	if total != 46 {
		t.Errorf("read %d rows, want 46: output 3 routing for 1..3, output 0 its own", total)
	}
	// Two parts: each is routed on its own, once.
	outs = routedOutputs(t, ds)
	total = 0
	for _, part := range []int{0, 1} {
		for k := range outs {
			ids, _, read := runOutputPart(t, outs[k], recs, part)
			total += read
			if fmt.Sprint(ids) != want[k] {
				t.Errorf("part %d output %d: ids %v", part, k, ids)
			}
		}
	}
	if total != 46 {
		t.Errorf("two parts: read %d rows, want 46", total)
	}
	if left, err := os.ReadDir(tmp); err != nil || len(left) != 0 {
		t.Errorf("spools left in the temporary directory: %v %v", left, err)
	}
}

// TestRouteEntryChecks: route and objects go together, ranges expand,
// duplicates and a target beside a route are refused at their line; a
// rule without routes refuses one.
func TestRouteEntryChecks(t *testing.T) {
	for _, c := range []struct{ entry, want string }{
		{"    route: \"'t'\"\n", "m.yaml:4:12: a route needs objects"},
		{"    objects: [t]\n", "m.yaml:4:14: objects declares the objects a route gives: this entry has no route"},
		{"    route: \"'t'\"\n    objects: [t_1, \"t_{0..3}\"]\n", "m.yaml:5:20: object t_1 is declared twice"},
		{"    route: \"'t'\"\n    objects: [\"t_{3..1}\"]\n", "the range {A..B} needs A <= B"},
		{"    route: \"'t'\"\n    objects: [t]\n    target: x\n", "m.yaml:6:13: an entry with a route names each row's object by it: it takes no target"},
		{"    route: \"'t'\"\n    objects: [t]\n    nest: {by: \"id\", into: rows}\n", "m.yaml:4:12: nest and route in one entry"},
	} {
		_, err := ParseMapping("m.yaml", []byte("version: 1\ndatasets:\n  - match: im.msg\n"+c.entry))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.entry, err, c.want)
		}
	}
	m, err := ParseMapping("m.yaml", []byte("version: 1\ndatasets:\n  - match: im.msg\n    route: \"'t'\"\n    objects: [\"a_{8..10}\", b]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if objs, _ := m.For("im.msg").routeObjects(); fmt.Sprint(objs) != "[a_8 a_9 a_10 b]" {
		t.Errorf("objects %v", objs)
	}
	// A table's route reads its columns: another name is refused at the
	// route's line.
	bad, err := ParseMapping("m.yaml", []byte("version: 1\ndatasets:\n  - match: im.msg\n    route: \"'t_' + string(nosuch)\"\n    objects: [t_1]\n"))
	if err != nil {
		t.Fatal(err)
	}
	tbl := &spec.Dataset{Name: "im.msg", Kind: spec.KindTable, Namespace: "im", Object: "msg", Columns: []spec.Column{{Name: "id", Type: "int64"}}, PrimaryKey: []string{"id"}}
	for _, cand := range ForMapped(tbl, &spec.Source{ID: "s0", Engine: "mysql"}, bad.For("im.msg")) {
		if cand.To == "mongodb" && (cand.Conversion == nil || !strings.Contains(strings.Join(cand.Conversion.Refused, ";"), "m.yaml:4:12: unknown name nosuch")) {
			t.Errorf("a route naming no column: %+v", cand.Conversion)
		}
	}
	// A MySQL table to Redis takes no route.
	for _, cand := range ForMapped(tbl, &spec.Source{ID: "s0", Engine: "mysql"}, m.For("im.msg")) {
		if cand.Conversion != nil && cand.To == "redis" && !strings.Contains(strings.Join(cand.Conversion.Refused, ";"), "m.yaml:4:12: the mysql-table to redis-hashes v1 rule takes no route yet") {
			t.Errorf("to %s: refused %q", cand.To, cand.Conversion.Refused)
		}
	}
}

// TestJavaHash: Java's String.hashCode, UTF-16 code units and int32
// overflow included ("polygenelubricants" is Integer.MIN_VALUE; 用 is
// U+7528, 户 U+6237, 😀 the surrogates D83D DE00).
func TestJavaHash(t *testing.T) {
	for s, want := range map[string]int{"": 0, "hello": 99162322, "polygenelubricants": -2147483648, "用户1": (29992*31+25143)*31 + 49, "😀": 0xD83D*31 + 0xDE00} {
		if got := javaHash(s); got != want {
			t.Errorf("javaHash(%q) = %d, want %d", s, got, want)
		}
	}
}
