package convert

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/mongotype"
	"github.com/imbundle/imbundle/spec"
)

// chatLogs is a chat_logs-like existing table.
func chatLogs() *spec.Dataset {
	col := func(name, typ string, null bool) spec.Column {
		return spec.Column{Name: name, Type: typ, Nullable: null}
	}
	return &spec.Dataset{Name: "im.chat_logs", Kind: spec.KindTable, Namespace: "im", Object: "chat_logs", PrimaryKey: []string{"server_msg_id"},
		DDL: "CREATE TABLE `chat_logs` (\n  `server_msg_id` varchar(64) NOT NULL\n) ENGINE=InnoDB",
		Columns: []spec.Column{col("server_msg_id", "large_utf8", false), col("send_id", "large_utf8", true), col("conv", "large_utf8", true),
			col("seq", "int64", true), col("msg_index", "int32", true), col("send_time", "timestamp[ms]", true), col("status", "int32", false),
			col("label", "large_utf8", true)}}
}

func msgCollection(docs ...bson.D) (*spec.Dataset, *spec.Source, Records) {
	b := mongotype.NewBuilder(nil)
	for _, d := range docs {
		raw, err := bson.Marshal(d)
		if err != nil {
			panic(err)
		}
		if err := b.Append(raw); err != nil {
			panic(err)
		}
	}
	ds := &spec.Dataset{Name: "im.msg", Kind: spec.KindCollection, Namespace: "im", Object: "msg", PrimaryKey: mongotype.PrimaryKey,
		Columns: bundle.ColumnsOf(mongotype.Schema()), Parts: []spec.Part{{Rows: int64(len(docs))}}, Rows: int64(len(docs))}
	return ds, &spec.Source{ID: "s0", Engine: "mongodb"}, &oneBatch{rec: b.NewRecord()}
}

// ontoTable is the conversion of ds into an existing table as the import
// makes it: the rule taking the entry d, then onto the table.
func ontoTable(ds *spec.Dataset, src *spec.Source, into *spec.Dataset, d *DatasetRule) (*Conversion, error) {
	for _, cand := range ForMapped(ds, src, d) {
		if cand.To == "mysql" {
			if cand.Err != nil {
				return nil, cand.Err
			}
			return Onto(cand.Conversion, ds, src, "mysql", into)
		}
	}
	return nil, fmt.Errorf("no conversion to mysql")
}

func msgEntry(t testing.TB, yaml string) *DatasetRule {
	t.Helper()
	m, err := ParseMapping("m.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return m.For("im.msg")
}

const msgMapping = `version: 1
datasets:
  - match: im.msg
    target: chat_logs
    unnest: {field: msgs, index: msg_index}
    rename:
      msgs.msg.server_msg_id: server_msg_id
      msgs.msg.send_id: send_id
      msgs.msg.seq: seq
      doc_id: conv
    filter: "msgs.msg != nil"
    compute:
      send_time: "fromUnixMilli(msgs.msg.send_time)"
      label: "doc_id + '#' + string(msg_index)"
    defaults: {status: 2}
`

// TestUnnestIntoExistingTable: each element of msgs is a row, read through
// dotted names, its position in msg_index, the document's doc_id repeated;
// an empty slot is filtered, an empty or missing array gives no row
// (filtered), a non-array is a reject naming the field, and a bad element
// a reject naming its position.
func TestUnnestIntoExistingTable(t *testing.T) {
	msg := func(id, from string, seq int64) bson.D {
		return bson.D{{Key: "msg", Value: bson.D{{Key: "server_msg_id", Value: id}, {Key: "send_id", Value: from}, {Key: "seq", Value: seq}, {Key: "send_time", Value: int64(1700000000123)}}}, {Key: "is_read", Value: false}}
	}
	empty := bson.D{{Key: "msg", Value: nil}, {Key: "del_list", Value: bson.A{}}}
	ds, src, in := msgCollection(
		bson.D{{Key: "_id", Value: int32(1)}, {Key: "doc_id", Value: "si_a_b:0"}, {Key: "msgs", Value: bson.A{msg("m1", "a", 1), empty, msg("m3", "b", 3)}}},
		bson.D{{Key: "_id", Value: int32(2)}, {Key: "doc_id", Value: "si_a_c:0"}, {Key: "msgs", Value: bson.A{}}},
		bson.D{{Key: "_id", Value: int32(3)}, {Key: "doc_id", Value: "x"}},
		bson.D{{Key: "_id", Value: int32(4)}, {Key: "doc_id", Value: "y"}, {Key: "msgs", Value: "nope"}},
		bson.D{{Key: "_id", Value: int32(5)}, {Key: "doc_id", Value: "z"}, {Key: "msgs", Value: bson.A{msg("m9", "c", 9), bson.D{{Key: "msg", Value: bson.D{{Key: "server_msg_id", Value: int32(7)}}}}}}},
	)
	conv, err := ontoTable(ds, src, chatLogs(), msgEntry(t, msgMapping))
	if err != nil || conv == nil || len(conv.Refused) > 0 {
		t.Fatalf("conversion: %v %+v", err, conv)
	}
	var rejects, filtered []string
	var values []map[string]any
	recs := conv.Records(in, 0, func(rj Reject) error {
		s := fmt.Sprintf("row %d %v: %s", rj.Row, rj.Key, rj.Reason)
		if !rj.Filtered {
			values = append(values, rj.Values)
		}
		if rj.Filtered {
			filtered = append(filtered, s)
		} else {
			rejects = append(rejects, s)
		}
		return nil
	})
	var got []string
	for {
		rec, err := recs.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			var vals []string
			for c := 0; c < int(rec.NumCols()); c++ {
				vals = append(vals, fmt.Sprint(rec.Column(c).GetOneForMarshal(i)))
			}
			got = append(got, strings.Join(vals, "|"))
		}
	}
	want := []string{
		"m1|a|si_a_b:0|1|0|2023-11-14T22:13:20.123|2|si_a_b:0#0",
		"m3|b|si_a_b:0|3|2|2023-11-14T22:13:20.123|2|si_a_b:0#2",
		"m9|c|z|9|0|2023-11-14T22:13:20.123|2|z#0",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	wantF := []string{"row 0 [{\"$numberInt\":\"1\"}]: element 1 of msgs: left out by the filter at m.yaml:11:13", "row 1 [{\"$numberInt\":\"2\"}]: unnest: msgs is empty", "row 2 [{\"$numberInt\":\"3\"}]: unnest: the document has no field msgs"}
	wantR := []string{"row 3 [{\"$numberInt\":\"4\"}]: unnest: field msgs is string, not an array", "row 4 [{\"$numberInt\":\"5\"}]: element 1 of msgs: field msgs.msg.server_msg_id (32-bit integer) into column server_msg_id: not a String"}
	for i, w := range wantF {
		if i >= len(filtered) || !strings.HasPrefix(filtered[i], w) {
			t.Errorf("filtered %q, want %q", filtered, wantF)
			break
		}
	}
	if len(values) == 2 && (fmt.Sprint(values[1]) != `map[_id_json:{"$numberInt":"5"} msgs.1:{"msg":{"server_msg_id":{"$numberInt":"7"}}}]` || values[0]["doc"] == nil) {
		t.Errorf("reject values %v: want the whole document for a document, _id and the element for an element", values)
	}
	for i, w := range wantR {
		if i >= len(rejects) || !strings.HasPrefix(rejects[i], w) {
			t.Errorf("rejects %q, want %q", rejects, wantR)
			break
		}
	}
}

// TestDocMappingRefusals: an entry naming what the table or the documents
// lack refuses the conversion at the entry's line, before any row.
func TestDocMappingRefusals(t *testing.T) {
	ds, src, _ := msgCollection()
	for _, c := range []struct{ entry, want string }{
		{"    rename: {msgs.msg.send_id: nope}\n", "m.yaml:4:32: rename msgs.msg.send_id: the table has no column nope"},
		{"    unnest: {field: msgs, index: nope}\n", "m.yaml:4:34: unnest index: the table has no column nope"},
		{"    unnest: {field: msgs, index: send_id}\n", "does not take an integer"},
		{"    filter: \"msgz.msg != nil\"\n", "m.yaml:4:13: unknown name msgz"},
		{"    compute: {nope: \"1\"}\n", "computed column nope: the table has no column nope"},
		{"    compute: {seq: \"1\"}\n    rename: {a.b: seq}\n", "would both fill column seq"},
		{"    defaults: {seq: \"x\"}\n", "default for seq (string): not a number"},
		{"    cast: {nope: string}\n", "m.yaml:4:18: cast nope: the table has no column nope"},
		{"    cast: {seq: int64}\n    defaults: {seq: \"1.5\"}\n", "default for seq (string): cast to int64: 3/2 is not a whole number"},
		{"    drop: [a.b]\n", "drop takes top-level fields"},
		{"    unnest: {field: msgs}\n    drop: [msgs]\n", "it is the field unnested"},
		{"    rename: {who.name: send_id}\n    drop: [who]\n", "drop who: a rename reads it"},
	} {
		d := msgEntry(t, "version: 1\ndatasets:\n  - match: im.msg\n"+c.entry)
		conv, err := ontoTable(ds, src, chatLogs(), d)
		if err != nil {
			t.Fatal(err)
		}
		if r := strings.Join(conv.Refused, "\n"); !strings.Contains(r, c.want) {
			t.Errorf("%q: refused %q, want %q", c.entry, r, c.want)
		}
	}
	// Without the table (plan): an expression that does not parse is
	// refused already.
	for _, cand := range ForMapped(ds, src, msgEntry(t, "version: 1\ndatasets:\n  - match: im.msg\n    filter: \"msgs.msg !=\"\n")) {
		if cand.To == "mysql" && !strings.Contains(strings.Join(cand.Conversion.Refused, ""), "m.yaml:4:13: ") {
			t.Errorf("a filter that does not parse, for plan: %+v", cand.Conversion.Refused)
		}
	}
	// Without the table (plan): the entry is noted and needs the table.
	d := msgEntry(t, msgMapping)
	for _, cand := range ForMapped(ds, src, d) {
		if cand.To != "mysql" {
			continue
		}
		c := cand.Conversion
		if !c.NeedsExisting() || c.Rule != ruleMongoIntoMySQL || len(c.Refused) > 0 || !strings.Contains(strings.Join(c.Notes, "\n"), "field msgs.msg.send_id into column send_id (m.yaml:") {
			t.Errorf("the documents rule with a field-changing entry: %+v", c)
		}
		if _, err := Onto(c, ds, src, "mysql", nil); err == nil || !strings.Contains(err.Error(), "there is no such table: the mapping entry at m.yaml:3:12 changes fields") {
			t.Errorf("onto no table: %v", err)
		}
	}
}

// TestDocExpressionValues: how BSON values appear to expressions.
func TestDocExpressionValues(t *testing.T) {
	oid := bson.NewObjectID()
	for _, c := range []struct {
		v    any
		want any
	}{
		{int32(7), 7}, {int64(1) << 40, 1 << 40}, {2.5, 2.5}, {"s", "s"}, {true, true}, {nil, nil},
		{bson.DateTime(1700000000123), time.UnixMilli(1700000000123).UTC()},
		{oid, oid.Hex()},
		{dec(t, "1.50"), `{"$numberDecimal":"1.50"}`},
	} {
		v := bson.RawValue{Type: bson.TypeNull}
		if c.v != nil {
			v = rawOf(t, c.v)
		}
		if got := bsonAny(v); fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%v: %#v, want %#v", c.v, got, c.want)
		}
	}
	got := bsonAny(rawOf(t, bson.D{{Key: "a", Value: bson.A{int32(1), "x"}}}))
	if fmt.Sprint(got) != "map[a:[1 x]]" {
		t.Errorf("sub-document: %v", got)
	}
}

// TestDocMappingWithoutUnnest: renames (top-level, dotted, of _id), drop
// and defaults onto an existing table, one row per document; a field the
// table lacks is still a reject, a nested value under a string a reject
// naming the path; a documents table takes no such entry.
func TestDocMappingWithoutUnnest(t *testing.T) {
	ds, src, in := msgCollection(
		bson.D{{Key: "_id", Value: "k1"}, {Key: "who", Value: bson.D{{Key: "name", Value: "ann"}, {Key: "age", Value: int32(3)}}}, {Key: "tmp", Value: int32(1)}, {Key: "seq", Value: int64(5)}},
		bson.D{{Key: "_id", Value: "k2"}, {Key: "who", Value: nil}, {Key: "seq", Value: nil}},
		bson.D{{Key: "_id", Value: "k3"}, {Key: "who", Value: "text"}},
		bson.D{{Key: "_id", Value: "k4"}, {Key: "extra", Value: int32(1)}},
	)
	d := msgEntry(t, "version: 1\ndatasets:\n  - match: im.msg\n    rename: {_id: server_msg_id, who.name: send_id}\n    drop: [tmp]\n    defaults: {status: 1, seq: -1}\n")
	conv, err := ontoTable(ds, src, chatLogs(), d)
	if err != nil || len(conv.Refused) > 0 {
		t.Fatalf("%v %v", err, conv.Refused)
	}
	var rejects []string
	recs := conv.Records(in, 0, func(rj Reject) error { rejects = append(rejects, rj.Reason); return nil })
	var got []string
	for {
		rec, err := recs.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			var vals []string
			for c := 0; c < int(rec.NumCols()); c++ {
				vals = append(vals, fmt.Sprint(rec.Column(c).GetOneForMarshal(i)))
			}
			got = append(got, strings.Join(vals, "|"))
		}
	}
	want := "k1|ann|<nil>|5|<nil>|<nil>|1|<nil>\nk2|<nil>|<nil>|-1|<nil>|<nil>|1|<nil>"
	if strings.Join(got, "\n") != want {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
	}
	if len(rejects) != 2 || !strings.Contains(rejects[0], "field who.name: who is string, which has no field name") || !strings.Contains(rejects[1], "field extra: the table has no column extra") {
		t.Errorf("rejects %q", rejects)
	}

	// A documents table keeps documents whole.
	docs := &spec.Dataset{Name: "im.msg", Kind: spec.KindTable, Namespace: "im", Object: "msg", PrimaryKey: []string{"_id"},
		Columns: bundle.ColumnsOf(documentsSchema()), DDL: documentsDDL("msg")}
	conv, err = ontoTable(ds, src, docs, d)
	if err != nil || !strings.Contains(strings.Join(conv.Refused, ""), "is a documents table") {
		t.Errorf("a documents table with a field-changing entry: %v %+v", err, conv)
	}
}

// TestDocCasts: a cast onto an existing table's column is exact or says
// why.
func TestDocCasts(t *testing.T) {
	for _, c := range []struct {
		to   string
		v    any
		want string // the cast value's Extended JSON, or a fragment of why
	}{
		{"string", int64(-12), `"-12"`}, {"string", int32(7), `"7"`}, {"string", 0.1, `"0.1"`}, {"string", dec(t, "1.50"), `"1.50"`},
		{"string", "x", `"x"`}, {"string", true, "has no text of its own"},
		{"int64", "42", `{"$numberLong":"42"}`}, {"int64", 3.0, `{"$numberLong":"3"}`}, {"int64", 3.5, "not a whole number"},
		{"int64", "0x10", "is not a number"}, {"int64", "1_0", "is not a number"}, {"int64", "9223372036854775808", "not a whole number in int64's range"},
		{"double", "1.25", `{"$numberDouble":"1.25"}`}, {"double", "0.1", "no exact double"}, {"double", int64(1<<53 + 1), "no exact double"},
		{"double", dec(t, "2.5"), `{"$numberDouble":"2.5"}`},
	} {
		got, why := docCastTo(c.to)(rawOf(t, c.v))
		if why != "" {
			if !strings.Contains(why, c.want) {
				t.Errorf("%v to %s: %s, want %s", c.v, c.to, why, c.want)
			}
			continue
		}
		if js := extJSON(got); js != c.want {
			t.Errorf("%v to %s: %s, want %s", c.v, c.to, js, c.want)
		}
	}
}

// TestUnnestBatchesStayBounded: a document whose elements make more than
// mappedBatchBytes of cells is split over several output batches, rows in
// array order, none lost or doubled, and the next document follows.
func TestUnnestBatchesStayBounded(t *testing.T) {
	big := strings.Repeat("x", 2000)
	var arr bson.A
	for j := 0; j < 3000; j++ {
		arr = append(arr, bson.D{{Key: "msg", Value: bson.D{{Key: "server_msg_id", Value: fmt.Sprintf("m%04d", j)}, {Key: "send_id", Value: big}}}})
	}
	ds, src, in := msgCollection(
		bson.D{{Key: "_id", Value: int32(1)}, {Key: "msgs", Value: arr}},
		bson.D{{Key: "_id", Value: int32(2)}, {Key: "msgs", Value: bson.A{bson.D{{Key: "msg", Value: bson.D{{Key: "server_msg_id", Value: "last"}}}}}}},
	)
	d := msgEntry(t, "version: 1\ndatasets:\n  - match: im.msg\n    unnest: {field: msgs, index: msg_index}\n    rename: {msgs.msg.server_msg_id: server_msg_id, msgs.msg.send_id: send_id}\n    defaults: {status: 0}\n")
	conv, err := ontoTable(ds, src, chatLogs(), d)
	if err != nil || len(conv.Refused) > 0 {
		t.Fatalf("%v %+v", err, conv)
	}
	recs := conv.Records(in, 0, func(rj Reject) error { t.Errorf("reject %+v", rj); return nil })
	var ids []string
	batches := 0
	for {
		rec, err := recs.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		batches++
		for i := 0; i < int(rec.NumRows()); i++ {
			ids = append(ids, fmt.Sprint(rec.Column(0).GetOneForMarshal(i)))
		}
	}
	if batches < 2 || len(ids) != 3001 || ids[0] != "m0000" || ids[2999] != "m2999" || ids[3000] != "last" {
		t.Errorf("%d batches, %d rows (%v ... %v), want the 3001 rows in order over several batches", batches, len(ids), ids[:1], ids[len(ids)-2:])
	}
	for j := 1; j < 3000; j++ {
		if ids[j] != fmt.Sprintf("m%04d", j) {
			t.Fatalf("row %d is %s", j, ids[j])
		}
	}
}

// BenchmarkUnnestOpenIM converts OpenIM-like msg documents (100 messages
// each) into chat_logs rows by unnest, dotted renames, a filter and
// computed columns: rows/s is the measure (no threshold anywhere).
func BenchmarkUnnestOpenIM(b *testing.B) {
	var docs []bson.D
	for n := 0; n < 200; n++ {
		var arr bson.A
		for j := 0; j < 100; j++ {
			arr = append(arr, bson.D{{Key: "msg", Value: bson.D{{Key: "server_msg_id", Value: fmt.Sprintf("s%d_%d", n, j)}, {Key: "send_id", Value: "u1"},
				{Key: "seq", Value: int64(j + 1)}, {Key: "send_time", Value: int64(1700000000123)}, {Key: "content", Value: `{"content":"hello there"}`}}},
				{Key: "revoke", Value: nil}, {Key: "del_list", Value: bson.A{}}, {Key: "is_read", Value: false}})
		}
		docs = append(docs, bson.D{{Key: "_id", Value: int32(n)}, {Key: "doc_id", Value: fmt.Sprintf("si_u1_u2:%d", n)}, {Key: "msgs", Value: arr}})
	}
	d := msgEntry(b, msgMapping)
	ds, src, all := msgCollection(docs...)
	rec, _ := all.Next()
	b.ResetTimer()
	rows := 0
	for i := 0; i < b.N; i++ {
		in := &oneBatch{rec: rec}
		conv, err := ontoTable(ds, src, chatLogs(), d)
		if err != nil || len(conv.Refused) > 0 {
			b.Fatalf("%v %v", err, conv.Refused)
		}
		recs := conv.Records(in, 0, func(rj Reject) error { return fmt.Errorf("reject %+v", rj) })
		for {
			rec, err := recs.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			rows += int(rec.NumRows())
			rec.Release()
		}
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

// TestSparseBinding: a name read only through constant member chains is
// bound with just those sub-fields; any other use binds it whole.
func TestSparseBinding(t *testing.T) {
	uses := map[string]*fieldUse{}
	addUses(uses, `a.b.c == 1 && a["x"] != nil && len(w) > 0`)
	addUses(uses, `k.p.q + k.p`)
	doc := rawOf(t, bson.D{{Key: "b", Value: bson.D{{Key: "c", Value: int32(1)}, {Key: "d", Value: int32(2)}}}, {Key: "x", Value: bson.A{"y"}}, {Key: "z", Value: "no"}})
	if got := fmt.Sprint(sparseAny(doc, uses["a"])); got != "map[b:map[c:1] x:[y]]" {
		t.Errorf("a bound as %s", got)
	}
	if !uses["w"].whole || uses["k"].whole || !uses["k"].kids["p"].whole {
		t.Errorf("uses w %+v k %+v", uses["w"], uses["k"])
	}
	if got := fmt.Sprint(sparseAny(doc, uses["w"])); got != "map[b:map[c:1 d:2] x:[y] z:no]" {
		t.Errorf("w bound as %s", got)
	}
}

// TestDocMappingDropIDAndFailingExpressions: drop: [_id] leaves _id out
// (the primary key then comes from the field of its name); a filter or a
// computed column that fails on a row makes it a reject with the error,
// and a computed value no column rule takes is a reject naming the column.
func TestDocMappingDropIDAndFailingExpressions(t *testing.T) {
	ds, src, in := msgCollection(
		bson.D{{Key: "_id", Value: int32(1)}, {Key: "server_msg_id", Value: "a"}, {Key: "n", Value: int32(2)}},
		bson.D{{Key: "_id", Value: int32(2)}, {Key: "server_msg_id", Value: "b"}},
		bson.D{{Key: "_id", Value: int32(3)}, {Key: "server_msg_id", Value: "c"}, {Key: "n", Value: int32(0)}},
		bson.D{{Key: "_id", Value: int32(4)}, {Key: "server_msg_id", Value: "d"}, {Key: "n", Value: int32(5)}},
	)
	d := msgEntry(t, "version: 1\ndatasets:\n  - match: im.msg\n    drop: [_id, n]\n    filter: \"n > 1\"\n    compute: {seq: \"n == 5 ? 'five' : n * 10\"}\n    defaults: {status: 0}\n")
	conv, err := ontoTable(ds, src, chatLogs(), d)
	if err != nil || len(conv.Refused) > 0 {
		t.Fatalf("%v %v", err, conv.Refused)
	}
	var reasons []string
	recs := conv.Records(in, 0, func(rj Reject) error {
		reasons = append(reasons, fmt.Sprintf("%v %s", rj.Filtered, rj.Reason))
		return nil
	})
	var got []string
	for {
		rec, err := recs.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			got = append(got, fmt.Sprint(rec.Column(0).GetOneForMarshal(i), "/", rec.Column(3).GetOneForMarshal(i)))
		}
	}
	if strings.Join(got, ",") != "a/20" {
		t.Errorf("rows %v, want a/20 only", got)
	}
	want := []string{"false the filter at m.yaml:5:13 fails on this row", "true left out by the filter", "false computed column seq (m.yaml:6:20) (string) into column seq: not a number"}
	if len(reasons) != 3 {
		t.Fatalf("reasons %q", reasons)
	}
	for i, w := range want {
		if !strings.HasPrefix(reasons[i], w) {
			t.Errorf("reason %q, want %q", reasons[i], w)
		}
	}
}
