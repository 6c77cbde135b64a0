package convert

import (
	"strings"
	"testing"
)

// TestMappingRelations: a mapping's relations are read with the ends of
// checks, come first among its checks, and bind to a bundle's datasets:
// one each, none left out with a reason, two refused at the line.
func TestMappingRelations(t *testing.T) {
	m, err := ParseMapping("m.yaml", []byte(`version: 1
relations:
  - name: sender
    from: "*.msg(msgs.msg.send_id)"
    to: "*.users(user_id)"
  - name: max-seq
    from: {of: "redis.db*(c)", keys: "MAX_SEQ:{c}"}
    to: "*.conversations(conversation_id)"
  - name: blacks
    from: "*.blacks(owner_user_id)"
    to: "*.users(user_id)"
checks:
  - name: highest
    compare:
      left: {of: "redis.db*(c)", keys: "MAX_SEQ:{c}"}
      right: {of: "*.msg(c)", compute: {c: "doc_id[:lastIndexOf(doc_id, ':')]"}}
      max: {h: "max(map(msgs, .msg.seq))"}
      assert: "int(value) == (h ?? 0)"
`))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range m.AllChecks() {
		names = append(names, c.Name+":"+c.Kind())
	}
	if got := strings.Join(names, " "); got != "sender:relation max-seq:relation blacks:relation highest:compare" {
		t.Errorf("checks %s", got)
	}
	if e, err := m.AllChecks()[3].End("compare.right"); err != nil || e.Compute["c"] == "" {
		t.Errorf("computed end %+v: %v", e, err)
	}
	if w := m.AllChecks()[1].Where("relation.from"); w != "m.yaml:7:11" {
		t.Errorf("a relation's end is at %s, want m.yaml:7:11", w)
	}
	ds := []RelationDataset{{Name: "im.users"}, {Name: "im.conversations"}, {Name: "im.msg"}, {Name: "redis.db0", Keyspace: true}}
	rels, skipped, err := m.ResolveRelations(ds)
	if err != nil || len(rels) != 2 || len(skipped) != 1 || !strings.Contains(skipped[0], "blacks: no dataset of the bundle matches *.blacks") {
		t.Fatalf("resolve: %+v %v %v", rels, skipped, err)
	}
	if r := rels[1]; r.From.Dataset != "redis.db0" || r.From.Keys != "MAX_SEQ:{c}" || r.To.Dataset != "im.conversations" || rels[0].From.Columns[0] != "msgs.msg.send_id" {
		t.Errorf("resolved %+v", rels)
	}
	// A keys end takes keyspaces only, so a table named like one is not a second match.
	if _, _, err := m.ResolveRelations(append(ds, RelationDataset{Name: "redis.db1"})); err != nil {
		t.Errorf("a table named redis.db1: %v", err)
	}
	if _, _, err := m.ResolveRelations(append(ds, RelationDataset{Name: "old.users"})); err == nil || !strings.HasPrefix(err.Error(), "m.yaml:5:9: relation sender: *.users matches 2 datasets (im.users, old.users)") {
		t.Errorf("two matches: %v", err)
	}
	for _, bad := range []struct{ yaml, says string }{
		{"relations:\n  - from: \"a(x)\"\n    to: \"b(x)\"\n", "m.yaml:3:9: a relation needs a name"},
		{"relations:\n  - name: a\n    from: \"a(x)\"\n    to: \"b(x, y)\"\n", "m.yaml:5:9: check a: 2 column(s) against 1"},
		{"relations:\n  - name: a\n    from: \"a(x)\"\n    to: \"b(x)\"\nchecks:\n  - name: a\n    unique: {of: \"a(x)\"}\n", "two checks are named a"},
		{"checks:\n  - name: a\n    unique: {of: {of: \"a(x)\", compute: {x: \"(\"}}}\n", "m.yaml:4:"},
		{"checks:\n  - name: a\n    unique: {of: {of: \"a(x)\", compute: {\"1x\": \"y\"}}}\n", "a computed column needs a name"},
	} {
		_, err := ParseMapping("m.yaml", []byte("version: 1\n"+bad.yaml))
		if err == nil || !strings.Contains(err.Error(), bad.says) {
			t.Errorf("%s: %v, want %q", bad.yaml, err, bad.says)
		}
	}
	m, err = ParseMapping("m.yaml", []byte("version: 1\nrelations:\n  - name: a\n    from: {of: \"a(y)\", compute: {y: \"x + 1\"}}\n    to: \"b(x)\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.ResolveRelations([]RelationDataset{{Name: "a"}, {Name: "b"}}); err == nil || !strings.Contains(err.Error(), "a manifest relation names columns only") {
		t.Errorf("a computed column in a manifest relation: %v", err)
	}
}
