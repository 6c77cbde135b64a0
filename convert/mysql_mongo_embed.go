package convert

import (
	"fmt"
	"strings"

	"github.com/imbundle/imbundle/internal/mysqltype"
	"github.com/imbundle/imbundle/spec"
)

// Embedded rows (SPEC.md §11.1, mapping key embed): the rows of other
// tables of the bundle go into each row's document by key, an array of
// sub-documents (or one sub-document, or their fields merged in). A
// parent's children are scattered over the child dataset, so the
// conversion reads the parent dataset and every child dataset whole and
// sorts them together by (join key, dataset, order columns) with
// internal/extsort within the sort budget; each run of one join key is
// then the parent's document with its children, built in memory up to
// BSON's 16 MiB (join_records.go).
const ruleEmbed = "mysql-table embedding to mongodb-collection v1"

// embedPlan is what the join needs: the parent's documents, its join
// columns, and per embed the child's elements and columns.
type embedPlan struct {
	parent *tableToDocs
	key    []int // the parent's join columns, in pair order
	pk     []int // the parent's primary key columns, for rejects
	kids   []*embedKid
	where  string // the entry's embed, for reasons
}

type embedKid struct {
	e     *Embed
	where string
	t     *tableToDocs // the child's rows as elements (its own entry's field operations)
	key   []int        // its join columns, in pair order
	order []orderCol
}

// embedRows makes c, the parent table's conversion by 11.1, the
// embedding conversion of d's embed list.
func embedRows(t *tableToDocs, c *Conversion, d *DatasetRule) {
	p := &embedPlan{parent: t, where: d.position("embed")}
	c.Rule, c.Whole = ruleEmbed, true
	c.Dataset.Parts = wholeParts(t.ds, true)
	refuse := func(format string, args ...any) { c.Refused = append(c.Refused, fmt.Sprintf(format, args...)) }
	for _, k := range t.ds.PrimaryKey {
		if j := columnIndex(t.ds, k); j >= 0 {
			p.pk = append(p.pk, j)
		}
	}
	top := map[string]string{"_id": "_id"}
	for _, n := range t.tree.kids {
		top[n.name] = "the field " + n.name
	}
	var parentCols []string
	for i := range d.Embed {
		e := &d.Embed[i]
		at := func(key string) string { return d.position(fmt.Sprintf("embed[%d]%s", i, key)) }
		kid := &embedKid{e: e, where: at("")}
		pairs := e.pairs()
		var cols []string
		for _, jp := range pairs {
			cols = append(cols, jp.parent)
		}
		if i == 0 {
			parentCols = cols
		} else if strings.Join(cols, ",") != strings.Join(parentCols, ",") {
			refuse("%s: embed on %s: every embed of an entry joins on the same columns of %s (embed[0] joins on %s)", at(".on"), strings.Join(cols, ", "), t.ds.Name, strings.Join(parentCols, ", "))
		}
		if e.ds == nil {
			refuse("%s: embed %s: the bundle has no such dataset (imbundle inspect lists them)", at(".dataset"), e.Dataset)
			p.kids = append(p.kids, kid)
			continue
		}
		if e.src == nil || e.src.Engine != mysqltype.Engine || e.ds.Kind != spec.KindTable || isDocumentsTable(e.ds) {
			refuse("%s: embed %s: embedded rows come from a MySQL table (a %s dataset is not one)", at(".dataset"), e.Dataset, e.ds.Kind)
			p.kids = append(p.kids, kid)
			continue
		}
		kc, kt, err := tableToMongo(e.ds, e.src, d.m.For(e.Dataset), true)
		if err != nil {
			refuse("%s: embed %s: %v", at(".dataset"), e.Dataset, err)
			p.kids = append(p.kids, kid)
			continue
		}
		kid.t = kt
		for _, r := range kc.Refused {
			refuse("embed %s: %s", e.Dataset, r)
		}
		for _, n := range kc.Notes {
			c.Notes = append(c.Notes, fmt.Sprintf("embed %s: %s", e.Dataset, n))
		}
		for _, jp := range pairs {
			pc, kc := columnIndex(t.ds, jp.parent), columnIndex(e.ds, jp.child)
			switch {
			case pc < 0:
				refuse("%s: embed on {%s: %s}: %s has no column %s", at(".on."+jp.parent), jp.parent, jp.child, t.ds.Name, jp.parent)
			case kc < 0:
				refuse("%s: embed on {%s: %s}: %s has no column %s", at(".on."+jp.parent), jp.parent, jp.child, e.Dataset, jp.child)
			case joinClass(t.ds.Columns[pc].Type) == "" || joinClass(t.ds.Columns[pc].Type) != joinClass(e.ds.Columns[kc].Type):
				refuse("%s: embed on %s (%s) = %s (%s): keys join integer with integer, text with text or binary with binary columns", at(".on."+jp.parent), jp.parent, nativeOf(t.ds.Columns[pc]), jp.child, nativeOf(e.ds.Columns[kc]))
			}
			if i == 0 { // every embed joins on these (refused above otherwise)
				p.key = append(p.key, pc)
			}
			kid.key = append(kid.key, kc)
		}
		for k, name := range e.Order {
			col := columnIndex(e.ds, name)
			switch {
			case col < 0:
				refuse("%s: embed order %s: %s has no such column", at(fmt.Sprintf(".order[%d]", k)), name, e.Dataset)
			case !orderable(e.ds.Columns[col].Type):
				refuse("%s: embed order %s (%s): rows are ordered by integer, text or date columns only", at(fmt.Sprintf(".order[%d]", k)), name, nativeOf(e.ds.Columns[col]))
			default:
				kid.order = append(kid.order, orderCol{name: name, col: col})
			}
		}
		// The fields an embed adds must not be the row's own.
		if e.Into != "" {
			if other, dup := top[e.Into]; dup {
				refuse("%s: embed into %s: the documents have %s already", at(".into"), e.Into, other)
			}
			top[e.Into] = "embed " + e.Dataset
		} else {
			for _, n := range kt.tree.kids {
				if other, dup := top[n.name]; dup {
					refuse("%s: embed %s merges its field %s in, and the documents have %s already (drop or rename it in %s's entry)", at(""), e.Dataset, n.name, other, e.Dataset)
				}
				top[n.name] = "embed " + e.Dataset + "'s " + n.name
			}
		}
		c.Notes = append(c.Notes, embedNote(e, kid, at("")))
		p.kids = append(p.kids, kid)
	}
	for _, k := range p.kids {
		if k.e.ds != nil {
			c.Inputs = append(c.Inputs, k.e.ds)
		}
	}
	if !uniqueKey(t.ds, parentCols) {
		refuse("%s: embed on %s: those columns are not the primary key or a unique key of %s, so a child row could belong to several of its rows", d.position("embed[0].on"), strings.Join(parentCols, ", "), t.ds.Name)
	}
	c.Notes = append(c.Notes, "the table and its embedded datasets are one input, sorted by join key within --sort-memory (spilling to --temp-dir); keys match by exact value (text by its bytes: a case-insensitive collation's equal keys do not match); a child row matching no row of "+t.ds.Name+", or a second one where one: true, is a reject of the child's dataset; a document over 16 MiB is a reject naming its row")
	c.records = nil
	c.joined = func(in Records, inputs []Records, reject func(Reject) error) Records {
		return newJoinRecords(p, in, inputs, reject, c.Spill)
	}
}

// embedNote says what one embed puts into the documents.
func embedNote(e *Embed, k *embedKid, at string) string {
	var on []string
	for _, jp := range e.pairs() {
		on = append(on, jp.child+" = "+jp.parent)
	}
	what := fmt.Sprintf("the array %s, as sub-documents in the order of %s", e.Into, orderText(k.order))
	switch {
	case e.One && e.Into != "":
		what = fmt.Sprintf("the sub-document %s (absent without a row)", e.Into)
	case e.One:
		what = "its fields beside the row's own (none without a row)"
	}
	return fmt.Sprintf("embed %s (%s): the rows where %s go into %s", e.Dataset, at, strings.Join(on, " and "), what)
}

func orderText(order []orderCol) string {
	var names []string
	for _, o := range order {
		names = append(names, o.name)
	}
	if len(names) == 0 {
		return "the bundle's row order"
	}
	return strings.Join(names, ", ") + ", then the bundle's row order"
}

// columnIndex is the record column of ds named name (not a raw-date
// companion), or -1.
func columnIndex(ds *spec.Dataset, name string) int {
	for j, c := range ds.Columns {
		if c.Name == name && c.Metadata[mysqltype.MetaRawOf] == "" {
			return j
		}
	}
	return -1
}

// joinClass is the kind of value a join key column holds, or "" for a
// type that joins on nothing (floats, decimals, dates: equal values have
// several spellings or none exact).
func joinClass(typ string) string {
	switch typ {
	case "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64":
		return "integer"
	case "utf8", "large_utf8":
		return "text"
	case "binary", "large_binary":
		return "binary"
	}
	if strings.HasPrefix(typ, "fixed_size_binary") {
		return "binary"
	}
	return ""
}

// uniqueKey reports whether cols (in any order) are ds's primary key or
// one of its unique keys.
func uniqueKey(ds *spec.Dataset, cols []string) bool {
	same := func(a []string) bool {
		if len(a) != len(cols) {
			return false
		}
		for _, x := range a {
			if !contains(cols, x) {
				return false
			}
		}
		return true
	}
	if same(ds.PrimaryKey) {
		return true
	}
	ixs, err := mysqltype.Indexes(ds.DDL)
	if err != nil {
		return false
	}
	for _, ix := range ixs {
		if ix.Kind != "UNIQUE" {
			continue
		}
		var names []string
		prefix := false
		for _, c := range ix.Columns {
			names = append(names, c.Name)
			prefix = prefix || c.Prefix > 0
		}
		if !prefix && same(names) {
			return true
		}
	}
	return false
}

// embedsField reports whether a declared index's field is one an embed
// adds: under an embed's into, or any field where one merges its fields in.
func (d *DatasetRule) embedsField(field string) bool {
	if d == nil {
		return false
	}
	top, _, _ := strings.Cut(field, ".")
	for _, e := range d.Embed {
		if e.Into == top || e.One && e.Into == "" {
			return true
		}
	}
	return false
}
