package convert

import (
	"strings"
	"testing"
)

// TestChecksParse: the checks of a mapping file are read with their ends
// and expressions checked, each mistake at its FILE:LINE:COLUMN.
func TestChecksParse(t *testing.T) {
	m, err := ParseMapping("m.yaml", []byte(`version: 1
checks:
  - name: a
    compare:
      left: " db.g_* ( id , k ) "
      right: "*.m(g, k)"
      counts: {n: "true"}
      assert: "n == 1"
`))
	if err != nil {
		t.Fatal(err)
	}
	c := m.AllChecks()[0]
	if e, err := c.End("compare.left"); err != nil || e.String() != "db.g_*(id, k)" || c.Kind() != "compare" || strings.Join(c.CountNames(), ",") != "n" {
		t.Errorf("end %v (%v), kind %s, counts %v", e, err, c.Kind(), c.CountNames())
	}
	if _, used, err := c.Compile("compare.assert", "n == 1 && len(k) > 0", func(s string) bool { return s == "n" || s == "k" }); err != nil || strings.Join(used, ",") != "n,k" {
		t.Errorf("compile: used %v, %v", used, err)
	}
	if _, _, err := c.Compile("compare.assert", "nn == 1", func(s string) bool { return s == "n" }); err == nil || !strings.HasPrefix(err.Error(), "m.yaml:8:15: unknown name nn") {
		t.Errorf("unknown name: %v", err)
	}
	for _, bad := range []struct{ yaml, says string }{
		{"  - relation: {from: \"a(x)\", to: \"b(x)\"}\n", "m.yaml:3:13: a check needs a name"},
		{"  - name: a\n    unique: {of: \"a(x)\"}\n  - name: a\n    unique: {of: \"a(x)\"}\n", "m.yaml:5:11: two checks are named a"},
		{"  - name: a\n    unique: {of: \"[(x)\"}\n", "m.yaml:4:18: bad glob"},
		{"  - name: a\n    unique: {of: \"a(x,)\"}\n", "an empty column name"},
		{"  - name: a\n    compare: {left: \"a(x)\", right: \"b(x)\"}\n", "m.yaml:4:14: check a: a compare needs assert"},
		{"  - name: a\n    compare: {left: \"a(x)\", right: \"b(x)\", assert: \"true\", counts: {\"1x\": \"true\"}}\n", "a count needs a name"},
		{"  - name: a\n    increasing: {of: \"a(x)\", by: t}\n", "increasing needs by"},
		{"  - name: a\n    unique: {of: \"a(x)\", filter: \"x ==\"}\n", "m.yaml:4:34: unexpected token"},
		{"  - name: a\n    unique: {of: \"a(x)\", fliter: \"x\"}\n", "m.yaml:4:26: unknown field \"fliter\""},
		{"  - name: a\n    unique:\n      of: {of: \"redis.db*(c)\", keys: \"MAX_SEQ:{c\"}\n", "m.yaml:5:38: pattern \"MAX_SEQ:{c\": the '{' at byte 8 is not closed"},
		{"  - name: a\n    unique:\n      of: {of: \"redis.db*(d)\", keys: \"MAX_SEQ:{c}\"}\n", "d: a keys end's columns are its captures, key and value"},
		{"  - name: a\n    compare: {left: \"a(x)\", right: \"b(x)\", assert: \"true\", counts: {n: \"true\"}, max: {n: \"x\"}}\n", "n is both a count and a max"},
		{"  - name: a\n    unique:\n      of: {of: \"redis.db*(c)\", kyes: \"MAX_SEQ:{c}\"}\n", "m.yaml:5:32: unknown field \"kyes\""},
	} {
		_, err := ParseMapping("m.yaml", []byte("version: 1\nchecks:\n"+bad.yaml))
		if err == nil || !strings.Contains(err.Error(), bad.says) {
			t.Errorf("%s: %v, want %q", bad.yaml, err, bad.says)
		}
	}
}
