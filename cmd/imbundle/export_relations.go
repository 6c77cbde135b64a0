package main

import (
	"fmt"
	"io"

	"github.com/imbundle/imbundle/convert"
	"github.com/imbundle/imbundle/internal/redistype"
	"github.com/imbundle/imbundle/spec"
)

// profileRelations binds the relations of export's --profile (or --map
// FILE.yaml) to the datasets the export wrote (SPEC.md §11.6,
// "Relations"), refusing an end naming a column its table lacks. A
// relation whose dataset the site does not have is left out, with a note.
func profileRelations(m *convert.Mapping, man *spec.Manifest, notes io.Writer) ([]spec.Relation, error) {
	if m == nil {
		return nil, nil
	}
	engines := map[string]string{}
	for _, s := range man.Sources {
		engines[s.ID] = s.Engine
	}
	var datasets []convert.RelationDataset
	byName := map[string]*spec.Dataset{}
	for i := range man.Datasets {
		ds := &man.Datasets[i]
		byName[ds.Name] = ds
		if engines[ds.Source] == "redis" && (ds.Kind != spec.KindKeyspace || ds.Options["layout"] == redistype.GroupsLayoutName) {
			continue // a Redis source's stream state has no keys to name
		}
		datasets = append(datasets, convert.RelationDataset{Name: ds.Name, Keyspace: engines[ds.Source] == "redis"})
	}
	resolved, skipped, err := m.ResolveRelations(datasets)
	if err != nil {
		return nil, err
	}
	for _, s := range skipped {
		fmt.Fprintf(notes, "note: relation %s: not recorded\n", s)
	}
	var out []spec.Relation
	for _, r := range resolved {
		rel := spec.Relation{Name: r.Name, Origin: spec.RelationDeclared}
		for _, e := range []struct {
			in  convert.ResolvedEnd
			out *spec.RelationEnd
		}{{r.From, &rel.From}, {r.To, &rel.To}} {
			*e.out = spec.RelationEnd{Dataset: e.in.Dataset, Columns: e.in.Columns, Keys: e.in.Keys}
			ds := byName[e.in.Dataset]
			if e.in.Keys != "" || engines[ds.Source] == "mongodb" {
				continue // key captures and document fields are not columns
			}
			cols := map[string]bool{}
			for _, c := range ds.Columns {
				cols[c.Name] = true
			}
			for _, c := range e.in.Columns {
				if !cols[c] {
					return nil, fmt.Errorf("%s: relation %s: dataset %s has no column %s; nothing was written", m.File(), r.Name, ds.Name, c)
				}
			}
		}
		out = append(out, rel)
	}
	return out, nil
}
