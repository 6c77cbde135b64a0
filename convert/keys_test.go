package convert

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/mongotype"
	"github.com/imbundle/imbundle/internal/redistype"
	"github.com/imbundle/imbundle/spec"
)

func TestKeyPatternMatch(t *testing.T) {
	for _, c := range []struct {
		pattern, key string
		want         []string // nil: no match
	}{
		{"MAX_SEQ:{c}", "MAX_SEQ:si_1_2", []string{"si_1_2"}},
		{"MAX_SEQ:{c}", "MAX_SEQ:", nil},
		{"MAX_SEQ:{c}", "MIN_SEQ:x", nil},
		{"CON_USER_MIN_SEQ:{c}u:{u}", "CON_USER_MIN_SEQ:sg_7u:42", []string{"sg_7", "42"}},
		{"CON_USER_MIN_SEQ:{c}u:{u}", "CON_USER_MIN_SEQ:au:bu:c", []string{"a", "bu:c"}},
		{"{a}:{b}:end", "1:2:3:end", []string{"1", "2:3"}},
		{"{a}:{b}:end", "1:2:end:x", nil},
		{"x{a}y", "xy", nil},
		{"x{a}y", "x\x00\xffy", []string{"\x00\xff"}},
		{"{a}", "anything", []string{"anything"}},
	} {
		kp, err := parseKeyPattern(c.pattern)
		if err != nil {
			t.Fatal(err)
		}
		got := kp.match([]byte(c.key), nil)
		if c.want == nil {
			if got != nil {
				t.Errorf("%q on %q: %q, want no match", c.pattern, c.key, got)
			}
			continue
		}
		if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", c.want) {
			t.Errorf("%q on %q: %q, want %q", c.pattern, c.key, got, c.want)
		}
	}
	for _, bad := range []string{"A:{x", "A:x}", "A:{}", "A:{1x}", "A:{x}{y}", "A:{x}:{x}", "no captures", "A:{x{y}}"} {
		if _, err := parseKeyPattern(bad); err == nil {
			t.Errorf("pattern %q was taken", bad)
		}
	}
}

func TestKeyValueTypes(t *testing.T) {
	for _, c := range []struct {
		typ, raw string
		want     string // the value as relaxed Extended JSON in {"v": ...}; "" for a reason
	}{
		{valueInteger, "0", `{"v":{"$numberLong":"0"}}`},
		{valueInteger, "-9223372036854775808", `{"v":{"$numberLong":"-9223372036854775808"}}`},
		{valueInteger, "9223372036854775808", ""},
		{valueInteger, "007", ""},
		{valueInteger, "+1", ""},
		{valueInteger, "-0", ""},
		{valueInteger, "1.0", ""},
		{valueInteger, " 1", ""},
		{valueFloat, "10.5", `{"v":{"$numberDouble":"10.5"}}`},
		{valueFloat, "0.1", `{"v":{"$numberDouble":"0.1"}}`},
		{valueFloat, "1e+21", `{"v":{"$numberDouble":"1E+21"}}`},
		{valueFloat, "3", `{"v":{"$numberDouble":"3.0"}}`},
		{valueFloat, "0.10", ""},
		{valueFloat, "1.0", ""},
		{valueFloat, "inf", ""},
		{valueFloat, "+Inf", ""},
		{valueJSON, `{"b":1,"a":[true,null,"x",1.5]}`, `{"v":{"b":{"$numberLong":"1"},"a":[true,null,"x",{"$numberDouble":"1.5"}]}}`},
		{valueJSON, `{"a":1,"a":2}`, ""},
		{valueJSON, `0.1`, ""},
		{valueJSON, `123456789012345678901`, ""},
		{valueJSON, `{} x`, ""},
		{valueJSON, `{`, ""},
		{valueBytes, "\xff\x00", `{"v":{"$binary":{"base64":"/wA=","subType":"00"}}}`},
		{valueString, "héllo", `{"v":"héllo"}`},
		{valueString, "\xff", ""},
	} {
		v, why := keyValue(c.typ, []byte(c.raw), false)
		if c.want == "" {
			if why == "" {
				t.Errorf("%s %q: taken as %s, want a reason", c.typ, c.raw, v)
			}
			continue
		}
		if why != "" {
			t.Errorf("%s %q: %s", c.typ, c.raw, why)
			continue
		}
		doc := bson.Raw(appendValueDoc(v))
		js, err := bson.MarshalExtJSON(doc, true, false)
		if err != nil || string(js) != c.want {
			t.Errorf("%s %q: %s (%v), want %s", c.typ, c.raw, js, err, c.want)
		}
	}
	// Into MySQL, JSON stays its text (checked).
	if v, why := keyValue(valueJSON, []byte(`{"b": 1.10}`), true); why != "" || v.StringValue() != `{"b": 1.10}` {
		t.Errorf("json as text: %v %s", v, why)
	}
	if _, why := keyValue(valueJSON, []byte(`{"b": `), true); why == "" {
		t.Error("bad JSON taken as text")
	}
}

func appendValueDoc(v bson.RawValue) []byte {
	d, _ := bson.Marshal(bson.D{{Key: "v", Value: v}})
	return d
}

// TestKeysWithoutMerge: without merge_by each matched key is one document
// with the key's name as _id, in the part's order; the json, float, bytes
// and string types land as their BSON types (FerretDB takes them, but the
// CLI tests cover integers; these are checked in-process).
func TestKeysWithoutMerge(t *testing.T) {
	b := redistype.NewBuilder(1 << 30)
	b.StringKey([]byte("cfg:a"), []byte(`{"on":true,"n":[1,2]}`), redistype.NoExpiry)
	b.StringKey([]byte("rate:a"), []byte("0.25"), redistype.NoExpiry)
	b.StringKey([]byte("blob:a"), []byte{0, 0xff}, redistype.NoExpiry)
	b.StringKey([]byte("name:a"), []byte("Ann"), redistype.NoExpiry)
	b.StringKey([]byte("rate:b"), []byte("0.250"), redistype.NoExpiry)
	b.StringKey([]byte("other"), []byte("x"), redistype.NoExpiry)
	rec := b.Flush()
	ds, src := redisDatasetOf(rec, keyspaceLayout)
	m, err := ParseMapping("m.yaml", []byte(`version: 1
datasets:
  - match: "redis.db3"
    target: app.kv
    keys:
      - pattern: "cfg:{id}"
        value: {field: cfg, type: json}
      - pattern: "rate:{id}"
        value: {field: rate, type: float}
      - pattern: "blob:{id}"
        value: {field: blob, type: bytes}
      - pattern: "name:{id}"
        value: {field: name, type: string}
`))
	if err != nil {
		t.Fatal(err)
	}
	var c *Conversion
	for _, cand := range ForMapped(ds, src, m.For("redis.db3")) {
		if cand.To == mongoEngine {
			c = cand.Conversion
		}
	}
	if c == nil || len(c.Refused) > 0 || c.Whole || c.Dataset.Namespace != "app" || c.Dataset.Object != "kv" {
		t.Fatalf("conversion %+v", c)
	}
	out, rejects := convertAll(t, c, rec)
	var docs []string
	for _, o := range out {
		rows, err := mongotype.RowsOf(o)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < rows.Len(); i++ {
			js, _ := bson.MarshalExtJSON(rows.Doc(i), false, false)
			docs = append(docs, string(js))
		}
	}
	want := []string{
		`{"_id":"cfg:a","id":"a","cfg":{"on":true,"n":[1,2]}}`,
		`{"_id":"rate:a","id":"a","rate":0.25}`,
		`{"_id":"blob:a","id":"a","blob":{"$binary":{"base64":"AP8=","subType":"00"}}}`,
		`{"_id":"name:a","id":"a","name":"Ann"}`,
	}
	if strings.Join(docs, "\n") != strings.Join(want, "\n") {
		t.Errorf("documents:\n%s\nwant:\n%s", strings.Join(docs, "\n"), strings.Join(want, "\n"))
	}
	if len(rejects) != 2 || !strings.Contains(rejects[0].Reason, `"0.250"`) || rejects[0].Key[0] != "rate:b" || !rejects[1].Filtered || rejects[1].Key[0] != "other" {
		t.Errorf("rejects %+v: want rate:b's value and other filtered", rejects)
	}
}

// TestKeysMappingRefusals: keys on a dataset that is no keyspace, or
// beside field changes, are refused; merge_by without keys is an error.
func TestKeysMappingRefusals(t *testing.T) {
	for _, c := range []struct{ yaml, why string }{
		{"    keys:\n      - pattern: \"a:{x}\"\n        value: {field: v, type: integer}\n", "keys need target"},
		{"    target: t\n    merge_by: [x]\n", "merge_by needs keys"},
		{"    target: t\n    drop: [x]\n    keys:\n      - pattern: \"a:{x}\"\n        value: {field: v, type: integer}\n", "keys take no rename"},
		{"    target: t\n    keys:\n      - pattern: \"a:{x}\"\n        value: {field: x, type: integer}\n", "also a capture"},
		{"    target: t\n    keys:\n      - pattern: \"a:{x}\"\n        value: {field: v, type: integer}\n      - pattern: \"b:{v}\"\n        value: {field: w, type: integer}\n", "is a value field of another pattern"},
		{"    target: t\n    keys:\n      - pattern: \"a:{_id}\"\n        value: {field: v, type: integer}\n", "capture named _id"},
	} {
		_, err := ParseMapping("m.yaml", []byte("version: 1\ndatasets:\n  - match: \"redis.db3\"\n"+c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.why) || !strings.HasPrefix(err.Error(), "m.yaml:") {
			t.Errorf("%q: %v, want m.yaml:LINE:COL ... %s", c.yaml, err, c.why)
		}
	}
	m, err := ParseMapping("m.yaml", []byte("version: 1\ndatasets:\n  - match: \"*\"\n    target: t\n    keys:\n      - pattern: \"a:{x}\"\n        value: {field: v, type: integer}\n"))
	if err != nil {
		t.Fatal(err)
	}
	// The stream state of a Redis database is no keyspace.
	g := redistype.NewGroupsBuilder(1 << 30)
	g.Group([]byte("st"), []byte{}, "1-1", redistype.NoCount)
	ds, src := redisDatasetOf(g.Flush(), streamStateLayout)
	for _, cand := range ForMapped(ds, src, m.For(ds.Name)) {
		if cand.Conversion == nil || len(cand.Conversion.Refused) == 0 || !strings.Contains(strings.Join(cand.Conversion.Refused, ";"), "m.yaml:6:") {
			t.Errorf("keys on the stream state to %s: %+v", cand.To, cand.Conversion)
		}
	}
}

// TestKeysIntoExistingMySQLTable: merged records into a table's columns
// by §11.3's rules: json as its text, a float into DOUBLE, bytes into a
// BLOB; a table lacking a field's column, a column of the wrong type and
// a NOT NULL column no pattern gives are refused at their lines; a record
// lacking a NOT NULL column's field is a reject.
func TestKeysIntoExistingMySQLTable(t *testing.T) {
	b := redistype.NewBuilder(1 << 30)
	b.StringKey([]byte("cfg:b"), []byte(`{"x": 1.10}`), redistype.NoExpiry)
	b.StringKey([]byte("rate:a"), []byte("0.5"), redistype.NoExpiry)
	b.StringKey([]byte("cfg:a"), []byte(`[1]`), redistype.NoExpiry)
	b.StringKey([]byte("blob:a"), []byte{0xff}, redistype.NoExpiry)
	b.StringKey([]byte("rate:b"), []byte("2"), redistype.NoExpiry)
	rec := b.Flush()
	ds, src := redisDatasetOf(rec, keyspaceLayout)
	const yaml = `version: 1
datasets:
  - match: "redis.db3"
    target: app.kv
    keys:
      - pattern: "cfg:{id}"
        value: {field: cfg, type: json}
      - pattern: "rate:{id}"
        value: {field: rate, type: float}
      - pattern: "blob:{id}"
        value: {field: blob, type: bytes}
    merge_by: [id]
`
	m, err := ParseMapping("m.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	var c *Conversion
	for _, cand := range ForMapped(ds, src, m.For("redis.db3")) {
		if cand.To == "mysql" {
			c = cand.Conversion
		}
	}
	if c == nil || !c.NeedsExisting() || !c.Whole {
		t.Fatalf("conversion %+v", c)
	}
	if _, err := Onto(c, ds, src, "mysql", nil); err == nil || !strings.Contains(err.Error(), "m.yaml:6:") {
		t.Errorf("no table: %v, want an error at the keys", err)
	}
	col := func(name, typ, native string, nullable bool) spec.Column {
		return spec.Column{Name: name, Type: typ, Native: native, Nullable: nullable}
	}
	table := func(cols ...spec.Column) *spec.Dataset {
		return &spec.Dataset{Kind: spec.KindTable, Namespace: "app", Object: "kv", Columns: cols, PrimaryKey: []string{"id"}}
	}
	good := table(col("id", "large_utf8", "varchar(64)", false), col("cfg", "large_utf8", "longtext", true),
		col("rate", "float64", "double", true), col("blob", "large_binary", "blob", true))
	oc, err := Onto(c, ds, src, "mysql", good)
	if err != nil || len(oc.Refused) > 0 {
		t.Fatalf("onto the table: %v %v", err, oc.Refused)
	}
	out, rejects := convertAll(t, oc, rec)
	got := rowsText(out...)
	want := []string{
		"id=a cfg=[1] rate=3fe0000000000000 blob=0xff",
		`id=b cfg={"x": 1.10} rate=4000000000000000 blob=NULL`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") || len(rejects) != 0 {
		t.Errorf("rows:\n%s\nwant:\n%s\nrejects %v", strings.Join(got, "\n"), strings.Join(want, "\n"), rejects)
	}
	// With blob NOT NULL, b (which has none) is a reject.
	good.Columns[3].Nullable = false
	oc, err = Onto(c, ds, src, "mysql", good)
	if err != nil || len(oc.Refused) > 0 {
		t.Fatalf("onto the table: %v %v", err, oc.Refused)
	}
	_, rejects = convertAll(t, oc, rec)
	if len(rejects) != 1 || rejects[0].Key[0] != "b" || !strings.Contains(rejects[0].Reason, "column blob is NOT NULL") || rejects[0].Values["keys"] != "cfg:b, rate:b" {
		t.Errorf("rejects %+v", rejects)
	}
	for _, c2 := range []struct {
		into *spec.Dataset
		why  string
	}{
		{table(col("id", "large_utf8", "varchar(64)", false), col("cfg", "large_utf8", "longtext", true), col("rate", "float64", "double", true)), "m.yaml:11:24: field blob: the table has no column blob"},
		{table(col("id", "large_utf8", "varchar(64)", false), col("cfg", "large_utf8", "longtext", true), col("rate", "int64", "bigint(20)", true), col("blob", "large_binary", "blob", true)), "m.yaml:9:24: field rate is float"},
		{table(col("id", "large_utf8", "varchar(64)", false), col("cfg", "large_utf8", "longtext", true), col("rate", "float64", "double", true), col("blob", "large_binary", "blob", true), col("must", "int32", "int(11)", false)), "column must is NOT NULL and no pattern gives"},
	} {
		oc, err := Onto(c, ds, src, "mysql", c2.into)
		if err != nil || !strings.Contains(strings.Join(oc.Refused, "; "), c2.why) {
			t.Errorf("%v %v, want refused %q", err, oc.Refused, c2.why)
		}
	}
}

// keysPairs renders the string keys of keyspace batches as key=value,
// sorted.
func keysPairs(t *testing.T, recs ...arrow.RecordBatch) []string {
	t.Helper()
	var out []string
	for _, rec := range recs {
		for i := 0; i < int(rec.NumRows()); i++ {
			if string(bytesAt(rec.Column(redistype.ColType), i)) != "string" {
				t.Fatalf("row %d is no string key", i)
			}
			out = append(out, fmt.Sprintf("%q=%q", bytesAt(rec.Column(redistype.ColKey), i), bytesAt(rec.Column(redistype.ColValue), i)))
		}
	}
	sort.Strings(out)
	return out
}

// TestKeysBackToRedis: documents and rows the forward rule made become
// the keys they came from (the same pairs), and those keys the same
// documents again; a record with a field no pattern uses, a value of
// another type, a key built twice and a capture that would not read back
// are rejects.
func TestKeysBackToRedis(t *testing.T) {
	b := redistype.NewBuilder(1 << 30)
	for k, v := range map[string]string{
		"MAX_SEQ:c1": "10", "MIN_SEQ:c1": "-1", "MAX_SEQ:c2": "5", "CFG:c1": `{"a":[1,2.5,"x",true,null],"b":{"c":1e+21}}`,
		"RATE:c2": "0.1", "BLOB:c2": "\x00\xff", "NAME:c1": "Ann", "RATE:c3": "100000",
	} {
		b.StringKey([]byte(k), []byte(v), redistype.NoExpiry)
	}
	keyspace := b.Flush()
	const keys = `    keys:
      - pattern: "MAX_SEQ:{conversation_id}"
        value: {field: max_seq, type: integer}
      - pattern: "MIN_SEQ:{conversation_id}"
        value: {field: min_seq, type: integer}
      - pattern: "CFG:{conversation_id}"
        value: {field: cfg, type: json}
      - pattern: "RATE:{conversation_id}"
        value: {field: rate, type: float}
      - pattern: "BLOB:{conversation_id}"
        value: {field: blob, type: bytes}
      - pattern: "NAME:{conversation_id}"
        value: {field: name, type: string}
    merge_by: [conversation_id]
`
	fwd, err := ParseMapping("f.yaml", []byte("version: 1\ndatasets:\n  - match: \"redis.db3\"\n    target: app.seq\n"+keys))
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseMapping("b.yaml", []byte("version: 1\ndatasets:\n  - match: \"app.seq\"\n    target: \"5\"\n"+keys))
	if err != nil {
		t.Fatal(err)
	}
	toMongo := func(ks arrow.RecordBatch) []arrow.RecordBatch {
		ds, src := redisDatasetOf(ks, keyspaceLayout)
		c, err := keysToMongo(ds, src, fwd.For("redis.db3"))
		if err != nil || len(c.Refused) > 0 {
			t.Fatalf("%v %v", err, c.Refused)
		}
		out, rejects := convertAll(t, c, ks)
		if len(rejects) > 0 {
			t.Fatalf("rejects %+v", rejects)
		}
		return out
	}
	docs := toMongo(keyspace)
	coll := &spec.Dataset{Name: "app.seq", Source: "m", Kind: spec.KindCollection, Namespace: "app", Object: "seq",
		Columns: bundle.ColumnsOf(mongotype.Schema()), PrimaryKey: mongotype.PrimaryKey, Rows: 3, Parts: []spec.Part{{Path: "p0", Rows: 3}}}
	c, err := KeysToRedis(coll, &spec.Source{ID: "m", Engine: mongoEngine}, back.For("app.seq"))
	if err != nil || len(c.Refused) > 0 || c.Dataset.Namespace != "5" || c.Dataset.Object != "keyspace" {
		t.Fatalf("%v %+v", err, c)
	}
	redisOut, rejects := convertAll(t, c, docs...)
	if len(rejects) > 0 {
		t.Fatalf("rejects %+v", rejects)
	}
	if got, want := keysPairs(t, redisOut...), keysPairs(t, keyspace); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("keys back from documents:\n%v\nwant\n%v", got, want)
	}
	again := toMongo(redisOut[0])
	if a, b := rowsText(again...), rowsText(docs...); strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Errorf("documents again:\n%v\nwant\n%v", a, b)
	}

	// From a MySQL table of the forward rule's rows.
	mds, msrc := redisDatasetOf(keyspace, keyspaceLayout)
	mc, _ := keysToMySQL(mds, msrc, fwd.For("redis.db3"))
	table := &spec.Dataset{Name: "app.seq", Source: "y", Kind: spec.KindTable, Namespace: "app", Object: "seq", PrimaryKey: []string{"conversation_id"},
		Columns: []spec.Column{{Name: "conversation_id", Type: "large_utf8"}, {Name: "max_seq", Type: "int64", Nullable: true}, {Name: "min_seq", Type: "int32", Nullable: true},
			{Name: "cfg", Type: "large_utf8", Nullable: true}, {Name: "rate", Type: "float64", Nullable: true}, {Name: "blob", Type: "large_binary", Nullable: true}, {Name: "name", Type: "large_utf8", Nullable: true}},
		Rows: 3, Parts: []spec.Part{{Path: "p0", Rows: 3}}}
	oc, err := Onto(mc, mds, msrc, "mysql", table)
	if err != nil || len(oc.Refused) > 0 {
		t.Fatalf("%v %v", err, oc.Refused)
	}
	rows, _ := convertAll(t, oc, keyspace)
	c, err = KeysToRedis(table, &spec.Source{ID: "y", Engine: "mysql"}, back.For("app.seq"))
	if err != nil || len(c.Refused) > 0 {
		t.Fatalf("%v %+v", err, c.Refused)
	}
	redisOut, rejects = convertAll(t, c, rows...)
	if got, want := keysPairs(t, redisOut...), keysPairs(t, keyspace); len(rejects) > 0 || strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("keys back from rows:\n%v\nwant\n%v\nrejects %+v", got, want, rejects)
	}

	// Rejects.
	bad := mongotype.NewBuilder(nil)
	for _, d := range []bson.D{
		{{Key: "_id", Value: 1}, {Key: "conversation_id", Value: "x"}, {Key: "max_seq", Value: int64(1)}, {Key: "extra", Value: 1}},
		{{Key: "_id", Value: 2}, {Key: "conversation_id", Value: "y"}, {Key: "max_seq", Value: "1"}},
		{{Key: "_id", Value: 3}, {Key: "conversation_id", Value: "z"}, {Key: "max_seq", Value: int64(1)}},
		{{Key: "_id", Value: 4}, {Key: "conversation_id", Value: "z"}, {Key: "max_seq", Value: int64(2)}},
		{{Key: "_id", Value: 5}, {Key: "conversation_id", Value: "w"}, {Key: "cfg", Value: bson.D{{Key: "n", Value: int32(1)}}}},
	} {
		raw, _ := bson.Marshal(d)
		bad.Append(raw)
	}
	c, _ = KeysToRedis(coll, &spec.Source{ID: "m", Engine: mongoEngine}, back.For("app.seq"))
	redisOut, rejects = convertAll(t, c, bad.NewRecord())
	var reasons []string
	for _, rj := range rejects {
		reasons = append(reasons, rj.Reason)
	}
	for i, want := range []string{"field extra: no pattern uses it", "field max_seq (integer): a string is no integer value", "is built by an earlier record too", "a 32-bit integer inside json"} {
		if i >= len(reasons) || !strings.Contains(reasons[i], want) {
			t.Errorf("reject %d: %v, want %q", i, reasons, want)
		}
	}
	if got := keysPairs(t, redisOut...); strings.Join(got, " ") != `"MAX_SEQ:z"="1"` {
		t.Errorf("keys of the good records: %v", got)
	}
	// A capture holding the pattern's literal would read back otherwise.
	amb, _ := ParseMapping("a.yaml", []byte("version: 1\ndatasets:\n  - match: \"app.seq\"\n    target: \"5\"\n    keys:\n      - pattern: \"U:{a}:{b}\"\n        value: {field: v, type: integer}\n"))
	ab := mongotype.NewBuilder(nil)
	raw, _ := bson.Marshal(bson.D{{Key: "_id", Value: 1}, {Key: "a", Value: "x:y"}, {Key: "b", Value: "z"}, {Key: "v", Value: int64(1)}})
	ab.Append(raw)
	c, _ = KeysToRedis(coll, &spec.Source{ID: "m", Engine: mongoEngine}, amb.For("app.seq"))
	if _, rejects := convertAll(t, c, ab.NewRecord()); len(rejects) != 1 || !strings.Contains(rejects[0].Reason, "would not read back") {
		t.Errorf("ambiguous capture: %+v", rejects)
	}
}

// TestKeysFromHashes: a hash pattern's fields become record fields (in
// name order), gathered across batches (a hash's element rows come before
// its key row, in earlier batches or parts), merged with a string key's
// value; a hash field the pattern does not list, a value not of its type
// and a key of the other type are rejects naming the key.
func TestKeysFromHashes(t *testing.T) {
	b := redistype.NewBuilder(1 << 30)
	b.HashField([]byte("USER:1"), []byte("name"), []byte("Ann"), redistype.NoExpiry, 0)
	first := b.Flush() // the hash goes on in the next batch
	b.HashField([]byte("USER:1"), []byte("age"), []byte("41"), redistype.NoExpiry, 1)
	b.KeyRow([]byte("USER:1"), redistype.Hash, 2, "", redistype.NoExpiry)
	b.StringKey([]byte("SCORE:1"), []byte("7"), redistype.NoExpiry)
	b.StringKey([]byte("SCORE:2"), []byte("8"), redistype.NoExpiry)
	b.HashField([]byte("USER:2"), []byte("name"), []byte("Bo"), redistype.NoExpiry, 0)
	b.HashField([]byte("USER:2"), []byte("email"), []byte("b@x"), redistype.NoExpiry, 1)
	b.KeyRow([]byte("USER:2"), redistype.Hash, 2, "", redistype.NoExpiry)
	b.HashField([]byte("USER:3"), []byte("age"), []byte("old"), redistype.NoExpiry, 0)
	b.KeyRow([]byte("USER:3"), redistype.Hash, 1, "", redistype.NoExpiry)
	b.StringKey([]byte("USER:4"), []byte("x"), redistype.NoExpiry)
	b.HashField([]byte("USER:5"), []byte("name"), []byte("Cy"), redistype.NoExpiry, 0)
	b.KeyRow([]byte("USER:5"), redistype.Hash, 1, "", redistype.NoExpiry)
	second := b.Flush()
	ds, src := redisDatasetOf(second, keyspaceLayout)
	m, err := ParseMapping("h.yaml", []byte(`version: 1
datasets:
  - match: "redis.db3"
    target: app.users
    keys:
      - pattern: "USER:{id}"
        fields: {name: string, age: integer}
      - pattern: "SCORE:{id}"
        value: {field: score, type: integer}
    merge_by: [id]
`))
	if err != nil {
		t.Fatal(err)
	}
	c, err := keysToMongo(ds, src, m.For("redis.db3"))
	if err != nil || len(c.Refused) > 0 || !c.Whole {
		t.Fatalf("%v %+v", err, c)
	}
	out, rejects := convertAll(t, c, first, second)
	var docs []string
	for _, o := range out {
		rows, _ := mongotype.RowsOf(o)
		for i := 0; i < rows.Len(); i++ {
			js, _ := bson.MarshalExtJSON(rows.Doc(i), false, false)
			docs = append(docs, string(js))
		}
	}
	want := []string{
		`{"_id":"1","id":"1","age":41,"name":"Ann","score":7}`,
		`{"_id":"2","id":"2","score":8}`,
		`{"_id":"5","id":"5","name":"Cy"}`,
	}
	if strings.Join(docs, "\n") != strings.Join(want, "\n") {
		t.Errorf("documents:\n%s\nwant:\n%s", strings.Join(docs, "\n"), strings.Join(want, "\n"))
	}
	var reasons []string
	for _, rj := range rejects {
		reasons = append(reasons, rj.Reason)
	}
	for i, w := range []string{`hash field "email" is not among the fields`, `key "USER:3" (field age, integer)`, `"USER:4" matches pattern "USER:{id}" but is a string: the pattern takes hash keys`} {
		if i >= len(reasons) || !strings.Contains(reasons[i], w) {
			t.Errorf("rejects %q: want %d to say %q", reasons, i, w)
		}
	}
	if len(rejects) != 3 {
		t.Errorf("%d rejects, want 3", len(rejects))
	}
	// Hash patterns are refused for the way back, and type clashes at
	// their line.
	if _, err := ParseMapping("h.yaml", []byte("version: 1\ndatasets:\n  - match: x\n    target: t\n    keys:\n      - pattern: \"U:{id}\"\n        fields: {n: integer}\n      - pattern: \"N:{id}\"\n        value: {field: n, type: string}\n")); err == nil || !strings.Contains(err.Error(), "h.yaml:9:") || !strings.Contains(err.Error(), "field n is string here and integer in keys[0]") {
		t.Errorf("a field of two types: %v", err)
	}
	if _, err := ParseMapping("h.yaml", []byte("version: 1\ndatasets:\n  - match: x\n    target: t\n    keys:\n      - pattern: \"U:{id}\"\n        fields: {n: integer}\n        value: {field: v, type: string}\n")); err == nil || !strings.Contains(err.Error(), "one of them") {
		t.Errorf("value and fields: %v", err)
	}
}
