package convert

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/mongotype"
	"github.com/imbundle/imbundle/spec"
)

var chatSchema = arrow.NewSchema([]arrow.Field{
	{Name: "server_msg_id", Type: arrow.BinaryTypes.LargeString},
	{Name: "conversation_id", Type: arrow.BinaryTypes.LargeString},
	{Name: "seq", Type: arrow.PrimitiveTypes.Int64},
	{Name: "content", Type: arrow.BinaryTypes.LargeString, Nullable: true},
	{Name: "score", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
}, nil)

type chatRow struct {
	id, conv string
	seq      int64
	content  string
}

func chatBatch(rows []chatRow) arrow.RecordBatch {
	b := array.NewRecordBuilder(memory.DefaultAllocator, chatSchema)
	defer b.Release()
	for _, r := range rows {
		b.Field(0).(*array.LargeStringBuilder).Append(r.id)
		b.Field(1).(*array.LargeStringBuilder).Append(r.conv)
		b.Field(2).(*array.Int64Builder).Append(r.seq)
		b.Field(3).(*array.LargeStringBuilder).Append(r.content)
		b.Field(4).AppendNull()
	}
	return b.NewRecordBatch()
}

func chatDataset(rows int64) *spec.Dataset {
	return &spec.Dataset{Name: "im.chat_logs", Kind: spec.KindTable, Namespace: "im", Object: "chat_logs", PrimaryKey: []string{"server_msg_id"},
		Columns: bundle.ColumnsOf(chatSchema), Rows: rows, Parts: []spec.Part{{Path: "p0", Rows: rows / 2}, {Path: "p1", Rows: rows - rows/2}}}
}

const nestYAML = `version: 1
datasets:
  - match: im.chat_logs
    target: msg
    drop: [score]
    rename: {content: msg.content, seq: msg.seq, server_msg_id: msg.server_msg_id}
    nest:
      by: "conversation_id + ':' + string(int((seq - 1) / 100))"
      into: msgs
      order: [seq]
      key: doc_id
`

func nestConversion(t *testing.T, ds *spec.Dataset, yaml string) *Conversion {
	t.Helper()
	m, err := ParseMapping("m.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range ForMapped(ds, &spec.Source{Engine: "mysql"}, m.For(ds.Name)) {
		if c.To == "mongodb" {
			if c.Err != nil {
				t.Fatal(c.Err)
			}
			return c.Conversion
		}
	}
	t.Fatal("no conversion to mongodb")
	return nil
}

// TestNestSpillsManyRuns: rows of several conversations, in scattered
// seq order over many batches, become one document per 100 seqs of a
// conversation, the rows in seq order; a 1 MiB sort budget writes many
// runs, and the output is what an in-memory grouping gives; the run files
// are gone at the end.
func TestNestSpillsManyRuns(t *testing.T) {
	var rows []chatRow
	pad := strings.Repeat("x", 900)
	for i := 0; i < 12000; i++ {
		conv := fmt.Sprintf("si_%d", i%7)
		seq := int64((i*7919)%12000/7 + 1) // scattered, repeats across conversations
		rows = append(rows, chatRow{id: fmt.Sprint("m", i), conv: conv, seq: seq, content: fmt.Sprint(pad, i)})
	}
	var batches []arrow.RecordBatch
	for i := 0; i < len(rows); i += 500 {
		batches = append(batches, chatBatch(rows[i:i+500]))
	}
	c := nestConversion(t, chatDataset(int64(len(rows))), nestYAML)
	if len(c.Refused) > 0 || c.Rule != ruleNest || !c.Whole || len(c.Dataset.Parts) != 1 || c.Dataset.Object != "msg" {
		t.Fatalf("conversion: %s whole=%v parts=%d refused %v", c.Rule, c.Whole, len(c.Dataset.Parts), c.Refused)
	}
	dir := t.TempDir()
	c.Spill = Spill{Dir: dir, Memory: 1 << 20}
	in := sliceRecords(batches)
	var rejects []Reject
	recs := c.Records(&in, 0, func(rj Reject) error { rejects = append(rejects, rj); return nil })
	var docs []bson.Raw
	runs := 0
	for {
		rec, err := recs.Next()
		if runs == 0 {
			files, _ := filepath.Glob(filepath.Join(dir, "imbundle-sort-*.run"))
			runs = len(files)
		}
		if err != nil {
			break
		}
		r, err := mongotype.RowsOf(rec)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < r.Len(); i++ {
			docs = append(docs, append(bson.Raw(nil), r.Doc(i)...))
		}
	}
	if runs < 10 {
		t.Errorf("%d runs spilled, want at least 10 with a 1 MiB budget", runs)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("files left: %v", left)
	}
	if len(rejects) != 0 {
		t.Fatalf("rejects: %+v", rejects)
	}
	// The expected documents, grouped in memory.
	type group struct {
		key  string
		rows []chatRow
	}
	byKey := map[string]*group{}
	for _, r := range rows {
		k := fmt.Sprintf("%s:%d", r.conv, (r.seq-1)/100)
		if byKey[k] == nil {
			byKey[k] = &group{key: k}
		}
		byKey[k].rows = append(byKey[k].rows, r)
	}
	var keys []string
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(docs) != len(keys) {
		t.Fatalf("%d documents, want %d", len(docs), len(keys))
	}
	for n, k := range keys {
		g := byKey[k]
		sort.SliceStable(g.rows, func(i, j int) bool { return g.rows[i].seq < g.rows[j].seq })
		var msgs bson.A
		for _, r := range g.rows {
			msgs = append(msgs, bson.D{{Key: "msg", Value: bson.D{{Key: "server_msg_id", Value: r.id}, {Key: "seq", Value: r.seq}, {Key: "content", Value: r.content}}},
				{Key: "conversation_id", Value: r.conv}})
		}
		want, _ := bson.Marshal(bson.D{{Key: "_id", Value: k}, {Key: "doc_id", Value: k}, {Key: "msgs", Value: msgs}})
		if string(want) != string(docs[n]) {
			t.Fatalf("document %d:\n got %s\nwant %s", n, shorten(docs[n].String()), shorten(bson.Raw(want).String()))
		}
	}
}

func shorten(s string) string {
	if len(s) > 600 {
		return s[:600] + "..."
	}
	return s
}

// TestNestRejects: a group whose document would pass 16 MiB is one reject
// naming the group, the other groups convert; a row whose group key is no
// string or integer, or fails, is a reject of its own; filtered rows are
// counted as filtered.
func TestNestRejects(t *testing.T) {
	big := strings.Repeat("y", 1<<20)
	var rows []chatRow
	for i := 0; i < 17; i++ {
		rows = append(rows, chatRow{id: fmt.Sprint("b", i), conv: "huge", seq: int64(i + 1), content: big})
	}
	rows = append(rows, chatRow{id: "s1", conv: "small", seq: 2, content: "two"}, chatRow{id: "s0", conv: "small", seq: 1, content: "one"},
		chatRow{id: "f", conv: "filtered", seq: 1, content: "gone"}, chatRow{id: "z", conv: "zero", seq: 0, content: "no key"})
	yaml := `version: 1
datasets:
  - match: im.chat_logs
    drop: [score, conversation_id]
    filter: "conversation_id != 'filtered'"
    nest: {by: "seq == 0 ? 1.5 : conversation_id", into: rows, order: [seq]}
`
	c := nestConversion(t, chatDataset(int64(len(rows))), yaml)
	if len(c.Refused) > 0 {
		t.Fatal(c.Refused)
	}
	c.Spill = Spill{Dir: t.TempDir()}
	out, rejects := convertAll(t, c, chatBatch(rows))
	var docs []string
	for _, rec := range out {
		r, _ := mongotype.RowsOf(rec)
		for i := 0; i < r.Len(); i++ {
			docs = append(docs, r.Doc(i).String())
		}
	}
	want := `{"_id": "small","rows": [{"server_msg_id": "s0","seq": {"$numberLong":"1"},"content": "one"},{"server_msg_id": "s1","seq": {"$numberLong":"2"},"content": "two"}]}`
	if len(docs) != 1 || docs[0] != want {
		t.Errorf("documents %v, want [%s]", docs, want)
	}
	var reasons []string
	filtered := 0
	for _, rj := range rejects {
		if rj.Filtered {
			filtered++
			continue
		}
		reasons = append(reasons, strings.Join(rj.Key, ",")+": "+rj.Reason)
	}
	got := strings.Join(reasons, "\n")
	if filtered != 1 || len(reasons) != 2 || !strings.Contains(got, "z: nest.by (m.yaml:6:16) is a float64 (1.5)") ||
		!strings.Contains(got, "huge: the document of group huge (nest.by at m.yaml:6:16) would pass 16 MiB, BSON's limit, with its 17 rows") {
		t.Errorf("filtered %d, rejects:\n%s", filtered, got)
	}
}

// TestNestRefusals: mistakes in the nest key fail at FILE:LINE:COLUMN when
// the file is read, or refuse the conversion against the table; nest on
// any other rule is refused.
func TestNestRefusals(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"  - match: a\n    nest: {into: m}\n", "m.yaml:4:11: nest needs by"},
		{"  - match: a\n    nest: {by: x}\n", "m.yaml:4:11: nest needs into"},
		{"  - match: a\n    nest: {by: x, into: a.b}\n", "m.yaml:4:25: nest into a.b: a top-level field"},
		{"  - match: a\n    nest: {by: x, into: _id}\n", "m.yaml:4:25: nest into _id"},
		{"  - match: a\n    nest: {by: x, into: m, key: m}\n", "m.yaml:4:33: nest key m is also the into field"},
		{"  - match: a\n    nest: {by: x, into: m, order: [s, s]}\n", "m.yaml:4:39: nest order names s twice"},
		{"  - match: a\n    nest: {by: x, into: m, bogus: 1}\n", "m.yaml:4:28: unknown field \"bogus\""},
		{"  - match: a\n    unnest: {field: f}\n    nest: {by: x, into: m}\n", "m.yaml:5:11: nest takes no unnest or keys beside it"},
	} {
		_, err := ParseMapping("m.yaml", []byte("version: 1\ndatasets:\n"+c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.yaml, err, c.want)
		}
	}
	conv := nestConversion(t, chatDataset(2), `version: 1
datasets:
  - match: im.chat_logs
    nest: {by: "nope + 1", into: m, order: [score, gone]}
`)
	refused := strings.Join(conv.Refused, "\n")
	for _, want := range []string{"m.yaml:4:16: unknown name nope", "m.yaml:4:45: nest order score (float64): rows are ordered by integer, text or date columns only", "m.yaml:4:52: nest order gone: im.chat_logs has no such column"} {
		if !strings.Contains(refused, want) {
			t.Errorf("refusals lack %q:\n%s", want, refused)
		}
	}
	coll := &spec.Dataset{Name: "im.msg", Kind: spec.KindCollection, Namespace: "im", Object: "msg", Columns: bundle.ColumnsOf(mongotype.Schema()), PrimaryKey: mongotype.PrimaryKey}
	m, _ := ParseMapping("m.yaml", []byte("version: 1\ndatasets:\n  - match: im.msg\n    nest: {by: x, into: m}\n"))
	for _, cand := range ForMapped(coll, &spec.Source{Engine: "mongodb"}, m.For("im.msg")) {
		if cand.Conversion != nil && !strings.Contains(strings.Join(cand.Conversion.Refused, "\n"), "m.yaml:4:11: nest groups the rows of a MySQL table going to MongoDB") {
			t.Errorf("%s: nest not refused: %v", cand.Conversion.Rule, cand.Conversion.Refused)
		}
	}
}

// TestNestIntegerGroups: an integer group key is an Int64 _id, groups in
// numeric order (negative first), before string keys; a NULL key is a
// reject; without order, a group's rows keep the bundle's order; computed
// fields (dotted: nested) are in each element.
func TestNestIntegerGroups(t *testing.T) {
	rows := []chatRow{{id: "a", conv: "x", seq: 3}, {id: "b", conv: "x", seq: -2}, {id: "c", conv: "x", seq: 5}, {id: "d", conv: "x", seq: 0},
		{id: "e", conv: "s", seq: 7}, {id: "f", conv: "n", seq: 1}}
	yaml := `version: 1
datasets:
  - match: im.chat_logs
    drop: [score, content, conversation_id, server_msg_id]
    compute: {x.ten: "seq * 10"}
    nest: {by: "conversation_id == 's' ? 'str' : conversation_id == 'n' ? nil : seq % 2 - 1", into: r}
`
	c := nestConversion(t, chatDataset(int64(len(rows))), yaml)
	if len(c.Refused) > 0 {
		t.Fatal(c.Refused)
	}
	out, rejects := convertAll(t, c, chatBatch(rows))
	var docs []string
	for _, rec := range out {
		r, _ := mongotype.RowsOf(rec)
		for i := 0; i < r.Len(); i++ {
			docs = append(docs, r.Doc(i).String())
		}
	}
	want := []string{
		`{"_id": {"$numberLong":"-1"},"r": [{"seq": {"$numberLong":"-2"},"x": {"ten": {"$numberLong":"-20"}}},{"seq": {"$numberLong":"0"},"x": {"ten": {"$numberLong":"0"}}}]}`,
		`{"_id": {"$numberLong":"0"},"r": [{"seq": {"$numberLong":"3"},"x": {"ten": {"$numberLong":"30"}}},{"seq": {"$numberLong":"5"},"x": {"ten": {"$numberLong":"50"}}}]}`,
		`{"_id": "str","r": [{"seq": {"$numberLong":"7"},"x": {"ten": {"$numberLong":"70"}}}]}`,
	}
	if strings.Join(docs, "\n") != strings.Join(want, "\n") {
		t.Errorf("documents:\n%s\nwant\n%s", strings.Join(docs, "\n"), strings.Join(want, "\n"))
	}
	if len(rejects) != 1 || rejects[0].Key[0] != "f" || rejects[0].Row != 5 || !strings.Contains(rejects[0].Reason, "is null: a group key is a string or an integer") {
		t.Errorf("rejects %+v, want row 5 (f) for its NULL group key", rejects)
	}
}
