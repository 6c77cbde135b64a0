package convert

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
)

// A mapping's checks (SPEC.md §11.6, "Checks") are data invariants that
// verify FILE --profile NAME (or --map FILE.yaml) evaluates offline over the
// bundle's rows: the site's own rules (a message each inbox row points
// at, one owner per group, a member count that matches the members), which
// a digest cannot see. They are generic: each kind is one sort-merge over
// datasets named by glob, evaluated in package verify; this file reads and
// checks them, so that a mistake is reported at FILE:LINE:COLUMN before
// any row is read.

// Check is one entry of a mapping's checks list: a name and exactly one
// kind.
type Check struct {
	Name       string           `yaml:"name"`
	Relation   *RelationCheck   `yaml:"relation"`
	Unique     *UniqueCheck     `yaml:"unique"`
	Compare    *CompareCheck    `yaml:"compare"`
	Increasing *IncreasingCheck `yaml:"increasing"`

	index int
	m     *Mapping
	base  string // the YAML path of its list: $.checks, or $.relations for a mapping's relations
}

// RelationCheck: every from-row's columns (non-NULL) are those of some
// to-row. Both ends are GLOB(col, ...): the union of the datasets the glob
// matches (a WildfireChat inbox row points at a message of any shard).
type RelationCheck struct {
	From CheckEndSpec `yaml:"from"`
	To   CheckEndSpec `yaml:"to"`
}

// UniqueCheck: no two rows of the datasets (GLOB(col, ...)) passing the
// filter share the columns' values. "Exactly one per key" needs the keys
// from elsewhere: a compare with a count.
type UniqueCheck struct {
	Of     CheckEndSpec `yaml:"of"`
	Filter string       `yaml:"filter"`
}

// CompareCheck joins each row of Left (GLOB(col, ...)) with the rows of
// Right whose columns are equal, counts those rows (each count an
// expression over a right row: the rows where it is true are counted), and
// takes the largest value of each Max expression over them (nil for
// none), and requires Assert, an expression over the left row's fields,
// the counts and the maxima, to be true.
type CompareCheck struct {
	Left   CheckEndSpec      `yaml:"left"`
	Right  CheckEndSpec      `yaml:"right"`
	Counts map[string]string `yaml:"counts"`
	Max    map[string]string `yaml:"max"`
	Assert string            `yaml:"assert"`
}

// IncreasingCheck: among the rows of Of (GLOB(col, ...)) sharing the
// columns, ordered by the integer column By, the integer column Value is
// strictly increasing (a WildfireChat user's inbox _seq in _mid order).
type IncreasingCheck struct {
	Of    CheckEndSpec `yaml:"of"`
	By    string       `yaml:"by"`
	Value string       `yaml:"value"`
}

// CheckEndSpec is an end as written: "GLOB(col, ...)", or {of: "GLOB(col,
// ...)", keys: PATTERN} for the string keys of Redis keyspaces whose names
// match PATTERN (§11.9's patterns): each such key is a row whose fields
// are the captures, key and value.
//
// Compute gives columns of the end as expressions over the row (a table's
// columns, a document's fields, a keys end's captures): an OpenIM msg
// document names its conversation only inside doc_id "<conv>:<n>", which
// "split(doc_id, ':')[0]" takes out.
type CheckEndSpec struct {
	Of      string            `yaml:"of"`
	Keys    string            `yaml:"keys"`
	Compute map[string]string `yaml:"compute"`
}

// UnmarshalYAML takes the string form as well as the mapping.
func (e *CheckEndSpec) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err == nil {
		*e = CheckEndSpec{Of: s}
		return nil
	}
	var m struct {
		Of      string            `yaml:"of"`
		Keys    string            `yaml:"keys"`
		Compute map[string]string `yaml:"compute"`
	}
	if err := unmarshal(&m); err != nil {
		return err
	}
	*e = CheckEndSpec(m)
	return nil
}

// CheckEnd is a parsed end.
type CheckEnd struct {
	Glob    string
	Columns []string
	Keys    *CheckKeys        // nil for tables and collections
	Compute map[string]string // computed column -> expression (CheckEndSpec.Compute)
}

func (e CheckEnd) String() string {
	s := e.Glob + "(" + strings.Join(e.Columns, ", ") + ")"
	if e.Keys != nil {
		s += " keys " + e.Keys.kp.text
	}
	return s
}

// CheckKeys is an end's key pattern.
type CheckKeys struct{ kp *keyPattern }

// Captures are the pattern's capture names, in order.
func (k *CheckKeys) Captures() []string { return k.kp.caps }

// Match returns the captured texts of key in capture order, or nil.
func (k *CheckKeys) Match(key []byte, dst [][]byte) [][]byte { return k.kp.match(key, dst) }

var checkEndRE = regexp.MustCompile(`^\s*([^()\s]+)\s*\(([^()]*)\)\s*$`)

// ParseCheckEnd parses GLOB(col, ...).
func ParseCheckEnd(s string) (CheckEnd, error) {
	m := checkEndRE.FindStringSubmatch(s)
	if m == nil {
		return CheckEnd{}, fmt.Errorf("%q: want DATASET_GLOB(column, ...)", s)
	}
	if _, err := path.Match(m[1], ""); err != nil {
		return CheckEnd{}, fmt.Errorf("bad glob %q: %v", m[1], err)
	}
	e := CheckEnd{Glob: m[1]}
	for _, c := range strings.Split(m[2], ",") {
		if c = strings.TrimSpace(c); c == "" {
			return CheckEnd{}, fmt.Errorf("%q: an empty column name", s)
		}
		e.Columns = append(e.Columns, c)
	}
	return e, nil
}

// AllChecks are the mapping's checks: its relations first (each a
// relation check: the orphans of a declared relation are what the checks
// report), then its checks, in file order.
func (m *Mapping) AllChecks() []*Check {
	if m == nil {
		return nil
	}
	out := make([]*Check, 0, len(m.Relations)+len(m.Checks))
	for i := range m.Relations {
		out = append(out, &m.Relations[i].check)
	}
	for i := range m.Checks {
		out = append(out, &m.Checks[i])
	}
	return out
}

// Kind names the check's kind.
func (c *Check) Kind() string {
	switch {
	case c.Relation != nil:
		return "relation"
	case c.Unique != nil:
		return "unique"
	case c.Compare != nil:
		return "compare"
	}
	return "increasing"
}

// Where is FILE:LINE:COLUMN of the check's key (name, compare.assert, ...).
func (c *Check) Where(key string) string {
	if c.m == nil {
		return "relation " + c.Name // a manifest's relation, checked as a check (verify.Relations)
	}
	p := fmt.Sprintf("%s[%d]", c.base, c.index)
	if c.base == "$.relations" {
		key = strings.TrimPrefix(key, "relation.") // a relation's ends are its own keys
		if key == "relation" {
			key = ""
		}
	}
	if key != "" {
		p += "." + key
	}
	return c.m.position(p)
}

// ErrorAt is an error at the check's key.
func (c *Check) ErrorAt(key, format string, args ...any) error {
	return fmt.Errorf("%s: %s", c.Where(key), fmt.Sprintf(format, args...))
}

// End parses one of the check's GLOB(col, ...) values (key "relation.from", ...).
func (c *Check) End(key string) (CheckEnd, error) {
	var s CheckEndSpec
	switch key {
	case "relation.from":
		s = c.Relation.From
	case "relation.to":
		s = c.Relation.To
	case "unique.of":
		s = c.Unique.Of
	case "compare.left":
		s = c.Compare.Left
	case "compare.right":
		s = c.Compare.Right
	case "increasing.of":
		s = c.Increasing.Of
	}
	return c.parseEnd(key, s)
}

// ParseCheckEndSpec parses an end written as a mapping's relations and
// checks write it (the export's relations use it too).
func ParseCheckEndSpec(s CheckEndSpec) (CheckEnd, error) {
	return (&Check{}).parseEnd("", s)
}

func (c *Check) parseEnd(key string, s CheckEndSpec) (CheckEnd, error) {
	fail := func(k, format string, args ...any) error {
		if c.m == nil && c.Name == "" {
			return fmt.Errorf(format, args...)
		}
		return c.ErrorAt(k, format, args...)
	}
	e, err := ParseCheckEnd(s.Of)
	if err != nil {
		return e, fail(key, "%v", err)
	}
	for name, src := range s.Compute {
		if !identRE.MatchString(name) || src == "" {
			return e, fail(key+".compute", "a computed column needs a name (letters, digits, _) and an expression")
		}
		if _, err := parser.Parse(src); err != nil {
			return e, fail(key+".compute."+name, "%s", strings.ReplaceAll(err.Error(), "\n", " "))
		}
	}
	if len(s.Compute) > 0 {
		e.Compute = s.Compute
	}
	if s.Keys != "" {
		kp, err := parseKeyPattern(s.Keys)
		if err != nil {
			return e, fail(key+".keys", "%v", err)
		}
		e.Keys = &CheckKeys{kp}
		for _, col := range e.Columns {
			if !kp.names[col] && col != "key" && col != "value" && s.Compute[col] == "" {
				return e, fail(key, "%s: a keys end's columns are its captures, key and value (or computed)", col)
			}
		}
	}
	return e, nil
}

// CountNames are a compare's count names, sorted.
func (c *Check) CountNames() []string {
	if c.Compare == nil {
		return nil
	}
	return sortedKeys(c.Compare.Counts)
}

// MaxNames are a compare's max names, sorted.
func (c *Check) MaxNames() []string {
	if c.Compare == nil {
		return nil
	}
	return sortedKeys(c.Compare.Max)
}

// Compile compiles one of the check's expressions (key "unique.filter",
// "compare.assert", "compare.counts.NAME" as a boolean, "compare.max.NAME"
// as any value), after checking
// that every name it reads is known; a mistake is an error at the key.
// The names are a row's fields as mapping filters see them (SPEC §11.6);
// used are the known names it reads, each once.
func (c *Check) Compile(key, src string, known func(string) bool) (prog *vm.Program, used []string, err error) {
	fail := func(err error) error { return c.ErrorAt(key, "%s", strings.ReplaceAll(err.Error(), "\n", " ")) }
	tree, err := parser.Parse(src)
	if err != nil {
		return nil, nil, fail(err)
	}
	names := &identifiers{}
	ast.Walk(&tree.Node, names)
	seen := map[string]bool{}
	for _, n := range names.used {
		switch {
		case names.declared[n] || seen[n]:
		case known(n) && !docFunctionNames[n]:
			seen[n] = true
			used = append(used, n)
		case docFunctionNames[n] || isBuiltin(n):
		default:
			return nil, nil, c.ErrorAt(key, "unknown name %s (the names are the row's columns%s)", n, map[bool]string{true: " and the counts", false: ""}[key == "compare.assert"])
		}
	}
	// A column named like a builtin (type, now) is the column: the
	// builtin is off for this expression.
	var opts []expr.Option
	if !strings.HasPrefix(key, "compare.max.") && !strings.Contains(key, ".compute.") {
		opts = append(opts, expr.AsBool())
	}
	for _, n := range used {
		if isBuiltin(n) {
			opts = append(opts, expr.DisableBuiltin(n))
		}
	}
	if prog, err = expr.Compile(src, docOptions(opts...)...); err != nil {
		return nil, nil, fail(err)
	}
	return prog, used, nil
}

// checkChecks validates the checks when the file is read: one kind each,
// well-formed ends and expressions that parse. Column names are checked
// against the bundle when the checks run (the file does not know it).
func (m *Mapping) checkChecks() error {
	for i := range m.Relations {
		r := &m.Relations[i]
		r.check = Check{Name: r.Name, Relation: &RelationCheck{From: r.From, To: r.To}, index: i, m: m, base: "$.relations"}
	}
	for i := range m.Checks {
		m.Checks[i].index, m.Checks[i].m, m.Checks[i].base = i, m, "$.checks"
	}
	names := map[string]bool{}
	for _, c := range m.AllChecks() {
		i := c.index
		at := fmt.Sprintf("%s[%d]", c.base, i)
		if c.Name == "" {
			return m.errorAt(at, "a %s needs a name", map[bool]string{true: "relation", false: "check"}[c.base == "$.relations"])
		}
		if names[c.Name] {
			return c.ErrorAt("name", "two checks are named %s (relations and checks share names)", c.Name)
		}
		names[c.Name] = true
		kinds := 0
		for _, k := range []bool{c.Relation != nil, c.Unique != nil, c.Compare != nil, c.Increasing != nil} {
			if k {
				kinds++
			}
		}
		if kinds != 1 {
			return c.ErrorAt("name", "check %s: give exactly one of relation, unique, compare, increasing", c.Name)
		}
		var ends []string
		parses := map[string]string{}
		switch {
		case c.Relation != nil:
			ends = []string{"relation.from", "relation.to"}
		case c.Unique != nil:
			ends = []string{"unique.of"}
			if c.Unique.Filter != "" {
				parses["unique.filter"] = c.Unique.Filter
			}
		case c.Compare != nil:
			ends = []string{"compare.left", "compare.right"}
			if c.Compare.Assert == "" {
				return c.ErrorAt("compare", "check %s: a compare needs assert: an expression that must hold", c.Name)
			}
			parses["compare.assert"] = c.Compare.Assert
			for n, src := range c.Compare.Counts {
				if !identRE.MatchString(n) || src == "" {
					return c.ErrorAt("compare.counts", "check %s: a count needs a name (letters, digits, _) and an expression (true counts every row)", c.Name)
				}
				parses["compare.counts."+n] = src
			}
			for n, src := range c.Compare.Max {
				if !identRE.MatchString(n) || src == "" {
					return c.ErrorAt("compare.max", "check %s: a max needs a name (letters, digits, _) and an expression over a right row", c.Name)
				}
				if _, dup := c.Compare.Counts[n]; dup {
					return c.ErrorAt("compare.max", "check %s: %s is both a count and a max", c.Name, n)
				}
				parses["compare.max."+n] = src
			}
		case c.Increasing != nil:
			ends = []string{"increasing.of"}
			if c.Increasing.By == "" || c.Increasing.Value == "" {
				return c.ErrorAt("increasing", "check %s: increasing needs by (the order column) and value (the column that increases)", c.Name)
			}
		}
		var cols []int
		for _, k := range ends {
			e, err := c.End(k)
			if err != nil {
				return err
			}
			cols = append(cols, len(e.Columns))
		}
		if len(cols) == 2 && cols[0] != cols[1] {
			return c.ErrorAt(ends[1], "check %s: %d column(s) against %d", c.Name, cols[1], cols[0])
		}
		for k, src := range parses {
			if _, err := parser.Parse(src); err != nil {
				return c.ErrorAt(k, "%s", strings.ReplaceAll(err.Error(), "\n", " "))
			}
		}
	}
	return nil
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
