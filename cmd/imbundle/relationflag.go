package main

import (
	"fmt"
	"strings"

	"github.com/imbundle/imbundle/internal/scheme"
	"github.com/imbundle/imbundle/spec"
)

// parseRelationFlags reads export's --relation values,
// DATASET(col,...)->DATASET(col,...), with the bundle's dataset names: the
// edges between sources that no single source knows (an OpenIM 3.4 site's
// MongoDB msg documents' msg.send_id -> the MySQL users table's user_id).
// A MongoDB collection's columns are (dotted) document fields.
func parseRelationFlags(values []string) ([]spec.Relation, error) {
	var out []spec.Relation
	for _, v := range values {
		from, to, ok := strings.Cut(v, "->")
		if !ok {
			return nil, scheme.Usagef("--relation %q: want DATASET(col,...)->DATASET(col,...)", v)
		}
		f, err := relationEnd(from)
		if err != nil {
			return nil, scheme.Usagef("--relation %q: %v", v, err)
		}
		t, err := relationEnd(to)
		if err != nil {
			return nil, scheme.Usagef("--relation %q: %v", v, err)
		}
		if len(f.Columns) != len(t.Columns) {
			return nil, scheme.Usagef("--relation %q: %d column(s) on the left, %d on the right", v, len(f.Columns), len(t.Columns))
		}
		out = append(out, spec.Relation{From: f, To: t, Origin: spec.RelationDeclared})
	}
	return out, nil
}

func relationEnd(s string) (spec.RelationEnd, error) {
	s = strings.TrimSpace(s)
	open := strings.IndexByte(s, '(')
	if open <= 0 || !strings.HasSuffix(s, ")") {
		return spec.RelationEnd{}, fmt.Errorf("%q: want DATASET(col,...)", s)
	}
	e := spec.RelationEnd{Dataset: strings.TrimSpace(s[:open])}
	for _, c := range strings.Split(s[open+1:len(s)-1], ",") {
		if c = strings.TrimSpace(c); c == "" {
			return spec.RelationEnd{}, fmt.Errorf("%q: an empty column name", s)
		}
		e.Columns = append(e.Columns, c)
	}
	return e, nil
}

// checkRelationFlags refuses, before the bundle is finished, a --relation
// naming a dataset the export did not write, or a table column it lacks.
func checkRelationFlags(m *spec.Manifest, rels []spec.Relation) error {
	engines := map[string]string{}
	for _, s := range m.Sources {
		engines[s.ID] = s.Engine
	}
	datasets := map[string]*spec.Dataset{}
	for i := range m.Datasets {
		datasets[m.Datasets[i].Name] = &m.Datasets[i]
	}
	for _, r := range rels {
		for _, e := range []spec.RelationEnd{r.From, r.To} {
			ds := datasets[e.Dataset]
			if ds == nil {
				return fmt.Errorf("--relation: the export wrote no dataset %q (imbundle inspect lists a bundle's datasets); nothing was written", e.Dataset)
			}
			if engines[ds.Source] == "mongodb" {
				continue // documents have fields, not columns
			}
			cols := map[string]bool{}
			for _, c := range ds.Columns {
				cols[c.Name] = true
			}
			for _, c := range e.Columns {
				if !cols[c] {
					return fmt.Errorf("--relation: dataset %q has no column %q; nothing was written", e.Dataset, c)
				}
			}
		}
	}
	return nil
}
