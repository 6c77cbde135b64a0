package convert

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// A Mapping file (SPEC.md §11.6) adjusts the default conversions: which
// datasets go, under which names, with which fields and rows. YAML is read
// with github.com/goccy/go-yaml because its errors and nodes carry line and
// column, so that every mistake is reported as FILE:LINE:COLUMN before
// anything is written.
type Mapping struct {
	Version  int           `yaml:"version"`
	Datasets []DatasetRule `yaml:"datasets"`
	// Finally are documents written after everything else succeeded
	// (mapping_finally.go).
	Finally []FinalEntry `yaml:"finally"`
	// Checks are invariants verify checks offline over the bundle's rows
	// (mapping_checks.go).
	Checks []Check `yaml:"checks"`
	// Relations (mapping_relations.go) are the edges between a site's
	// datasets that export --profile writes into the bundle's manifest;
	// verify --profile checks them offline as relation checks.
	Relations []RelationRule `yaml:"relations"`
	// Shards (mapping_shards.go) are sharded table families that export
	// --profile reads as logical datasets.
	Shards []ShardEntry `yaml:"shards"`

	final []FinalDocuments
	file  string
	ast   *ast.File
}

// DatasetRule is one entry of a mapping's datasets list. A dataset takes the
// first entry whose Match it matches.
type DatasetRule struct {
	Match  string            `yaml:"match"`  // a dataset name, or a glob of them (path.Match: t_messages_*)
	Skip   SkipRule          `yaml:"skip"`   // leave the matched datasets out (true), or those that hold no rows (empty)
	Engine string            `yaml:"engine"` // the engine whose target takes the matched datasets (mapping_engine.go)
	Target string            `yaml:"target"` // the converted dataset's object, or namespace.object
	Union  bool              `yaml:"union"`  // the matched datasets load together into Target (mapping_union.go)
	Rename map[string]string `yaml:"rename"` // source field -> target field
	Drop   []string          `yaml:"drop"`   // source fields left out
	Filter string            `yaml:"filter"` // an expression over the row's fields: rows where it is false are left out
	// Compute adds fields whose values are expressions over the row's
	// fields, after the others, in name order.
	Compute map[string]string `yaml:"compute"`
	// Cast gives columns another type (string, int64, double), exactly or
	// the row is a reject; Defaults replace a column's NULL by a value.
	Cast     map[string]string `yaml:"cast"`
	Defaults map[string]any    `yaml:"defaults"`
	// Unnest makes each element of a document's array field a row of its
	// own (mapping_unnest.go).
	Unnest *Unnest `yaml:"unnest"`
	// Route names each row's target object by an expression, one of
	// Objects (names, each with at most one {A..B} integer range), so
	// that one dataset fills many shard tables (mapping_route.go).
	Route   string   `yaml:"route"`
	Objects []string `yaml:"objects"`
	// Nest makes groups of a table's rows one document each, the rows an
	// array of it (mapping_nest.go).
	Nest *Nest `yaml:"nest"`
	// Embed puts the rows of other datasets into each row's document by
	// key (mapping_embed.go).
	Embed []Embed `yaml:"embed"`
	// Keys map Redis string keys by name pattern onto records (§11.7);
	// MergeBy makes the keys whose captures agree on these fields one
	// record.
	Keys    []KeyPattern `yaml:"keys"`
	MergeBy []string     `yaml:"merge_by"`
	// ID "objectid" keeps a table's primary key columns as fields and
	// makes _id an ObjectId derived from the key (mapping_id.go).
	ID string `yaml:"id"`
	// Indexes are declared indexes of the target collection, after the
	// rule's own (mapping_indexes.go).
	Indexes []IndexRule `yaml:"indexes"`

	index    int // in Mapping.Datasets
	m        *Mapping
	more     []*DatasetRule // later keys entries of the same match: outputs of their own (keys_outputs.go)
	patterns []*keyPattern  // Keys, parsed
}

// LoadMapping reads and checks a mapping file. The errors name the file,
// line and column.
func LoadMapping(file string) (*Mapping, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("mapping: %w", err)
	}
	return ParseMapping(file, data)
}

// ParseMapping is LoadMapping of data read from file.
func ParseMapping(file string, data []byte) (*Mapping, error) {
	m := &Mapping{}
	err := yaml.UnmarshalWithOptions(data, m, yaml.Strict())
	m.file = file // after: a document of null zeroes the whole struct
	if err != nil {
		return nil, m.yamlError(err)
	}
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, m.yamlError(err)
	}
	m.ast = f
	if m.Version != 1 {
		return nil, m.errorAt("$.version", "version %d: this release reads mapping files of version 1", m.Version)
	}
	for i := range m.Datasets {
		d := &m.Datasets[i]
		d.index, d.m = i, m
		if d.Match == "" {
			return nil, m.errorAt(fmt.Sprintf("$.datasets[%d]", i), "an entry needs match: a dataset name or glob")
		}
		if _, err := path.Match(d.Match, ""); err != nil {
			return nil, d.errorAt("match", "bad glob %q: %v", d.Match, err)
		}
		if d.Skip != "" && (d.changesFields() || d.Target != "" || d.routes() || d.Engine != "") {
			return nil, d.errorAt("skip", "an entry that skips its datasets takes nothing else")
		}
		for col, to := range d.Cast {
			if !casts[to] {
				return nil, d.errorAt("cast."+col, "cast %s to %q: want string, int64 or double", col, to)
			}
		}
		for name, src := range d.Compute {
			if name == "" || src == "" {
				return nil, d.errorAt("compute", "a computed field needs a name and an expression")
			}
		}
		if err := d.checkEngine(); err != nil {
			return nil, err
		}
		if err := d.checkUnnest(); err != nil {
			return nil, err
		}
		if err := d.checkRoute(); err != nil {
			return nil, err
		}
		if err := d.checkUnion(); err != nil {
			return nil, err
		}
		if err := d.checkNest(); err != nil {
			return nil, err
		}
		if err := d.checkEmbed(); err != nil {
			return nil, err
		}
		if d.Nest != nil && d.routes() {
			return nil, d.errorAt("route", "nest and route in one entry: nested documents go to one collection (give the entry a target instead)")
		}
		if err := d.checkKeys(); err != nil {
			return nil, err
		}
		if err := d.checkIDAndIndexes(); err != nil {
			return nil, err
		}
		renamed := map[string]string{}
		for from, to := range d.Rename {
			if to == "" {
				return nil, d.errorAt("rename."+from, "rename %s to an empty name (drop: leaves a field out)", from)
			}
			if other, dup := renamed[to]; dup {
				return nil, d.errorAt("rename."+from, "%s and %s are both renamed to %s", other, from, to)
			}
			renamed[to] = from
		}
	}
	joinKeysEntries(m)
	if err := m.checkEmbedded(); err != nil {
		return nil, err
	}
	if err := m.checkFinally(); err != nil {
		return nil, err
	}
	if err := m.checkChecks(); err != nil {
		return nil, err
	}
	if err := m.checkShards(); err != nil {
		return nil, err
	}
	return m, nil
}

// File is the mapping's file name, as given.
func (m *Mapping) File() string { return m.file }

// For returns the entry that dataset name takes, or nil.
func (m *Mapping) For(name string) *DatasetRule {
	if m == nil {
		return nil
	}
	for i := range m.Datasets {
		if ok, _ := path.Match(m.Datasets[i].Match, name); ok {
			return &m.Datasets[i]
		}
	}
	return nil
}

// Where names the entry: FILE:LINE:COLUMN of its match.
func (d *DatasetRule) Where() string { return d.position("match") }

// ChangesFields reports whether the entry changes fields or rows, or
// routes rows to objects, which only a rule that takes mappings can do.
func (d *DatasetRule) ChangesFields() bool { return d.changesFields() || d.routes() }

func (d *DatasetRule) changesFields() bool {
	return d != nil && (len(d.Rename) > 0 || len(d.Drop) > 0 || d.Filter != "" || len(d.Compute) > 0 || len(d.Cast) > 0 || len(d.Defaults) > 0 || d.Unnest != nil || len(d.Keys) > 0 || d.Nest != nil || d.ID != "" || len(d.Indexes) > 0 || len(d.Embed) > 0)
}

// errorAt is an error at the node of the entry's key (rename.x, drop, ...).
func (d *DatasetRule) errorAt(key, format string, args ...any) error {
	return fmt.Errorf("%s: %s", d.position(key), fmt.Sprintf(format, args...))
}

func (d *DatasetRule) position(key string) string {
	p := fmt.Sprintf("$.datasets[%d]", d.index)
	if key != "" {
		p += "." + key
	}
	return d.m.position(p)
}

func (m *Mapping) errorAt(p, format string, args ...any) error {
	return fmt.Errorf("%s: %s", m.position(p), fmt.Sprintf(format, args...))
}

// position renders the node at YAML path p as FILE:LINE:COLUMN, or the
// nearest enclosing node that exists.
func (m *Mapping) position(p string) string {
	for p != "" && m.ast != nil {
		if yp, err := yaml.PathString(p); err == nil {
			if n, err := yp.FilterFile(m.ast); err == nil && n != nil {
				if t := n.GetToken(); t != nil && t.Position != nil {
					return fmt.Sprintf("%s:%d:%d", m.file, t.Position.Line, t.Position.Column)
				}
			}
		}
		i := strings.LastIndexAny(p, ".[")
		if i <= 0 {
			break
		}
		p = p[:i]
	}
	return m.file
}

// yamlError turns go-yaml's error into FILE:LINE:COLUMN: message.
func (m *Mapping) yamlError(err error) error {
	var pe interface {
		GetToken() *token.Token
		GetMessage() string
	}
	if errors.As(err, &pe) && pe.GetToken() != nil && pe.GetToken().Position != nil {
		pos := pe.GetToken().Position
		return fmt.Errorf("%s:%d:%d: %s", m.file, pos.Line, pos.Column, pe.GetMessage())
	}
	return fmt.Errorf("%s: %w", m.file, err)
}
