package convert

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/extsort"
	"github.com/imbundle/imbundle/internal/mongotype"
	"github.com/imbundle/imbundle/internal/mysqltype"
)

// Nested rows (SPEC.md §11.1, mapping key nest): a table's rows grouped
// by an expression become one document per group, the rows an array of
// sub-documents in it. A group's rows are scattered over the dataset, so
// the conversion reads the whole dataset as one input and sorts the rows
// by (group key, order columns) with internal/extsort, within the sort
// budget; each run of one group key is then one document, built in
// memory up to BSON's 16 MiB.
const ruleNest = "mysql-table nested to mongodb-collection v1"

type nestPlan struct {
	t       *tableToDocs
	by      *vm.Program
	byWhere string
	into    string
	key     string     // "" or the field repeating the group key
	order   []orderCol // the rows' order within a group
	pk      []int      // the primary key's source columns, for rejects
}

// orderCol is a column ordering a group's rows: an integer or text column.
type orderCol struct {
	name string
	col  int
}

// nestRows makes c, the table's conversion by 11.1 built with every field
// in the element, the nested conversion of d's nest key.
func nestRows(t *tableToDocs, c *Conversion, d *DatasetRule) {
	n := d.Nest
	p := &nestPlan{t: t, byWhere: d.position("nest.by"), into: n.Into, key: n.Key}
	c.Rule, c.Whole = ruleNest, true
	c.Dataset.Parts = wholeParts(t.ds, true)
	prog, err := t.env.compile(d, "nest.by", n.By)
	if err != nil {
		c.Refused = append(c.Refused, err.Error())
	}
	p.by = prog
	for i, name := range n.Order {
		at := d.position(fmt.Sprintf("nest.order[%d]", i))
		col := -1
		for j, sc := range t.ds.Columns {
			if sc.Name == name && sc.Metadata[mysqltype.MetaRawOf] == "" {
				col = j
			}
		}
		if col < 0 {
			c.Refused = append(c.Refused, fmt.Sprintf("%s: nest order %s: %s has no such column", at, name, t.ds.Name))
			continue
		}
		if !orderable(t.ds.Columns[col].Type) {
			c.Refused = append(c.Refused, fmt.Sprintf("%s: nest order %s (%s): rows are ordered by integer, text or date columns only", at, name, nativeOf(t.ds.Columns[col])))
			continue
		}
		p.order = append(p.order, orderCol{name: name, col: col})
	}
	for _, k := range t.ds.PrimaryKey {
		for j, sc := range t.ds.Columns {
			if sc.Name == k {
				p.pk = append(p.pk, j)
			}
		}
	}
	opts, err := mongotype.Collection{Type: "collection", Indexes: []bson.Raw{idIndexSpec()}}.ToOptions()
	if err != nil {
		c.Refused = append(c.Refused, err.Error())
	}
	c.Dataset.Options = opts
	key := ""
	if n.Key != "" {
		key = fmt.Sprintf(", repeated as the field %s", n.Key)
	}
	order := "the bundle's row order"
	if len(n.Order) > 0 {
		order = strings.Join(n.Order, ", ") + ", then the bundle's row order"
	}
	c.Notes = append(c.Notes,
		fmt.Sprintf("nest (%s): one document per value of %q (a String or an integer), its _id%s, documents in the order of their keys (integers first, numerically, then strings by bytes)", d.position("nest"), n.By, key),
		fmt.Sprintf("the group's rows go into the array %s in the order of %s, each a sub-document of its fields (dotted names nest in it); a document over 16 MiB is a reject naming its group", n.Into, order),
		"the whole dataset is one input, sorted by group within --sort-memory (spilling to --temp-dir); the table's indexes are not carried (only _id_)")
	c.records = func(in Records, _ int, reject func(Reject) error) Records {
		g := &nestedRecords{p: p, d: docRecords{t: t, reject: reject}, in: in, reject: reject, spill: c.Spill}
		g.step = g.next
		return g
	}
}

// orderable reports whether rows can be ordered by a column of type typ:
// integers, text, and dates and times of day (a zero date, whose typed
// value is NULL, orders as NULL).
func orderable(typ string) bool {
	switch typ {
	case "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "utf8", "large_utf8", "date32":
		return true
	}
	return strings.HasPrefix(typ, "timestamp")
}

// nestedRecords converts the whole dataset: sortInput puts each row that
// passes the filter into the sort as (group key + order key, row number +
// group key length + the row's element), then Next builds a document of
// each run of one group key.
type nestedRecords struct {
	p      *nestPlan
	d      docRecords // builds the elements, binds the expressions
	in     Records
	reject func(Reject) error
	spill  Spill

	sortedDocs // its group is the run's encoded key

	doc    []byte
	docAt  int32
	arrAt  int32
	n      int   // its elements
	first  int64 // its first row, for a reject
	tooBig bool
	key    []byte
	enc    []byte
}

func (g *nestedRecords) next() (arrow.RecordBatch, error) {
	if g.it == nil {
		if err := g.sortInput(); err != nil {
			return nil, err
		}
		g.b = mongotype.NewBuilder(memory.DefaultAllocator)
	}
	return g.runs(g)
}

// start begins the document of the group whose encoded key is g.group.
func (g *nestedRecords) start(row int64) error {
	enc := g.group
	g.n, g.first, g.tooBig = 0, row, false
	g.docAt, g.doc = bsoncore.ReserveLength(g.doc[:0])
	var err error
	if g.doc, err = appendGroupKey(g.doc, "_id", enc); err != nil {
		return err
	}
	if g.p.key != "" {
		g.doc, _ = appendGroupKey(g.doc, g.p.key, enc)
	}
	g.arrAt, g.doc = bsoncore.AppendArrayElementStart(g.doc, g.p.into)
	return nil
}

// add appends one row's element, unless the document would pass 16 MiB.
func (g *nestedRecords) add(_ []byte, _ int, _ int64, elem []byte) error {
	name := strconv.Itoa(g.n)
	g.n++
	if g.tooBig {
		return nil
	}
	// type byte, name, NUL; then the array's and the document's ends
	if len(g.doc)+1+len(name)+1+len(elem)+2 > maxDocument {
		g.tooBig = true
		return nil
	}
	g.doc = bsoncore.AppendDocumentElement(g.doc, name, elem)
	return nil
}

// finish hands the group's document to the builder, or rejects it.
func (g *nestedRecords) finish() error {
	if g.tooBig {
		text := groupText(g.group)
		return g.reject(Reject{Row: g.first, Key: []string{text},
			Reason: fmt.Sprintf("the document of group %s (nest.by at %s) would pass 16 MiB, BSON's limit, with its %d rows", text, g.p.byWhere, g.n),
			Values: map[string]any{"group": text, "rows": strconv.Itoa(g.n)}})
	}
	var err error
	if g.doc, err = bsoncore.AppendArrayEnd(g.doc, g.arrAt); err != nil {
		return err
	}
	g.doc = append(g.doc, 0)
	g.doc = bsoncore.UpdateLength(g.doc, g.docAt, int32(len(g.doc)))
	return g.b.Append(bson.Raw(g.doc))
}

// sortInput reads every input row into the sort; rows the filter leaves
// out and rows that cannot be an element are counted or rejected at once.
func (g *nestedRecords) sortInput() error {
	g.sorter = extsort.New(g.spill.Dir, g.spill.memory())
	var row int64
	for {
		rec, err := g.in.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			if err := g.sortRow(rec, i, row); err != nil {
				return err
			}
			row++
		}
	}
	it, err := g.sorter.Sort()
	if err != nil {
		return err
	}
	g.it = it
	return nil
}

func (g *nestedRecords) sortRow(rec arrow.RecordBatch, i int, row int64) error {
	t, p := g.d.t, g.p
	rejectRow := func(why string) error {
		return g.reject(Reject{Row: row, Key: g.rowKey(rec, i), Reason: why, Values: rowValues(rec, i)})
	}
	if f := t.filter; f != nil {
		keep, err := f.keep(&g.d.vals, rec, i, row)
		if err != nil {
			return rejectRow(fmt.Sprintf("the filter at %s fails on this row: %v", t.where, err))
		}
		if !keep {
			return g.reject(Reject{Row: row, Key: g.rowKey(rec, i), Filtered: true, Reason: "left out by the filter at " + t.where})
		}
	}
	v, err := expr.Run(p.by, t.env.bind(&g.d.vals, rec, i, row))
	if err != nil {
		return rejectRow(fmt.Sprintf("nest.by (%s) fails on this row: %v", p.byWhere, err))
	}
	key, why := encodeGroupKey(g.key[:0], v)
	if why != "" {
		return rejectRow(fmt.Sprintf("nest.by (%s) is %s: a group key is a string or an integer", p.byWhere, why))
	}
	glen := len(key)
	for _, o := range p.order {
		key = encodeOrder(key, rec.Column(o.col), i)
	}
	g.key = key
	elem, why := g.d.element(rec, i, row)
	if why != "" {
		return rejectRow(why)
	}
	g.enc = binary.AppendUvarint(g.enc[:0], uint64(row))
	g.enc = binary.AppendUvarint(g.enc, uint64(glen))
	g.enc = append(g.enc, elem...)
	return g.sorter.Add(key, g.enc)
}

// rowKey renders the row's primary key for a reject line.
func (g *nestedRecords) rowKey(rec arrow.RecordBatch, i int) []string {
	var out []string
	for _, c := range g.p.pk {
		out = append(out, bundle.KeyString(rec.Column(c), i))
	}
	return out
}

// element builds row i as a sub-document of its fields, or says why it
// cannot be exact.
func (d *docRecords) element(rec arrow.RecordBatch, i int, row int64) ([]byte, string) {
	idx, doc := bsoncore.ReserveLength(d.doc[:0])
	doc, why := d.emit(doc, d.t.tree.kids, rec, i, row)
	if why != "" {
		return nil, why
	}
	doc = append(doc, 0)
	doc = bsoncore.UpdateLength(doc, idx, int32(len(doc)))
	d.doc = doc
	return doc, ""
}

var errBadNested = errors.New("convert: a sorted nested row is malformed")

func decodeNested(key, val []byte) (row int64, glen int, elem []byte, err error) {
	r, n := binary.Uvarint(val)
	if n <= 0 {
		return 0, 0, nil, errBadNested
	}
	val = val[n:]
	l, n := binary.Uvarint(val)
	if n <= 0 || l > uint64(len(key)) {
		return 0, 0, nil, errBadNested
	}
	return int64(r), int(l), val[n:], nil
}

// Group keys sort as bytes: an integer is 'i' and its 8 bytes big-endian
// with the sign bit flipped, a string 's' and its bytes with NUL escaped
// (00 ff) and ended by 00 01, so that no key is a prefix of another.
func encodeGroupKey(dst []byte, v any) ([]byte, string) {
	switch v := v.(type) {
	case int:
		return binary.BigEndian.AppendUint64(append(dst, 'i'), uint64(v)^1<<63), ""
	case int64:
		return binary.BigEndian.AppendUint64(append(dst, 'i'), uint64(v)^1<<63), ""
	case string:
		return appendEscaped(append(dst, 's'), []byte(v)), ""
	case nil:
		return nil, "null"
	}
	return nil, fmt.Sprintf("a %T (%v)", v, v)
}

func appendEscaped(dst, b []byte) []byte {
	for _, c := range b {
		dst = append(dst, c)
		if c == 0 {
			dst = append(dst, 0xff)
		}
	}
	return append(dst, 0, 1)
}

func unescape(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == 0 {
			if i+1 < len(b) && b[i+1] == 1 {
				break
			}
			i++ // 00 ff is a NUL
		}
		out = append(out, b[i])
	}
	return out
}

// appendGroupKey appends the encoded group key as a BSON Int64 or String.
func appendGroupKey(doc []byte, name string, enc []byte) ([]byte, error) {
	switch {
	case len(enc) == 9 && enc[0] == 'i':
		return bsoncore.AppendInt64Element(doc, name, int64(binary.BigEndian.Uint64(enc[1:])^1<<63)), nil
	case len(enc) >= 3 && enc[0] == 's':
		return bsoncore.AppendStringElement(doc, name, string(unescape(enc[1:]))), nil
	}
	return nil, errBadNested
}

// groupText renders an encoded group key for a reject line.
func groupText(enc []byte) string {
	if len(enc) == 9 && enc[0] == 'i' {
		return strconv.FormatInt(int64(binary.BigEndian.Uint64(enc[1:])^1<<63), 10)
	}
	if len(enc) > 0 {
		return string(unescape(enc[1:]))
	}
	return ""
}

// encodeOrder appends row i of an order column: NULL first (00), then
// values (01 and the value: integers as appendInteger makes them, dates
// and times as their 8 bytes big-endian with the sign bit flipped, text
// as encodeGroupKey's strings).
func encodeOrder(dst []byte, col arrow.Array, i int) []byte {
	if col.IsNull(i) {
		return append(dst, 0)
	}
	dst = append(dst, 1)
	if out, ok := appendInteger(dst, col, i); ok {
		return out
	}
	flip := func(v int64) []byte { return binary.BigEndian.AppendUint64(dst, uint64(v)^1<<63) }
	switch a := col.(type) {
	case *array.Timestamp:
		return flip(int64(a.Value(i)))
	case *array.Date32:
		return flip(int64(a.Value(i)))
	case *array.String:
		return appendEscaped(dst, []byte(a.Value(i)))
	case *array.LargeString:
		return appendEscaped(dst, []byte(a.Value(i)))
	}
	return dst // orderable refused the others
}
