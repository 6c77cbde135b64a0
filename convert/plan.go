package convert

import "github.com/imbundle/imbundle/spec"

// Step is what an import into an engine would do with one dataset of a
// bundle: load it as it is, convert it by a rule, or leave it out.
type Step struct {
	Dataset string   `json:"dataset"`
	From    string   `json:"from"` // the source's engine
	Kind    string   `json:"kind"` // the dataset's kind in the target's layout
	Target  string   `json:"target"`
	Rows    int64    `json:"rows"`
	Rule    string   `json:"rule,omitempty"` // empty: loaded as it is
	Notes   []string `json:"notes,omitempty"`
	// Warnings are what the conversion leaves behind (Conversion.Warnings).
	Warnings []string `json:"warnings,omitempty"`
	Refused  []string `json:"refused,omitempty"` // the import would stop before writing
	Left     string   `json:"left,omitempty"`    // why the dataset would not be imported
	// EmbeddedIn names, for a dataset a mapping entry embeds into
	// another's documents, that dataset and the entry (FILE:LINE:COLUMN).
	EmbeddedIn string `json:"embedded_in,omitempty"`
	// Union lists, on each step of a union (a mapping entry's union:
	// true), every dataset loading into its target, in the manifest's
	// order; UnionBy is the entry (FILE:LINE:COLUMN).
	Union   []string `json:"union,omitempty"`
	UnionBy string   `json:"union_by,omitempty"`

	union *DatasetRule
}

// Plan says, without touching any database, what an import of m into a
// target of engine would do with each dataset; rename maps namespaces as
// --map does. A target may still place objects elsewhere (a database in
// its URL) or refuse a dataset of its own engine for its layout.
func Plan(m *spec.Manifest, engine string, rename map[string]string, mapping *Mapping) []Step {
	srcs := map[string]*spec.Source{}
	for i := range m.Sources {
		srcs[m.Sources[i].ID] = &m.Sources[i]
	}
	hasOwn := false
	for i := range m.Datasets {
		if s := srcs[m.Datasets[i].Source]; s != nil && s.Engine == engine {
			hasOwn = true
		}
	}
	mapping.Bind(m)
	var out []Step
	for i := range m.Datasets {
		ds := &m.Datasets[i]
		src := srcs[ds.Source]
		st := Step{Dataset: ds.Name, Kind: ds.Kind, Rows: ds.Rows}
		if src != nil {
			st.From = src.Engine
		}
		if by, parent := mapping.Embedder(m, ds.Name); by != nil && srcs[parent.Source] != nil && srcs[parent.Source].Engine != engine {
			st.EmbeddedIn = parent.Name + " (" + by.Where() + ")"
			out = append(out, st)
			continue
		}
		ns := ds.Namespace
		if n, ok := rename[ns]; ok {
			ns = n
		}
		st.Target = ns + "." + ds.Object
		rule := mapping.For(ds.Name)
		split := false
		skip, skipErr := rule.Skips(ds)
		switch {
		case skipErr != nil:
			st.Refused = append(st.Refused, skipErr.Error())
		case skip:
			st.Left = "skipped by the mapping (" + rule.Where() + ")"
		case src == nil:
			st.Left = "its source is not in the manifest"
		case rule.SendsElsewhere(engine):
			st.Left = rule.Elsewhere()
		case src.Engine == engine && rule.routes():
			out = append(out, splitSteps(st, SameEngineRoute(ds, src, rule), rename)...)
			split = true
		case src.Engine == engine:
			if rule.changesFields() || (rule != nil && rule.Target != "") {
				st.Refused = append(st.Refused, rule.Where()+": mapping entries apply to datasets converted to another engine only, for now")
			}
			if c := Members(ds, src); c != nil {
				// A logical dataset goes back into its members (§3).
				steps := splitSteps(st, c, rename)
				for k := range steps {
					steps[k].Rows = c.Split[k].Dataset.Rows
				}
				out = append(out, steps...)
				split = true
			}
		case !Chosen(ds.Name, false, mapping, hasOwn):
			st.Left = "another engine's dataset beside the target's own: name it with --datasets (or a mapping entry) to convert it"
		default:
			st.Left = "no default mapping from " + src.Engine + " to " + engine
			for _, c := range ForMapped(ds, src, rule) {
				if c.To != engine || c.Conversion == nil {
					continue
				}
				if len(c.Conversion.Split) > 0 {
					out = append(out, splitSteps(st, c.Conversion, rename)...)
					split = true
					continue
				}
				st.Left, st.Rule, st.Kind = "", c.Conversion.Rule, c.Conversion.Dataset.Kind
				cd := c.Conversion.Dataset
				ns = cd.Namespace
				if n, ok := rename[ns]; ok {
					ns = n
				}
				st.Target = ns + "." + cd.Object
				st.Notes, st.Refused, st.Warnings = c.Conversion.Notes, c.Conversion.Refused, c.Conversion.Warnings
				if rule.Unites() {
					st.union = rule
				}
				if c.Err != nil {
					st.Refused = append(st.Refused, c.Err.Error())
				}
			}
		}
		if split {
			continue // its outputs' steps are in
		}
		out = append(out, st)
	}
	unionSteps(out, engine)
	return out
}

// unionSteps gives each step of a union the names of every dataset that
// loads into its target with it; only a MongoDB target loads a union
// (importer.Uniter), so for another engine each such step is refused.
func unionSteps(steps []Step, engine string) {
	type key struct {
		rule   *DatasetRule
		target string
	}
	names := map[key][]string{}
	for _, st := range steps {
		if st.union != nil {
			k := key{st.union, st.Target}
			names[k] = append(names[k], st.Dataset)
		}
	}
	for i := range steps {
		if u := steps[i].union; u != nil {
			steps[i].Union, steps[i].UnionBy = names[key{u, steps[i].Target}], u.Where()
			if engine != mongoEngine && len(steps[i].Union) > 1 {
				steps[i].Refused = append(steps[i].Refused, u.position("union")+": a "+engine+" target loads no union yet (MongoDB does)")
			}
		}
	}
}

// splitSteps are the steps of a conversion with several outputs, one per
// target dataset; the whole conversion's refusals are each one's.
func splitSteps(st Step, c *Conversion, rename map[string]string) []Step {
	var out []Step
	for _, o := range c.Split {
		s := st
		s.Left, s.Rule, s.Kind, s.Dataset = "", o.Rule, o.Dataset.Kind, o.Dataset.Name
		ns := o.Dataset.Namespace
		if n, ok := rename[ns]; ok {
			ns = n
		}
		s.Target = ns + "." + o.Dataset.Object
		s.Notes = append(append([]string(nil), c.Notes...), o.Notes...)
		s.Refused = append(append([]string(nil), c.Refused...), o.Refused...)
		out = append(out, s)
	}
	return out
}

// Chosen reports whether a dataset of another engine than the target's is
// converted for it: when the bundle holds no dataset the target takes as
// it is, or when the dataset was asked for by name (--datasets) or by a
// mapping entry. An import of a whole site's bundle into one of its stores
// then loads that store's own datasets and lists the others, as before
// conversions existed; asking for them converts them.
func Chosen(name string, named bool, m *Mapping, targetHasOwn bool) bool {
	return !targetHasOwn || named || m.For(name) != nil
}
