package convert

import (
	"fmt"
	"sort"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/imbundle/imbundle/internal/mongotype"
	"github.com/imbundle/imbundle/internal/mysqltype"
	"github.com/imbundle/imbundle/spec"
)

// A mapping entry on a collection going into MySQL (SPEC.md §11.3, §11.6)
// renames fields onto an existing table's columns (a dotted source name
// reads a nested field), drops fields, fills columns from defaults and
// expressions, filters rows and unnests an array field into a row per
// element. Only the application's own table has the columns such an entry
// names: a documents table (§11.2) keeps documents whole. This file
// checks an entry against the table; mongo_mysql_mapping_rows.go applies
// it to each document.

// mongoToMySQLMapped is §11.2's rule taking a mapping entry. An entry
// that changes fields needs the target's existing table, which only the
// import and verify read: until then the conversion notes what the entry
// does (for plan), and it goes only onto an existing table (Onto), so
// that without one nothing is written.
func mongoToMySQLMapped(ds *spec.Dataset, src *spec.Source, d *DatasetRule) (*Conversion, error) {
	c, err := mongoToMySQL(ds, src)
	if c != nil && err == nil && d.routes() {
		return routedIntoTables(ds, src, d, c), nil
	}
	if c == nil || err != nil || !d.changesFields() {
		return c, err
	}
	c.Rule = ruleMongoIntoMySQL
	c.onto = func(into *spec.Dataset) (*Conversion, error) {
		if into == nil {
			return nil, fmt.Errorf("there is no such table: the mapping entry at %s changes fields, which only the columns of an existing table take (SPEC.md §11.3; a documents table keeps documents whole); create the table first", d.Where())
		}
		return mongoIntoTable(ds, src, into, d)
	}
	c.Notes = append([]string{"into the existing table's columns (read from the target by import and verify; the import stops before writing if there is none)"}, entryNotes(d)...)
	c.Refused = append(c.Refused, entryRefused(d)...)
	return c, nil
}

// entryNotes says what the entry does to each document, key by key in
// name order (a map's order must not show).
func entryNotes(d *DatasetRule) []string {
	var notes []string
	if u := d.Unnest; u != nil {
		index := ""
		if u.Index != "" {
			index = fmt.Sprintf(", its position (from 0) into column %s", u.Index)
		}
		n := fmt.Sprintf("unnest %s: a row per element, in array order%s, the document's other fields repeated; of an element only what the entry names is read; a document whose %s is missing, Null or empty gives no row (counted as filtered) (%s)", u.Field, index, u.Field, d.position("unnest"))
		notes = append(notes, n)
	}
	for _, from := range sortedKeys(d.Rename) {
		notes = append(notes, fmt.Sprintf("field %s into column %s (%s)", from, d.Rename[from], d.position(entryKey("rename", from))))
	}
	if len(d.Drop) > 0 {
		notes = append(notes, fmt.Sprintf("fields %s not loaded (%s)", strings.Join(d.Drop, ", "), d.position("drop")))
	}
	if d.Filter != "" {
		notes = append(notes, fmt.Sprintf("rows where %q is false are left out, counted as filtered (%s)", d.Filter, d.position("filter")))
	}
	for _, col := range sortedKeys(d.Compute) {
		notes = append(notes, fmt.Sprintf("column %s is computed: %s (%s)", col, d.Compute[col], d.position(entryKey("compute", col))))
	}
	for _, col := range sortedKeys(d.Cast) {
		notes = append(notes, fmt.Sprintf("column %s: the value cast to %s first, exactly or the row is a reject (%s)", col, d.Cast[col], d.position(entryKey("cast", col))))
	}
	for _, col := range sortedKeys(d.Defaults) {
		v := fmt.Sprint(d.Defaults[col])
		if s, ok := d.Defaults[col].(string); ok {
			v = fmt.Sprintf("%q", s)
		}
		notes = append(notes, fmt.Sprintf("column %s: a missing or Null value becomes %s (%s)", col, v, d.position(entryKey("defaults", col))))
	}
	return notes
}

// entryRefused is what the entry gets wrong whatever the table (for
// plan, which has none): expressions that do not parse. newDocMapping
// checks them again with the table's names.
func entryRefused(d *DatasetRule) []string {
	var out []string
	anyName := func(string) bool { return true }
	if d.Filter != "" {
		if _, _, err := compileNamed(d, "filter", d.Filter, anyName, "", docOptions(expr.AsBool())...); err != nil {
			out = append(out, err.Error())
		}
	}
	for _, col := range sortedKeys(d.Compute) {
		if _, _, err := compileNamed(d, entryKey("compute", col), d.Compute[col], anyName, "", docOptions()...); err != nil {
			out = append(out, err.Error())
		}
	}
	return out
}

// entryKey is the YAML path of name under an entry's section (rename,
// compute, ...): quoted when it has dots, so that a dotted field's error
// names its own line.
func entryKey(section, name string) string {
	if strings.ContainsAny(name, ".[]*'\\ ") {
		return section + ".'" + strings.ReplaceAll(name, "'", "\\'") + "'"
	}
	return section + "." + name
}

func docOptions(more ...expr.Option) []expr.Option {
	return append(append([]expr.Option{}, docFunctions...), more...)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// docMapping is an entry checked against the table's columns.
type docMapping struct {
	unnest  string         // the array field unnested, or ""
	index   int            // the column of the element's position, or -1
	elem    int            // the column the whole element goes into (rename: {msgs: col}), or -1
	top     map[string]int // top-level fields renamed, to their columns
	paths   []docPath      // dotted renames, in name order
	roots   map[string]bool
	drop    map[string]bool
	claimed map[int]string // columns the entry fills, by what
	idOwn   bool           // the entry says where _id goes (rename, drop, a dotted name under it)
	defs    []*cell        // by column: the default's cell, or nil
	casts   []docCast      // by column: the cast, or nil

	filter      *vm.Program
	filterWhere string
	comp        []docComputed
	used        []string // the names the expressions read
	uses        map[string]*fieldUse
}

// docPath is a rename whose source name has dots: the value under path.
type docPath struct {
	name string
	path []string
	col  int
}

type docComputed struct {
	name, where string
	col         int
	prog        *vm.Program
}

// newDocMapping checks d against the table f converts into, adding what
// it cannot take to c.Refused (at the entry's lines) and what it does to
// c.Notes.
func newDocMapping(d *DatasetRule, f *fieldsInto, c *Conversion) *docMapping {
	m := &docMapping{index: -1, elem: -1, top: map[string]int{}, roots: map[string]bool{}, drop: map[string]bool{}, claimed: map[int]string{}, defs: make([]*cell, len(f.cols)), casts: make([]docCast, len(f.cols))}
	refuse := func(key, format string, args ...any) {
		c.Refused = append(c.Refused, d.errorAt(key, format, args...).Error())
	}
	c.Notes = append(c.Notes, entryNotes(d)...)
	table := func(key, what, col string) (int, bool) {
		k, ok := f.byName[col]
		switch {
		case !ok:
			refuse(key, "%s: the table has no column %s", what, col)
		case f.cols[k].Metadata[mysqltype.MetaGenerated] != "":
			refuse(key, "%s: column %s is generated, never loaded", what, col)
			ok = false
		}
		return k, ok
	}
	claim := func(key string, k int, by string) {
		if other, dup := m.claimed[k]; dup {
			refuse(key, "%s and %s would both fill column %s", other, by, f.cols[k].Name)
		}
		m.claimed[k] = by
	}
	if u := d.Unnest; u != nil {
		m.unnest = u.Field
		if u.Index != "" {
			if k, ok := table("unnest.index", "unnest index", u.Index); ok {
				if _, why := f.rules[k](bson.RawValue{Type: bson.TypeInt64, Value: bsoncore.AppendInt64(nil, 0)}); why != "" {
					refuse("unnest.index", "unnest index %s: column %s does not take an integer: %s", u.Index, u.Index, why)
				}
				m.index = k
				claim("unnest.index", k, "the unnest index")
			}
		}
		c.Notes = append(c.Notes, "with unnest, _id goes only into a column named _id, or where a rename puts it")
	}
	for _, from := range sortedKeys(d.Rename) {
		key := entryKey("rename", from)
		k, ok := table(key, "rename "+from, d.Rename[from])
		if !ok {
			continue
		}
		claim(key, k, "field "+from)
		path := strings.Split(from, ".")
		for _, p := range path {
			if p == "" {
				refuse(key, "rename %s: a dotted name has an empty part", from)
			}
		}
		switch {
		case m.unnest != "" && from == m.unnest:
			m.elem = k
		case len(path) == 1:
			m.top[from] = k
		default:
			m.paths = append(m.paths, docPath{name: from, path: path, col: k})
			m.roots[path[0]] = true
		}
		if path[0] == mongotype.ColID {
			m.idOwn = true
		}
	}
	for i, name := range d.Drop {
		key := fmt.Sprintf("drop[%d]", i)
		_, renamed := m.top[name]
		switch {
		case strings.Contains(name, "."):
			refuse(key, "drop %s: drop takes top-level fields (of a field a dotted rename reads, only the named sub-fields are read)", name)
		case name == m.unnest:
			refuse(key, "drop %s: it is the field unnested", name)
		case renamed || m.roots[name]:
			refuse(key, "drop %s: a rename reads it", name)
		}
		m.drop[name] = true
		if name == mongotype.ColID {
			m.idOwn = true
		}
	}
	for _, root := range sortedKeys(m.roots) {
		if root != m.unnest {
			c.Notes = append(c.Notes, fmt.Sprintf("field %s: only the sub-fields the renames name are read, it is not loaded itself", root))
		}
	}
	for _, col := range sortedKeys(d.Cast) {
		if k, ok := table(entryKey("cast", col), "cast "+col, col); ok {
			m.casts[k] = docCastTo(d.Cast[col])
		}
	}
	for _, col := range sortedKeys(d.Defaults) {
		key := entryKey("defaults", col)
		k, ok := table(key, "default for "+col, col)
		if !ok {
			continue
		}
		v, err := yamlBSON(d.Defaults[col])
		if err != nil {
			refuse(key, "default for %s: %v", col, err)
			continue
		}
		var why string
		if m.casts[k] != nil {
			v, why = m.casts[k](v)
		}
		var cl cell
		if why == "" {
			cl, why = f.rules[k](v)
		}
		if why != "" {
			refuse(key, "default for %s (%s): %s", col, v.Type, why)
			continue
		}
		m.defs[k] = &cl
	}
	known := func(n string) bool {
		_, col := f.byName[n]
		_, top := m.top[n]
		return col || top || docFunctionNames[n] || m.roots[n] || m.drop[n] || n == m.unnest || n == mongotype.ColID || (d.Unnest != nil && n == d.Unnest.Index)
	}
	hint := "the names are the table's columns, _id, and the fields the entry names"
	used := map[string]bool{}
	if d.Filter != "" {
		prog, names, err := compileNamed(d, "filter", d.Filter, known, hint, docOptions(expr.AsBool())...)
		if err == nil {
			m.filter, m.filterWhere = prog, d.position("filter")
			for _, n := range names {
				used[n] = true
			}
		} else {
			c.Refused = append(c.Refused, err.Error())
		}
	}
	for _, col := range sortedKeys(d.Compute) {
		key := entryKey("compute", col)
		k, ok := table(key, "computed column "+col, col)
		prog, names, err := compileNamed(d, key, d.Compute[col], known, hint, docOptions()...)
		if err != nil {
			c.Refused = append(c.Refused, err.Error())
			continue
		}
		if !ok {
			continue
		}
		claim(key, k, "computed "+col)
		m.comp = append(m.comp, docComputed{name: col, where: d.position(key), col: k, prog: prog})
		for _, n := range names {
			used[n] = true
		}
	}
	m.used = sortedKeys(used)
	m.uses = map[string]*fieldUse{}
	addUses(m.uses, d.Filter)
	for _, src := range d.Compute {
		addUses(m.uses, src)
	}
	return m
}
