package convert

import (
	"io"
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

// TestEmbedMappingErrorsNameTheLine: an embed list that cannot mean one
// thing is refused at its line when the file is read.
func TestEmbedMappingErrorsNameTheLine(t *testing.T) {
	head := "version: 1\ndatasets:\n  - match: im.users\n"
	for _, c := range []struct{ yaml, want string }{
		{head + "    embed:\n      - on: {id: uid}\n        into: p\n", "m.yaml:5:11: an embed needs dataset"},
		{head + "    embed:\n      - dataset: im.p\n        into: p\n", "an embed needs on"},
		{head + "    embed:\n      - dataset: im.p\n        on: {id: uid}\n", "an embed needs into"},
		{head + "    embed:\n      - dataset: im.users\n        on: {id: uid}\n        into: p\n", "m.yaml:5:18: a dataset embeds no rows of its own"},
		{head + "    embed:\n      - dataset: im.p\n        on: {id: uid}\n        into: a.b\n", "m.yaml:7:15: embed into a.b"},
		{head + "    embed:\n      - dataset: im.p\n        on: {id: uid}\n        one: true\n        order: [x]\n", "one: true takes one child row"},
		{head + "    embed:\n      - dataset: im.p\n        on: {id: uid}\n        into: p\n      - dataset: im.q\n        on: {id: uid}\n        into: p\n", "embed[0] and embed[1] both go into p"},
		{head + "    nest: {by: id, into: x}\n    embed:\n      - dataset: im.p\n        on: {id: uid}\n        into: p\n", "embed takes no nest"},
		{"version: 1\ndatasets:\n  - match: im.u*\n    embed:\n      - dataset: im.p\n        on: {id: uid}\n        into: p\n", "m.yaml:3:12: an entry with embed names one dataset"},
		{head + "    embed:\n      - dataset: im.p\n        on: {id: uid}\n        into: p\n  - match: im.groups\n    embed:\n      - dataset: im.p\n        on: {id: uid}\n        into: p\n", "im.p is embedded by the entry at m.yaml:3:12 already"},
		{head + "    embed:\n      - dataset: im.p\n        on: {id: uid}\n        into: p\n  - match: im.p\n    target: elsewhere\n", "m.yaml:8:12: im.p is embedded by the entry at m.yaml:3:12: its own entry shapes its fields only"},
	} {
		_, err := ParseMapping("m.yaml", []byte(c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want it to contain %q", c.yaml, err, c.want)
		}
	}
}

var (
	embedUsers = arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Uint32},
		{Name: "name", Type: arrow.BinaryTypes.LargeString, Nullable: true},
		{Name: "alt", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	}, nil)
	embedProfiles = arrow.NewSchema([]arrow.Field{
		{Name: "pid", Type: arrow.PrimitiveTypes.Int64},
		{Name: "uid", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "bio", Type: arrow.BinaryTypes.LargeString, Nullable: true},
		{Name: "score", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	}, nil)
)

type embedUser struct {
	id   uint32
	name string
}

type embedProfile struct {
	pid int64
	uid *int64
	bio string
}

func embedBatch(schema *arrow.Schema, fill func(b *array.RecordBuilder)) arrow.RecordBatch {
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	fill(b)
	return b.NewRecordBatch()
}

// TestEmbedOneRejectsAndKeys: an INT UNSIGNED key joins a BIGINT one; one:
// true takes the first row of a key and rejects a second; a child with a
// NULL key or of no parent is a reject of its own dataset; the filters of
// both entries leave rows out, counted; a float join key is refused; and
// an embedded dataset whose rows do not match its manifest digest stops
// the conversion.
func TestEmbedOneRejectsAndKeys(t *testing.T) {
	users := []embedUser{{1, "ann"}, {2, "bob"}, {3, "cid"}}
	one, two, nine := int64(1), int64(2), int64(9)
	profiles := []embedProfile{{10, &one, "first"}, {11, &one, "second"}, {12, &two, "hidden"}, {13, nil, "no user"}, {14, &nine, "nine"}, {15, &two, "bob's"}}
	ub := embedBatch(embedUsers, func(b *array.RecordBuilder) {
		for _, u := range users {
			b.Field(0).(*array.Uint32Builder).Append(u.id)
			b.Field(1).(*array.LargeStringBuilder).Append(u.name)
			b.Field(2).AppendNull()
		}
	})
	pb := embedBatch(embedProfiles, func(b *array.RecordBuilder) {
		for _, p := range profiles {
			b.Field(0).(*array.Int64Builder).Append(p.pid)
			if p.uid == nil {
				b.Field(1).AppendNull()
			} else {
				b.Field(1).(*array.Int64Builder).Append(*p.uid)
			}
			b.Field(2).(*array.LargeStringBuilder).Append(p.bio)
			b.Field(3).AppendNull()
		}
	})
	var pd bundle.Digest
	pd.AddRecord(pb)
	man := &spec.Manifest{Sources: []spec.Source{{ID: "s0", Engine: "mysql"}}, Datasets: []spec.Dataset{
		{Name: "im.users", Source: "s0", Kind: spec.KindTable, Namespace: "im", Object: "users", PrimaryKey: []string{"id"}, Columns: bundle.ColumnsOf(embedUsers), Rows: 3, Parts: []spec.Part{{Path: "u0", Rows: 3}}},
		{Name: "im.profiles", Source: "s0", Kind: spec.KindTable, Namespace: "im", Object: "profiles", PrimaryKey: []string{"pid"}, Columns: bundle.ColumnsOf(embedProfiles), Rows: 6, Parts: []spec.Part{{Path: "p0", Rows: 6}}, Digest: pd.Spec()},
	}}
	yaml := `version: 1
datasets:
  - match: im.users
    filter: "name != 'cid'"
    embed:
      - dataset: im.profiles
        on: {id: uid}
        into: profile
        one: true
  - match: im.profiles
    drop: [uid, score]
    filter: "bio != 'hidden'"
`
	m, err := ParseMapping("m.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	conv := func(m *Mapping) *Conversion {
		m.Bind(man)
		for _, c := range ForMapped(&man.Datasets[0], &man.Sources[0], m.For("im.users")) {
			if c.To == "mongodb" {
				return c.Conversion
			}
		}
		t.Fatal("no conversion to mongodb")
		return nil
	}
	c := conv(m)
	if len(c.Refused) > 0 || c.Rule != ruleEmbed || len(c.Inputs) != 1 || c.Inputs[0].Name != "im.profiles" {
		t.Fatalf("conversion %s, inputs %v, refused %v", c.Rule, c.Inputs, c.Refused)
	}
	var rejects, filtered []Reject
	recs := c.RecordsWith(&sliceRecords{ub}, []Records{&sliceRecords{pb}}, 0, func(rj Reject) error {
		if rj.Filtered {
			filtered = append(filtered, rj)
		} else {
			rejects = append(rejects, rj)
		}
		return nil
	})
	got := map[int64]string{}
	for {
		rec, err := recs.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		rows, err := mongotype.RowsOf(rec)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < rows.Len(); i++ {
			doc := rows.Doc(i)
			got[doc.Lookup("_id").AsInt64()] = doc.String()
		}
	}
	want := map[int64]bson.D{
		1: {{Key: "_id", Value: int64(1)}, {Key: "name", Value: "ann"}, {Key: "alt", Value: nil}, {Key: "profile", Value: bson.D{{Key: "pid", Value: int64(10)}, {Key: "bio", Value: "first"}}}},
		2: {{Key: "_id", Value: int64(2)}, {Key: "name", Value: "bob"}, {Key: "alt", Value: nil}, {Key: "profile", Value: bson.D{{Key: "pid", Value: int64(15)}, {Key: "bio", Value: "bob's"}}}},
	}
	if len(got) != len(want) {
		t.Errorf("documents %v, want users 1 and 2", got)
	}
	for id, d := range want {
		raw, _ := bson.Marshal(d)
		if got[id] != bson.Raw(raw).String() {
			t.Errorf("user %d:\n got %s\nwant %s", id, got[id], bson.Raw(raw))
		}
	}
	reasons := map[string]string{}
	for _, rj := range rejects {
		if rj.Dataset != "im.profiles" {
			t.Errorf("reject %+v is not of im.profiles", rj)
		}
		what := rj.Values["element"] // a child that has an element, else its columns
		if what == nil {
			what = rj.Values["bio"]
		}
		reasons[`"`+strings.Trim(what.(string), `"`)+`"`] = rj.Reason
	}
	for bio, why := range map[string]string{"second": "a second row for the im.users row with the key 1", "no user": "its join key is NULL", "nine": "no row of im.users has the key 9"} {
		found := false
		for el, r := range reasons {
			found = found || strings.Contains(el, `"`+bio+`"`) && strings.Contains(r, why)
		}
		if !found {
			t.Errorf("no reject of profile %q for %q: %v", bio, why, reasons)
		}
	}
	if len(rejects) != 3 || len(filtered) != 2 {
		t.Errorf("%d rejects, %d filtered (%v), want 3 and 2 (cid, and the hidden profile)", len(rejects), len(filtered), filtered)
	}
	for _, f := range filtered {
		if (f.Dataset == "") != strings.Contains(f.Reason, "m.yaml:4:") {
			t.Errorf("filtered %+v: the users filter is at 4, the profiles' at 12", f)
		}
	}

	// A changed embedded dataset: its rows no longer digest as its manifest says.
	man.Datasets[1].Digest.Sum = strings.Repeat("0", 64)
	c = conv(m)
	recs = c.RecordsWith(&sliceRecords{ub}, []Records{&sliceRecords{pb}}, 0, func(Reject) error { return nil })
	if _, err := recs.Next(); err == nil || !strings.Contains(err.Error(), `embedded dataset "im.profiles": its rows digest to`) {
		t.Errorf("a wrong digest: %v", err)
	}

	// A float key joins nothing exactly.
	m2, err := ParseMapping("m.yaml", []byte(strings.Replace(yaml, "on: {id: uid}", "on: {id: score}", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if r := strings.Join(conv(m2).Refused, "\n"); !strings.Contains(r, "m.yaml:7:14: embed on id (int unsigned") && !strings.Contains(r, "keys join integer with integer") {
		t.Errorf("a float key: refused %q", r)
	}
}
