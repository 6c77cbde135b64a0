package convert

import (
	"fmt"
	"sort"
	"strings"

	"github.com/imbundle/imbundle/spec"
)

// Embed is one entry of a mapping entry's embed list (SPEC.md §11.1,
// embedded rows): the rows of another dataset of the bundle whose columns
// On names match the entry's row go into its document, an array of
// sub-documents Into (or, with One, a sub-document Into, or with One and
// no Into their fields beside the row's own). Relational Migrator calls
// this embedding a child table; OpenIM's group_members beside groups and
// WildfireChat's user settings beside users are such children.
type Embed struct {
	Dataset string            `yaml:"dataset"` // the child dataset's name in the bundle
	On      map[string]string `yaml:"on"`      // this dataset's column -> the child's column
	Into    string            `yaml:"into"`    // the field holding the child rows
	Order   []string          `yaml:"order"`   // the child's columns ordering its rows (then the bundle's row order)
	One     bool              `yaml:"one"`     // at most one child row: a sub-document, or its fields merged in (no into)

	ds  *spec.Dataset // Dataset, bound to a bundle's manifest (Mapping.Bind)
	src *spec.Source
}

// joinPair is one column pair of an embed's On, in parent column order.
type joinPair struct{ parent, child string }

// pairs is e.On sorted by the parent's column name, so that a composite
// key is encoded in one order on both sides.
func (e *Embed) pairs() []joinPair {
	var out []joinPair
	for p, c := range e.On {
		out = append(out, joinPair{p, c})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].parent < out[j].parent })
	return out
}

// checkEmbed checks the embed list on its own; whether the names are the
// datasets' columns is the rule's to check once the mapping is bound.
func (d *DatasetRule) checkEmbed() error {
	if len(d.Embed) == 0 {
		return nil
	}
	switch {
	case d.Nest != nil || d.Unnest != nil || len(d.Keys) > 0:
		return d.errorAt("embed", "embed takes no nest, unnest or keys beside it")
	case d.routes():
		return d.errorAt("embed", "embed and route in one entry: embedded documents go to one collection")
	case d.Union:
		return d.errorAt("embed", "embed and union in one entry: a child row would belong to one of the united datasets only")
	case strings.ContainsAny(d.Match, `*?[\`):
		return d.errorAt("match", "an entry with embed names one dataset (%q is a glob): its children join that dataset's rows", d.Match)
	}
	intos := map[string]int{}
	for i := range d.Embed {
		e := &d.Embed[i]
		at := func(key string) string { return fmt.Sprintf("embed[%d]%s", i, key) }
		switch {
		case e.Dataset == "":
			return d.errorAt(at(""), "an embed needs dataset: the bundle dataset whose rows go into this one's documents")
		case e.Dataset == d.Match:
			return d.errorAt(at(".dataset"), "a dataset embeds no rows of its own")
		case len(e.On) == 0:
			return d.errorAt(at(""), "an embed needs on: {this dataset's column: the child's column, ...}")
		case e.Into == "" && !e.One:
			return d.errorAt(at(""), "an embed needs into: the array field holding the child rows (only one: true may merge the fields in)")
		case strings.Contains(e.Into, "."):
			return d.errorAt(at(".into"), "embed into %s: a top-level field, a plain name", e.Into)
		case e.Into == "_id":
			return d.errorAt(at(".into"), "embed into _id: _id is the row's key")
		case e.One && len(e.Order) > 0:
			return d.errorAt(at(".order"), "one: true takes one child row, which has no order")
		}
		for p, c := range e.On {
			if p == "" || c == "" {
				return d.errorAt(at(".on"), "an empty column name in embed on")
			}
		}
		if e.Into != "" {
			if j, dup := intos[e.Into]; dup {
				return d.errorAt(at(".into"), "embed[%d] and embed[%d] both go into %s", j, i, e.Into)
			}
			intos[e.Into] = i
		}
		seen := map[string]bool{}
		for k, o := range e.Order {
			if o == "" || seen[o] {
				return d.errorAt(at(fmt.Sprintf(".order[%d]", k)), "embed order: an empty or repeated column name %q", o)
			}
			seen[o] = true
		}
	}
	return nil
}

// checkEmbedded refuses, at the entry of a dataset that another entry
// embeds, what would place it on its own: its rows go into the parent's
// documents, shaped by its field operations only.
func (m *Mapping) checkEmbedded() error {
	by := map[string]*DatasetRule{}
	for i := range m.Datasets {
		d := &m.Datasets[i]
		for k, e := range d.Embed {
			if p, dup := by[e.Dataset]; dup {
				return d.errorAt(fmt.Sprintf("embed[%d].dataset", k), "%s is embedded by the entry at %s already", e.Dataset, p.Where())
			}
			by[e.Dataset] = d
		}
	}
	for name, parent := range by {
		c := m.For(name)
		if c == nil {
			continue
		}
		switch {
		case c.Skip != "":
			return c.errorAt("skip", "%s is embedded by the entry at %s: it cannot be skipped too", name, parent.Where())
		case c.Target != "" || c.Engine != "" || c.Union || c.routes() || c.ID != "" || len(c.Indexes) > 0 || len(c.Embed) > 0 || c.Nest != nil || c.Unnest != nil || len(c.Keys) > 0:
			return c.errorAt("match", "%s is embedded by the entry at %s: its own entry shapes its fields only (rename, drop, cast, defaults, compute, filter)", name, parent.Where())
		}
	}
	return nil
}

// Bind resolves the embed lists' datasets in a bundle's manifest; an
// entry whose child the manifest lacks is refused by its rule (plan says
// so, an import stops before writing). Call it before the conversions of
// m's datasets are built.
func (m *Mapping) Bind(man *spec.Manifest) {
	if m == nil {
		return
	}
	for i := range m.Datasets {
		for k := range m.Datasets[i].Embed {
			e := &m.Datasets[i].Embed[k]
			e.ds, e.src = nil, nil
			for j := range man.Datasets {
				if man.Datasets[j].Name == e.Dataset {
					e.ds = &man.Datasets[j]
				}
			}
			if e.ds == nil {
				continue
			}
			for j := range man.Sources {
				if man.Sources[j].ID == e.ds.Source {
					e.src = &man.Sources[j]
				}
			}
		}
	}
}

// EmbeddedIn returns the entry that embeds dataset name into another
// dataset's documents, or nil: an import loads it only with that one.
func (m *Mapping) EmbeddedIn(name string) *DatasetRule {
	if m == nil {
		return nil
	}
	for i := range m.Datasets {
		for _, e := range m.Datasets[i].Embed {
			if e.Dataset == name {
				return &m.Datasets[i]
			}
		}
	}
	return nil
}

// Embedder returns the entry embedding dataset name and that entry's
// dataset in man, or nils when no entry embeds it or the bundle lacks its
// parent (the child is then a dataset like any other).
func (m *Mapping) Embedder(man *spec.Manifest, name string) (*DatasetRule, *spec.Dataset) {
	by := m.EmbeddedIn(name)
	if by == nil {
		return nil, nil
	}
	for i := range man.Datasets {
		if man.Datasets[i].Name == by.Match {
			return by, &man.Datasets[i]
		}
	}
	return nil, nil
}

// Embeds reports whether the entry embeds other datasets' rows.
func (d *DatasetRule) Embeds() bool { return d != nil && len(d.Embed) > 0 }
