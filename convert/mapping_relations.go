package convert

import (
	"fmt"
	"path"
	"strings"

	"github.com/imbundle/imbundle/internal/redistype"
	"github.com/imbundle/imbundle/spec"
)

// RelationRule is one entry of a mapping's relations (SPEC.md §11.6,
// "Relations"): an edge between a site's datasets that no single source
// declares (an OpenIM 3.4 message's send_id in MongoDB -> users.user_id in
// MySQL). export --profile NAME resolves each end's glob against the
// datasets it wrote and records the relation in the manifest, where verify
// --relations finds it; verify --profile NAME checks it as a relation check.
type RelationRule struct {
	Name string       `yaml:"name"`
	From CheckEndSpec `yaml:"from"`
	To   CheckEndSpec `yaml:"to"`

	check Check // the relation as a check (checkChecks)
}

// RelationDataset is a bundle dataset as the export's relations see it.
type RelationDataset struct {
	Name     string
	Keyspace bool // a Redis keyspace: only a keys end takes it
}

// ResolvedEnd is one end of a profile relation bound to one dataset.
type ResolvedEnd struct {
	Dataset string
	Columns []string
	Keys    string // the key pattern of a keys end, as written
}

// ResolvedRelation is a profile relation bound to the datasets of one bundle.
type ResolvedRelation struct {
	Name     string
	From, To ResolvedEnd
}

// ResolveRelations binds the mapping's relations to the bundle's datasets:
// each end's glob must match exactly one dataset of its kind (a keys end a
// Redis keyspace, any other end a table or collection). A relation an end
// of which matches none is left out and named in skipped (a profile covers
// tables a site may not have); one matching two is an error at its line,
// since a relation joins one dataset to one. A computed column cannot be
// recorded in a manifest: such a relation is refused too.
func (m *Mapping) ResolveRelations(datasets []RelationDataset) (out []ResolvedRelation, skipped []string, err error) {
	for i := range m.Relations {
		r := &m.Relations[i]
		ends := [2]ResolvedEnd{}
		missing := ""
		for j, key := range []string{"relation.from", "relation.to"} {
			e, err := r.check.End(key)
			if err != nil {
				return nil, nil, err
			}
			if len(e.Compute) > 0 {
				return nil, nil, r.check.ErrorAt(key, "relation %s: a manifest relation names columns only (computed columns belong in checks)", r.Name)
			}
			var hits []string
			for _, ds := range datasets {
				if ok, _ := path.Match(e.Glob, ds.Name); ok && ds.Keyspace == (e.Keys != nil) {
					hits = append(hits, ds.Name)
				}
			}
			switch len(hits) {
			case 0:
				if missing == "" {
					missing = fmt.Sprintf("%s: no dataset of the bundle matches %s", r.Name, e.Glob)
				}
			case 1:
				ends[j] = ResolvedEnd{Dataset: hits[0], Columns: e.Columns}
				if e.Keys != nil {
					ends[j].Keys = e.Keys.kp.text
				}
			default:
				return nil, nil, r.check.ErrorAt(key, "relation %s: %s matches %d datasets (%s): a relation joins one dataset to one; declare each with export --relation", r.Name, e.Glob, len(hits), strings.Join(hits, ", "))
			}
		}
		if missing != "" {
			skipped = append(skipped, missing)
			continue
		}
		out = append(out, ResolvedRelation{Name: r.Name, From: ends[0], To: ends[1]})
	}
	return out, skipped, nil
}

// ManifestRelations binds the mapping's relations to the datasets of a
// manifest (ResolveRelations) and makes them the manifest's declared
// relations, refusing an end naming a column its table lacks (a document's
// fields and a keys end's captures are not columns). skipped names the
// relations left out, each with its reason.
func (m *Mapping) ManifestRelations(man *spec.Manifest) (rels []spec.Relation, skipped []string, err error) {
	engines := map[string]string{}
	for _, s := range man.Sources {
		engines[s.ID] = s.Engine
	}
	var datasets []RelationDataset
	byName := map[string]*spec.Dataset{}
	for i := range man.Datasets {
		ds := &man.Datasets[i]
		byName[ds.Name] = ds
		if engines[ds.Source] == "redis" && (ds.Kind != spec.KindKeyspace || ds.Options["layout"] == redistype.GroupsLayoutName) {
			continue // a Redis source's stream state has no keys to name
		}
		datasets = append(datasets, RelationDataset{Name: ds.Name, Keyspace: engines[ds.Source] == "redis"})
	}
	resolved, skipped, err := m.ResolveRelations(datasets)
	if err != nil {
		return nil, nil, err
	}
	for _, r := range resolved {
		rel := spec.Relation{Name: r.Name, Origin: spec.RelationDeclared}
		for _, e := range []struct {
			in  ResolvedEnd
			out *spec.RelationEnd
		}{{r.From, &rel.From}, {r.To, &rel.To}} {
			*e.out = spec.RelationEnd{Dataset: e.in.Dataset, Columns: e.in.Columns, Keys: e.in.Keys}
			ds := byName[e.in.Dataset]
			if e.in.Keys != "" || engines[ds.Source] == "mongodb" {
				continue
			}
			cols := map[string]bool{}
			for _, c := range ds.Columns {
				cols[c.Name] = true
			}
			for _, c := range e.in.Columns {
				if !cols[c] {
					return nil, nil, fmt.Errorf("%s: relation %s: dataset %s has no column %s", m.File(), r.Name, ds.Name, c)
				}
			}
		}
		rels = append(rels, rel)
	}
	return rels, skipped, nil
}
