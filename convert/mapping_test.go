package convert

import (
	"strings"
	"testing"

	"github.com/imbundle/imbundle/spec"
)

// TestMappingErrorsNameTheLine: every mistake in a mapping file is an
// error at FILE:LINE:COLUMN, before any dataset is looked at.
func TestMappingErrorsNameTheLine(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"version: 1\ndatasets:\n  - match: a.b\n    renam: {x: y}\n", "m.yaml:4:5: unknown field \"renam\""},
		{"version: 2\ndatasets: []\n", "m.yaml:1:10: version 2"},
		{"version: 1\ndatasets:\n  - skip: true\n", "m.yaml:3:"}, {"version: 1\ndatasets:\n  - skip: true\n", "an entry needs match"},
		{"version: 1\ndatasets:\n  - match: \"a[\"\n", "m.yaml:3:12: bad glob"},
		{"version: 1\ndatasets:\n  - match: a.b\n    skip: true\n    drop: [x]\n", "m.yaml:4:11: an entry that skips"},
		{"version: 1\ndatasets:\n  - match: a.b\n    rename:\n      x: z\n      y: z\n", "both renamed to z"},
		{"version: 1\ndatasets:\n  - match: a.b\n    drop: x: y: z\n", "m.yaml:4"},
	} {
		_, err := ParseMapping("m.yaml", []byte(c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want it to contain %q", c.yaml, err, c.want)
		}
	}
}

// TestMappingAgainstTheDataset: renames, drops and filters that name no
// column, or a filter that does not compile, refuse the conversion at the
// entry's line; a valid entry renames, drops and notes.
func TestMappingAgainstTheDataset(t *testing.T) {
	ds := &spec.Dataset{Name: "im.users", Kind: spec.KindTable, Namespace: "im", Object: "users", PrimaryKey: []string{"id"},
		Columns: []spec.Column{{Name: "id", Type: "int64"}, {Name: "name", Type: "large_utf8", Nullable: true}, {Name: "secret", Type: "large_binary", Nullable: true}},
		Parts:   []spec.Part{{Rows: 1}}}
	src := &spec.Source{ID: "s0", Engine: "mysql"}
	m, err := ParseMapping("m.yaml", []byte(`version: 1
datasets:
  - match: im.user*
    target: people
    rename: {name: displayName, nope: x}
    drop: [secret, gone]
    filter: "nam == 'x'"
    compute: {bad: "nope + 1"}
`))
	if err != nil {
		t.Fatal(err)
	}
	var conv *Conversion
	for _, c := range ForMapped(ds, src, m.For("im.users")) {
		if c.To == "mongodb" {
			conv = c.Conversion
		}
	}
	if conv == nil {
		t.Fatal("no conversion to mongodb")
	}
	refused := strings.Join(conv.Refused, "\n")
	for _, want := range []string{"m.yaml:5:39: rename nope", "m.yaml:6:20: drop gone", "m.yaml:7:13: ", "nam", "m.yaml:8:20: unknown name nope"} {
		if !strings.Contains(refused, want) {
			t.Errorf("refusals do not contain %q:\n%s", want, refused)
		}
	}
	if conv.Dataset.Object != "people" || conv.Dataset.Namespace != "im" {
		t.Errorf("target: %s.%s, want im.people", conv.Dataset.Namespace, conv.Dataset.Object)
	}
	notes := strings.Join(conv.Notes, "\n")
	if !strings.Contains(notes, "name becomes displayName") || !strings.Contains(notes, "secret left out") {
		t.Errorf("notes:\n%s", notes)
	}
	if m.For("other.users") != nil {
		t.Error("an entry for im.user* matched other.users")
	}
}

// TestNestedFieldConflicts: a dotted target name nests, and one that would
// make a field both a value and a sub-document is refused.
func TestNestedFieldConflicts(t *testing.T) {
	ds := &spec.Dataset{Name: "im.users", Kind: spec.KindTable, PrimaryKey: []string{"id"},
		Columns: []spec.Column{{Name: "id", Type: "int64"}, {Name: "name", Type: "large_utf8", Nullable: true}, {Name: "city", Type: "large_utf8", Nullable: true}}}
	src := &spec.Source{ID: "s0", Engine: "mysql"}
	for _, c := range []struct {
		yaml    string
		refused string
	}{
		{"rename: {name: p.name, city: p.city}", ""},
		{"rename: {name: p.name}\n    compute: {p: \"1\"}", "two fields would be p"},
		{"rename: {name: p, city: p.city}", "two fields would be p"},
		{"rename: {name: \"p..x\"}", "empty name part"},
	} {
		m, err := ParseMapping("m.yaml", []byte("version: 1\ndatasets:\n  - match: im.users\n    "+c.yaml+"\n"))
		if err != nil {
			t.Fatalf("%s: %v", c.yaml, err)
		}
		for _, cand := range ForMapped(ds, src, m.For("im.users")) {
			if cand.To != "mongodb" {
				continue
			}
			got := strings.Join(cand.Conversion.Refused, "; ")
			if (c.refused == "") != (got == "") || !strings.Contains(got, c.refused) {
				t.Errorf("%s: refused %q, want %q", c.yaml, got, c.refused)
			}
		}
	}
}

// TestDottedSourceIntoJSONRefused: on the MySQL-to-MongoDB rule a dotted
// rename or drop source would read inside a JSON column, which is not
// done: refused at its line, saying so, never taken as the whole column.
func TestDottedSourceIntoJSONRefused(t *testing.T) {
	ds := &spec.Dataset{Name: "im.users", Kind: spec.KindTable, PrimaryKey: []string{"id"},
		Columns: []spec.Column{{Name: "id", Type: "int64"}, {Name: "profile", Type: "large_utf8", Nullable: true, Metadata: map[string]string{"imbundle.json": "true"}}}}
	src := &spec.Source{ID: "s0", Engine: "mysql"}
	m, err := ParseMapping("m.yaml", []byte("version: 1\ndatasets:\n  - match: im.users\n    rename: {profile.city: city}\n    drop: [profile.secret]\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, cand := range ForMapped(ds, src, m.For("im.users")) {
		if cand.To != "mongodb" {
			continue
		}
		got := strings.Join(cand.Conversion.Refused, "\n")
		for _, want := range []string{"m.yaml:4:", "rename profile.city: im.users has no such column (a dotted name reads no field inside column profile", "m.yaml:5:", "drop profile.secret"} {
			if !strings.Contains(got, want) {
				t.Errorf("refused %q, want %q", got, want)
			}
		}
	}
}

// TestUnnestRefusedOnTables: a table's rows have no arrays: unnest on the
// MySQL-to-MongoDB rule is refused at its line, not ignored.
func TestUnnestRefusedOnTables(t *testing.T) {
	ds := &spec.Dataset{Name: "im.users", Kind: spec.KindTable, PrimaryKey: []string{"id"}, Columns: []spec.Column{{Name: "id", Type: "int64"}}}
	m, err := ParseMapping("m.yaml", []byte("version: 1\ndatasets:\n  - match: im.users\n    unnest: {field: tags}\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, cand := range ForMapped(ds, &spec.Source{ID: "s0", Engine: "mysql"}, m.For("im.users")) {
		if cand.To != "mongodb" {
			continue
		}
		if got := strings.Join(cand.Conversion.Refused, "\n"); !strings.Contains(got, "m.yaml:4:13: unnest: a table's row has no array") {
			t.Errorf("refused %q", got)
		}
	}
}
