package convert

import (
	"fmt"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/mongotype"
	"github.com/imbundle/imbundle/internal/redistype"
	"github.com/imbundle/imbundle/spec"
)

type sliceRecords []arrow.RecordBatch

func (s *sliceRecords) Next() (arrow.RecordBatch, error) {
	if len(*s) == 0 {
		return nil, io.EOF
	}
	r := (*s)[0]
	*s = (*s)[1:]
	return r, nil
}

// edgeKeyspace is a keyspace with the values FerretDB and MySQL cannot
// hold as such (inf, -inf and -0 scores), binary and empty names and
// values, every type.
func edgeKeyspace() arrow.RecordBatch {
	b := redistype.NewBuilder(1 << 30)
	b.StringKey([]byte("s"), []byte{}, redistype.NoExpiry)
	b.StringKey([]byte{0, 0xff, '\n'}, []byte{0xc3, 0x28}, 1700000000123)
	b.HashField([]byte("h"), []byte{}, []byte("v"), redistype.NoExpiry, 0)
	b.HashField([]byte("h"), []byte{0xfe}, []byte{}, redistype.NoExpiry, 1)
	b.KeyRow([]byte("h"), redistype.Hash, 2, "", redistype.NoExpiry)
	b.SetMember([]byte("set"), []byte{}, 42, 0)
	b.KeyRow([]byte("set"), redistype.Set, 1, "", 42)
	for i, sc := range []float64{math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 0, 5e-324, 1.5} {
		b.ZMember([]byte("z"), []byte(fmt.Sprint("m", i)), sc, redistype.NoExpiry, int64(i))
	}
	b.KeyRow([]byte("z"), redistype.ZSet, 6, "", redistype.NoExpiry)
	b.ListElem([]byte("l"), []byte{}, 0, redistype.NoExpiry, 0)
	b.ListElem([]byte("l"), []byte("x"), 1, redistype.NoExpiry, 1)
	b.KeyRow([]byte("l"), redistype.List, 2, "", redistype.NoExpiry)
	b.StreamPair([]byte("st"), "1-1", 0, []byte("f"), []byte("v"), redistype.NoExpiry, 0)
	b.StreamPair([]byte("st"), "1-1", 1, []byte("f"), []byte{}, redistype.NoExpiry, 1)
	b.KeyRow([]byte("st"), redistype.Stream, 2, "5-0", redistype.NoExpiry)
	return b.Flush()
}

// rowsText renders every column of every row, excluded ones too.
func rowsText(recs ...arrow.RecordBatch) []string {
	var out []string
	for _, rec := range recs {
		for i := 0; i < int(rec.NumRows()); i++ {
			var cols []string
			for c := 0; c < int(rec.NumCols()); c++ {
				v := bundle.KeyString(rec.Column(c), i)
				if f, ok := rec.Column(c).GetOneForMarshal(i).(float64); ok && rec.Column(c).IsValid(i) {
					v = fmt.Sprintf("%x", math.Float64bits(f))
				}
				cols = append(cols, rec.ColumnName(c)+"="+v)
			}
			out = append(out, strings.Join(cols, " "))
		}
	}
	return out
}

func convertAll(t *testing.T, c *Conversion, recs ...arrow.RecordBatch) ([]arrow.RecordBatch, []Reject) {
	t.Helper()
	in := sliceRecords(recs)
	var rejects []Reject
	out := c.Records(&in, 0, func(rj Reject) error { rejects = append(rejects, rj); return nil })
	var got []arrow.RecordBatch
	for {
		rec, err := out.Next()
		if err == io.EOF {
			return got, rejects
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, rec)
	}
}

func redisDatasetOf(rec arrow.RecordBatch, l *redisLayout) (*spec.Dataset, *spec.Source) {
	return &spec.Dataset{Name: "redis.db3", Source: "s0", Kind: spec.KindKeyspace, Namespace: "3", Object: l.object,
			Columns: bundle.ColumnsOf(l.schema), Options: map[string]string{"layout": l.name},
			Rows: rec.NumRows(), Parts: []spec.Part{{Path: "p0", Rows: rec.NumRows()}}},
		&spec.Source{ID: "s0", Engine: redisEngine}
}

// exported is the dataset an exporter of the converted engine would
// describe for the converted rows: the conversion's, with a key range.
func exported(c *Conversion, first, last string) *spec.Dataset {
	ds := *c.Dataset
	ds.Parts = []spec.Part{{Path: "p0", Rows: ds.Rows, KeyRange: &spec.KeyRange{First: []string{first}, Last: []string{last}}}}
	return &ds
}

func ruleFor(t *testing.T, ds *spec.Dataset, src *spec.Source, to string) *Conversion {
	t.Helper()
	for _, c := range For(ds, src) {
		if c.To == to {
			if c.Err != nil || c.Conversion == nil || len(c.Conversion.Refused) > 0 {
				t.Fatalf("%s to %s: %v %+v", src.Engine, to, c.Err, c.Conversion)
			}
			return c.Conversion
		}
	}
	t.Fatalf("no rule from %s to %s", src.Engine, to)
	return nil
}

// TestRedisThroughMongoInProcess: a keyspace with the values FerretDB
// refuses or changes (±inf, -0) becomes documents and comes back row for
// row, bit for bit.
func TestRedisThroughMongoInProcess(t *testing.T) {
	rec := edgeKeyspace()
	ds, src := redisDatasetOf(rec, keyspaceLayout)
	fwd := ruleFor(t, ds, src, mongoEngine)
	if fwd.Dataset.Object != "redis_db3" || fwd.Dataset.Namespace != "3" {
		t.Errorf("collection %s.%s, want 3.redis_db3", fwd.Dataset.Namespace, fwd.Dataset.Object)
	}
	docs, rj := convertAll(t, fwd, rec)
	if len(rj) > 0 {
		t.Fatalf("rejects: %+v", rj)
	}
	rows, err := mongotype.RowsOf(docs[0])
	if err != nil {
		t.Fatal(err)
	}
	d := rows.Doc(1)
	if id := d.Lookup("_id"); id.Type != bson.TypeInt64 || id.Int64() != 1 {
		t.Errorf("_id of row 1: %s", id)
	}
	if st, b := d.Lookup("key").Binary(); st != 0 || string(b) != "\x00\xff\n" {
		t.Errorf("binary key: %d %x", st, b)
	}
	if _, err := d.LookupErr("field"); err == nil {
		t.Errorf("a NULL column is a field: %s", d)
	}
	if v := d.Lookup("expire_at_ms"); v.Type != bson.TypeInt64 || v.Int64() != 1700000000123 {
		t.Errorf("expire_at_ms: %s", v)
	}

	back := ruleFor(t, exported(fwd, `{"$numberLong":"0"}`, fmt.Sprintf(`{"$numberLong":"%d"}`, rec.NumRows()-1)), &spec.Source{ID: "s0", Engine: mongoEngine}, redisEngine)
	if back.Dataset.Namespace != "3" || back.Dataset.Object != "keyspace" {
		t.Errorf("back into %s.%s, want 3.keyspace", back.Dataset.Namespace, back.Dataset.Object)
	}
	got, rj := convertAll(t, back, docs...)
	if len(rj) > 0 {
		t.Fatalf("rejects: %+v", rj)
	}
	want, have := rowsText(rec), rowsText(got...)
	if strings.Join(want, "\n") != strings.Join(have, "\n") {
		t.Errorf("round trip differs:\n%s\nwant\n%s", strings.Join(have, "\n"), strings.Join(want, "\n"))
	}
}

// TestRedisThroughMySQLInProcess: the same keyspace as table rows, the
// scores no DOUBLE holds in score_text, and back.
func TestRedisThroughMySQLInProcess(t *testing.T) {
	rec := edgeKeyspace()
	ds, src := redisDatasetOf(rec, keyspaceLayout)
	fwd := ruleFor(t, ds, src, "mysql")
	if !strings.Contains(fwd.Dataset.DDL, "COMMENT='imbundle:redis-keyspace-v1'") {
		t.Errorf("DDL without the marker:\n%s", fwd.Dataset.DDL)
	}
	tbl, rj := convertAll(t, fwd, rec)
	if len(rj) > 0 {
		t.Fatalf("rejects: %+v", rj)
	}
	if err := bundle.CheckComparable(tbl[0].Schema(), fwd.Dataset.Columns); err != nil {
		t.Fatal(err)
	}
	text := map[string]bool{}
	for _, r := range rowsText(tbl...) {
		if i := strings.Index(r, "score_text="); i >= 0 && !strings.HasPrefix(r[i:], "score_text=NULL") {
			text[strings.Fields(r[i:])[0]] = true
			if !strings.Contains(r, "score=NULL") {
				t.Errorf("a special score is also in score: %s", r)
			}
		}
	}
	if len(text) != 3 || !text["score_text=inf"] || !text["score_text=-inf"] || !text["score_text=-0"] {
		t.Errorf("score_text values %v, want inf, -inf, -0", text)
	}
	back := ruleFor(t, exported(fwd, "0", fmt.Sprint(rec.NumRows()-1)), &spec.Source{ID: "s0", Engine: "mysql"}, redisEngine)
	got, rj := convertAll(t, back, tbl...)
	if len(rj) > 0 {
		t.Fatalf("rejects: %+v", rj)
	}
	want, have := rowsText(rec), rowsText(got...)
	if strings.Join(want, "\n") != strings.Join(have, "\n") {
		t.Errorf("round trip differs:\n%s\nwant\n%s", strings.Join(have, "\n"), strings.Join(want, "\n"))
	}
}

// TestRedisBackOutOfOrder: parts read back out of ordinal order are
// refused before anything is read, rows out of order within a part stop
// the part, naming the fix.
func TestRedisBackOutOfOrder(t *testing.T) {
	rec := edgeKeyspace()
	ds, src := redisDatasetOf(rec, keyspaceLayout)
	fwd := ruleFor(t, ds, src, mongoEngine)
	two := *fwd.Dataset
	two.Parts = []spec.Part{
		{Path: "p0", Rows: 1, KeyRange: &spec.KeyRange{First: []string{`{"$numberLong":"5"}`}, Last: []string{`{"$numberLong":"9"}`}}},
		{Path: "p1", Rows: 1, KeyRange: &spec.KeyRange{First: []string{`{"$numberLong":"0"}`}, Last: []string{`{"$numberLong":"4"}`}}},
	}
	for _, c := range For(&two, &spec.Source{Engine: mongoEngine}) {
		if c.To == redisEngine && (c.Conversion == nil || len(c.Conversion.Refused) == 0 || !strings.Contains(c.Conversion.Refused[0], "--param sort=_id")) {
			t.Errorf("parts out of order: %+v, want a refusal naming --param sort=_id", c.Conversion)
		}
	}
	docs, _ := convertAll(t, fwd, rec)
	rows, _ := mongotype.RowsOf(docs[0])
	b := mongotype.NewBuilder(nil)
	b.Append(rows.Doc(3))
	b.Append(rows.Doc(2))
	// The part's key range looks ordered; its rows are not.
	back := ruleFor(t, exported(fwd, `{"$numberLong":"2"}`, `{"$numberLong":"3"}`), &spec.Source{Engine: mongoEngine}, redisEngine)
	in := sliceRecords{b.NewRecord()}
	_, err := back.Records(&in, 0, func(Reject) error { return nil }).Next()
	if err == nil || !strings.Contains(err.Error(), "--param sort=_id") {
		t.Errorf("rows out of order: %v, want an error naming --param sort=_id", err)
	}
}

// TestRedisBackRejects: a document someone changed into something the
// layout has no value for is a reject naming the field.
func TestRedisBackRejects(t *testing.T) {
	rec := edgeKeyspace()
	ds, src := redisDatasetOf(rec, keyspaceLayout)
	fwd := ruleFor(t, ds, src, mongoEngine)
	b := mongotype.NewBuilder(nil)
	for _, d := range []bson.D{
		{{Key: "_id", Value: int64(0)}, {Key: "key", Value: bson.Binary{Data: []byte("a")}}, {Key: "type", Value: "string"}, {Key: "value", Value: "text, not Binary"}, {Key: "elements", Value: int64(0)}, {Key: "seq", Value: int64(0)}},
		{{Key: "_id", Value: int64(1)}, {Key: "key", Value: bson.Binary{Data: []byte("b")}}, {Key: "type", Value: "string"}, {Key: "extra", Value: 1}, {Key: "seq", Value: int64(0)}},
		{{Key: "_id", Value: int64(2)}, {Key: "key", Value: bson.Binary{Data: []byte("c")}}, {Key: "type", Value: "string"}},
	} {
		raw, err := bson.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Append(raw); err != nil {
			t.Fatal(err)
		}
	}
	back := ruleFor(t, exported(fwd, `{"$numberLong":"0"}`, `{"$numberLong":"2"}`), &spec.Source{Engine: mongoEngine}, redisEngine)
	_, rj := convertAll(t, back, b.NewRecord())
	var reasons []string
	for _, r := range rj {
		reasons = append(reasons, r.Key[0]+": "+r.Reason)
	}
	all := strings.Join(reasons, "\n")
	for _, want := range []string{`"0"}: field value is string`, `"1"}: field "extra"`, `"2"}: field seq is missing`} {
		if !strings.Contains(all, want) {
			t.Errorf("rejects:\n%s\nwant one with %s", all, want)
		}
	}
}

// TestStreamStateConversions: the stream-state dataset takes the same
// two ways, into redis_db<N>_stream_state.
func TestStreamStateConversions(t *testing.T) {
	g := redistype.NewGroupsBuilder(1 << 30)
	g.Stream([]byte("st"), "5-0", 7, "")
	g.Group([]byte("st"), []byte{}, "1-1", redistype.NoCount)
	g.Consumer([]byte("st"), []byte{}, []byte{0xff})
	g.Pending([]byte("st"), []byte{}, []byte{0xff}, "1-1", 3)
	rec := g.Flush()
	ds, src := redisDatasetOf(rec, streamStateLayout)
	ds.Name, ds.Object = "redis.db3.stream-state", "stream-state"
	for _, to := range []string{mongoEngine, "mysql"} {
		fwd := ruleFor(t, ds, src, to)
		if fwd.Dataset.Object != "redis_db3_stream_state" {
			t.Errorf("%s: object %s", to, fwd.Dataset.Object)
		}
		mid, rj := convertAll(t, fwd, rec)
		if len(rj) > 0 {
			t.Fatal(rj)
		}
		first, last := "0", "3"
		if to == mongoEngine {
			first, last = `{"$numberLong":"0"}`, `{"$numberLong":"3"}`
		}
		back := ruleFor(t, exported(fwd, first, last), &spec.Source{Engine: to}, redisEngine)
		if back.Dataset.Options["layout"] != redistype.GroupsLayoutName || back.Dataset.Namespace != "3" {
			t.Errorf("%s: back as %+v", to, back.Dataset)
		}
		got, rj := convertAll(t, back, mid...)
		if len(rj) > 0 {
			t.Fatal(rj)
		}
		if w, h := strings.Join(rowsText(rec), "\n"), strings.Join(rowsText(got...), "\n"); w != h {
			t.Errorf("%s: round trip differs:\n%s\nwant\n%s", to, h, w)
		}
	}
}

// TestRedisValueOverDocumentLimit: a value that makes a document over
// MongoDB's 16 MiB is a reject naming the key; the rows around it convert.
func TestRedisValueOverDocumentLimit(t *testing.T) {
	b := redistype.NewBuilder(1 << 30)
	b.StringKey([]byte("small"), []byte("v"), redistype.NoExpiry)
	b.StringKey([]byte("huge"), make([]byte, 16<<20), redistype.NoExpiry)
	b.StringKey([]byte("after"), []byte("v"), redistype.NoExpiry)
	rec := b.Flush()
	ds, src := redisDatasetOf(rec, keyspaceLayout)
	docs, rj := convertAll(t, ruleFor(t, ds, src, mongoEngine), rec)
	if len(rj) != 1 || rj[0].Key[0] != "0x68756765" || !strings.Contains(rj[0].Reason, "16 MiB") {
		t.Fatalf("rejects %+v, want the key huge (0x68756765) over 16 MiB", rj)
	}
	if n := docs[0].NumRows(); n != 2 {
		t.Errorf("%d documents, want 2", n)
	}
}

// TestMarkedTableNotTheLayout: a table whose COMMENT is the marker but
// whose columns or key are not the rule's is refused by name, never read
// as something else.
func TestMarkedTableNotTheLayout(t *testing.T) {
	rec := edgeKeyspace()
	ds, src := redisDatasetOf(rec, keyspaceLayout)
	fwd := ruleFor(t, ds, src, "mysql")
	for name, change := range map[string]func(d *spec.Dataset){
		"column score_text is missing": func(d *spec.Dataset) { d.Columns = append(d.Columns[:6:6], d.Columns[7:]...) },
		"column seq is large_utf8":     func(d *spec.Dataset) { d.Columns[len(d.Columns)-1].Type = "large_utf8" },
		"primary key is [key seq]":     func(d *spec.Dataset) { d.PrimaryKey = []string{"key", "seq"} },
		"column note is not the layout's": func(d *spec.Dataset) {
			d.Columns = append(d.Columns, spec.Column{Name: "note", Type: "large_utf8", Nullable: true})
		},
	} {
		d := exported(fwd, "0", "1")
		d.Columns = append([]spec.Column(nil), d.Columns...)
		change(d)
		var refused []string
		for _, c := range For(d, &spec.Source{Engine: "mysql"}) {
			if c.To == redisEngine && c.Conversion != nil {
				refused = c.Conversion.Refused
			}
		}
		if len(refused) != 1 || !strings.Contains(refused[0], name) {
			t.Errorf("%s: refused %q", name, refused)
		}
	}
}
