package convert

import (
	"strings"
	"testing"

	"github.com/imbundle/imbundle/internal/redistype"
	"github.com/imbundle/imbundle/spec"
)

// TestIDAndIndexesErrors: id and indexes mistakes are errors at their
// lines when the file is read.
func TestIDAndIndexesErrors(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"    id: uuid\n", "m.yaml:4:9: id \"uuid\": want objectid"},
		{"    indexes: [{name: x}]\n", "m.yaml:4:15: an index needs fields"},
		{"    indexes: [{fields: [\"-\"]}]\n", "an index field needs a name"},
		{"    indexes: [{fields: [a]}, {name: a_1, fields: [b]}]\n", "two indexes named a_1"},
	} {
		_, err := ParseMapping("m.yaml", []byte("version: 1\ndatasets:\n  - match: a.b\n"+c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.yaml, err, c.want)
		}
	}
}

// TestIDAndIndexesAgainstTheTable: id: objectid keeps the key columns as
// fields and says so; declared indexes follow the rule's own, named as
// MongoDB names them; an index on a field the documents lack, one named as
// the rule's, id on a table without a primary key, and id or indexes on a
// rule that takes none (a table into Redis) are refused at their lines.
func TestIDAndIndexesAgainstTheTable(t *testing.T) {
	src := &spec.Source{ID: "s0", Engine: "mysql"}
	ds := &spec.Dataset{Name: "im.users", Kind: spec.KindTable, Namespace: "im", Object: "users", PrimaryKey: []string{"id"},
		DDL:     "CREATE TABLE `users` (\n  `id` bigint NOT NULL,\n  `name` varchar(9),\n  PRIMARY KEY (`id`),\n  KEY `name` (`name`)\n)",
		Columns: []spec.Column{{Name: "id", Type: "int64"}, {Name: "name", Type: "large_utf8", Nullable: true}}, Parts: []spec.Part{{Rows: 1}}}
	m, err := ParseMapping("m.yaml", []byte(`version: 1
datasets:
  - match: im.users
    id: objectid
    rename: {name: nickname}
    indexes: [{fields: [id, -nickname], unique: true}, {fields: [name]}, {name: name, fields: [id]}]
  - match: im.nokey
    id: objectid
`))
	if err != nil {
		t.Fatal(err)
	}
	byEngine := map[string]*Conversion{}
	for _, c := range ForMapped(ds, src, m.For(ds.Name)) {
		byEngine[c.To] = c.Conversion
	}
	mongo := byEngine["mongodb"]
	refused := strings.Join(mongo.Refused, "\n")
	for _, want := range []string{"m.yaml:6:56: index name_1 on name: the documents have no such field", "m.yaml:6:74: index name: the rule already makes an index of that name"} {
		if !strings.Contains(refused, want) {
			t.Errorf("refused %q, want %q", refused, want)
		}
	}
	if len(mongo.Refused) != 2 {
		t.Errorf("refused %q, want two", refused)
	}
	notes := strings.Join(mongo.Notes, "\n")
	for _, want := range []string{"_id is an ObjectId derived from the primary key id", "index id_1_nickname_-1 on [id -nickname], unique (m.yaml:6:15)"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes %q, want %q", notes, want)
		}
	}
	if r := strings.Join(byEngine["redis"].Refused, "\n"); !strings.Contains(r, "m.yaml:4:9: id applies to") || !strings.Contains(r, "m.yaml:6:14: indexes apply to") {
		t.Errorf("into Redis: refused %q, want id and indexes refused", r)
	}
	nokey := &spec.Dataset{Name: "im.nokey", Kind: spec.KindTable, Namespace: "im", Object: "nokey",
		Columns: []spec.Column{{Name: "a", Type: "int64"}}, Parts: []spec.Part{{Rows: 1}}}
	for _, c := range ForMapped(nokey, src, m.For(nokey.Name)) {
		if c.To == "mongodb" && !strings.Contains(strings.Join(c.Conversion.Refused, ";"), "m.yaml:8:9: id: objectid derives _id from the primary key, and im.nokey has none") {
			t.Errorf("id on a table without a key: %q", c.Conversion.Refused)
		}
	}
}

// TestSeveralKeysEntries: two keys entries of one match make two outputs
// into MongoDB, each named after its collection, with its own indexes;
// into MySQL they are refused (the later entry would be ignored), and two
// outputs into one collection are refused.
func TestSeveralKeysEntries(t *testing.T) {
	b := redistype.NewBuilder(1 << 30)
	b.StringKey([]byte("MAX_SEQ:c1"), []byte("5"), redistype.NoExpiry)
	b.StringKey([]byte("READ:u1:c1"), []byte("3"), redistype.NoExpiry)
	ds, src := redisDatasetOf(b.Flush(), keyspaceLayout)
	const entries = `version: 1
datasets:
  - match: "redis.db3"
    target: seq
    keys: [{pattern: "MAX_SEQ:{c}", value: {field: max_seq, type: integer}}]
    merge_by: [c]
  - match: "redis.db3"
    target: %s
    keys: [{pattern: "READ:{u}:{c}", value: {field: read_seq, type: integer}}]
    merge_by: [u, c]
    indexes: [{fields: [u, c]}]
`
	m, err := ParseMapping("m.yaml", []byte(strings.Replace(entries, "%s", "seq_user", 1)))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range ForMapped(ds, src, m.For(ds.Name)) {
		switch c.To {
		case "mongodb":
			conv := c.Conversion
			if len(conv.Refused) > 0 || len(conv.Split) != 2 || !conv.Whole {
				t.Fatalf("into MongoDB: %+v", conv)
			}
			if a, b := conv.Split[0].Dataset, conv.Split[1].Dataset; a.Name != "redis.db3/seq" || a.Object != "seq" || b.Name != "redis.db3/seq_user" || !strings.Contains(b.Options["mongodb.indexes"]+strings.Join(conv.Split[1].Notes, ";"), "u_1_c_1") {
				t.Errorf("outputs %+v %+v", a, b)
			}
		case "mysql":
			if !strings.Contains(strings.Join(c.Conversion.Refused, ";"), "m.yaml:7:12: several entries with keys") {
				t.Errorf("into MySQL: refused %q", c.Conversion.Refused)
			}
		}
	}
	m, err = ParseMapping("m.yaml", []byte(strings.Replace(entries, "%s", "seq", 1)))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range ForMapped(ds, src, m.For(ds.Name)) {
		if c.To == "mongodb" && !strings.Contains(strings.Join(c.Conversion.Refused, ";"), "m.yaml:8:13: the entry at m.yaml:3:12 writes into seq too") {
			t.Errorf("two outputs into seq: refused %q", c.Conversion.Refused)
		}
	}
}

// TestIDAndIndexesWithRoute: a routed table's outputs are §11.1's
// conversion each, so id and indexes apply to every routed collection.
func TestIDAndIndexesWithRoute(t *testing.T) {
	src := &spec.Source{ID: "s0", Engine: "mysql"}
	ds := &spec.Dataset{Name: "im.users", Kind: spec.KindTable, Namespace: "im", Object: "users", PrimaryKey: []string{"id"},
		Columns: []spec.Column{{Name: "id", Type: "int64"}}, Parts: []spec.Part{{Rows: 1}}}
	m, err := ParseMapping("m.yaml", []byte(`version: 1
datasets:
  - match: im.users
    route: "'s_' + string(id % 2)"
    objects: ["s_{0..1}"]
    id: objectid
    indexes: [{fields: [id], unique: true}]
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range ForMapped(ds, src, m.For(ds.Name)) {
		if c.To != "mongodb" {
			continue
		}
		if len(c.Conversion.Refused) > 0 || len(c.Conversion.Split) != 2 {
			t.Fatalf("routed with id and indexes: %q, %d outputs", c.Conversion.Refused, len(c.Conversion.Split))
		}
		for _, o := range c.Conversion.Split {
			if !strings.Contains(o.Dataset.Options["mongodb.indexes"], "id_1") {
				t.Errorf("output %s: options %v, want the index id_1", o.Dataset.Name, o.Dataset.Options)
			}
		}
	}
}

// TestIDAndIndexesWithNest: nested rows make their own _id and carry no
// index but _id_, so id and indexes beside nest are refused at their lines.
func TestIDAndIndexesWithNest(t *testing.T) {
	src := &spec.Source{ID: "s0", Engine: "mysql"}
	ds := &spec.Dataset{Name: "im.logs", Kind: spec.KindTable, Namespace: "im", Object: "logs", PrimaryKey: []string{"id"},
		Columns: []spec.Column{{Name: "id", Type: "int64"}, {Name: "conv", Type: "large_utf8"}}, Parts: []spec.Part{{Rows: 1}}}
	m, err := ParseMapping("m.yaml", []byte(`version: 1
datasets:
  - match: im.logs
    nest: {by: conv, into: rows, order: [id]}
    id: objectid
    indexes: [{fields: [rows.id]}]
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range ForMapped(ds, src, m.For(ds.Name)) {
		if c.To != "mongodb" {
			continue
		}
		r := strings.Join(c.Conversion.Refused, "\n")
		if !strings.Contains(r, "m.yaml:5:9: id: nested rows make their own _id") || !strings.Contains(r, "m.yaml:6:14: indexes: nested rows carry no index") {
			t.Errorf("nest with id and indexes: refused %q", r)
		}
	}
}
