package convert

import (
	"strings"
	"testing"

	"github.com/imbundle/imbundle/internal/redistype"
	"github.com/imbundle/imbundle/spec"
)

func TestEscapedKeyParts(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain", "plain"}, {"a:b", `a\:b`}, {`a\b`, `a\\b`}, {`\:`, `\\\:`}, {"", ""},
	} {
		if got := string(escapeKeyPart(nil, []byte(c.in))); got != c.want {
			t.Errorf("escape %q = %q, want %q", c.in, got, c.want)
		}
	}
	// No table's prefix starts another's: "a:" and "a\:b:" are apart.
	names := []string{"a", "a:b", `a\`, `a\:`, "ab", ""}
	for _, x := range names {
		for _, y := range names {
			px, py := string(rowsPrefix(x)), string(rowsPrefix(y))
			if x != y && len(py) >= len(px) && py[:len(px)] == px {
				t.Errorf("prefix %q of %q starts prefix %q of %q", px, x, py, y)
			}
		}
	}
}

func TestKeyOwners(t *testing.T) {
	o := &keyOwners{}
	o.add(rowsPrefix("users"))
	o.add(rowsPrefix("a:b"))
	o.otherKind(&spec.Dataset{SchemaKeys: map[string]string{SchemaKeyCollection + "chats": "{}"}}, SchemaKeyCollection)
	for _, c := range []struct {
		key    string
		typ    redistype.Type
		owner  int
		schema bool
	}{
		{"users:1", redistype.Hash, 0, false},
		{`a\:b:1`, redistype.Hash, 1, false},
		{"a:b:1", redistype.Hash, -1, false},
		{"chats:1", redistype.String, 2, false},
		{"imbundle:table:users", redistype.String, -1, true},
		{"imbundle:table:users", redistype.Hash, -1, false},
		{"stray", redistype.String, -1, false},
		{`users\:1`, redistype.Hash, -1, false},
		{`a\`, redistype.Hash, -1, false},
	} {
		who, schema := o.owner([]byte(c.key), c.typ)
		if who != c.owner || schema != c.schema {
			t.Errorf("owner(%q, %s) = %d, %v; want %d, %v", c.key, c.typ, who, schema, c.owner, c.schema)
		}
	}
	take, why := o.mine(&keyRun{key: []byte("chats:1"), typ: redistype.String}, 0, true, redistype.Hash, "table")
	if take || why != "" {
		t.Errorf("a listed collection's key in a table's conversion: take %v, why %q; want it skipped", take, why)
	}
	if take, why := o.mine(&keyRun{key: []byte("stray"), typ: redistype.String}, 0, true, redistype.Hash, "table"); take || why == "" {
		t.Errorf("a key of nothing listed: take %v, why %q; want a reject", take, why)
	}
	if take, why := o.mine(&keyRun{key: []byte("users:1"), typ: redistype.Hash, open: true}, 0, true, redistype.Hash, "table"); take || why == "" {
		t.Errorf("a hash cut by the end of its part: take %v, why %q; want a reject", take, why)
	}
}

// TestTablesToRedisTakeNoMapping: a mapping entry that changes fields or
// renames the target refuses the conversion of a table to Redis hashes
// (its keys are named after the table, its fields after the columns).
func TestTablesToRedisTakeNoMapping(t *testing.T) {
	ds := &spec.Dataset{Name: "im.users", Kind: spec.KindTable, Namespace: "im", Object: "users", PrimaryKey: []string{"id"},
		Columns: []spec.Column{{Name: "id", Type: "int64"}, {Name: "name", Type: "large_utf8", Nullable: true}},
		Parts:   []spec.Part{{Rows: 1}}}
	src := &spec.Source{ID: "s0", Engine: "mysql"}
	for _, entry := range []string{"target: people", "rename: {name: nick}", "drop: [name]", "unnest: {field: name}"} {
		m, err := ParseMapping("m.yaml", []byte("version: 1\ndatasets:\n  - match: im.users\n    "+entry+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range ForMapped(ds, src, m.For(ds.Name)) {
			if c.To != "redis" {
				continue
			}
			if c.Conversion == nil || c.Conversion.Rule != ruleTableToHashes || len(c.Conversion.Refused) == 0 || !strings.Contains(c.Conversion.Refused[0], "m.yaml:") {
				t.Errorf("%s: conversion %+v, want it refused at the entry's line", entry, c.Conversion)
			}
		}
	}
}
