package convert

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/expr-lang/expr"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/imbundle/imbundle/internal/mongotype"
)

// mappedRecords applies a docMapping to each document of a part: one row,
// or with unnest one row per element of the array, each a row of the
// table or a reject. A reject's Row is the document's row in the part and
// its Key the document's _id; with unnest its reason starts with the
// element's position. Documents (at most 16 MiB) are read in place, and
// an output batch ends once its cells hold mappedBatchBytes, within a
// document if need be: a batch of documents of 100 messages each does not
// become one batch a hundred times as long.
type mappedRecords struct {
	*fieldRecords
	m    *docMapping
	in   Records
	vals map[string]any // the expressions' names, bound per row

	// Where the input stands: the batch read (nil: read the next), the
	// next document, and within an unnested document its fields, its
	// elements and the next element.
	rows  *mongotype.Rows
	doc   int
	els   []bson.RawElement
	elems []bson.RawValue
	elem  int
}

// mappedBatchBytes bounds an output batch's cells.
const mappedBatchBytes = 4 << 20

// outcome of one row.
const (
	rowOK = iota
	rowFiltered
	rowRejected
)

func (d *mappedRecords) Next() (arrow.RecordBatch, error) {
	for {
		if d.rows == nil {
			rec, err := d.in.Next()
			if err != nil {
				return nil, err
			}
			if d.rows, err = mongotype.RowsOf(rec); err != nil {
				return nil, err
			}
			d.doc, d.elems = 0, nil
		}
		b := array.NewRecordBuilder(memory.DefaultAllocator, d.f.schema)
		full, err := d.fill(b)
		if err != nil {
			b.Release()
			return nil, err
		}
		if !full {
			d.rows = nil
		}
		out := b.NewRecordBatch()
		b.Release()
		if out.NumRows() > 0 {
			return out, nil
		}
		out.Release()
	}
}

// fill appends rows to b from where the input stands, until the batch is
// full (true) or the input batch is done.
func (d *mappedRecords) fill(b *array.RecordBuilder) (bool, error) {
	size := 0
	// elem is the element a row comes from, or -1 for the document.
	emit := func(out int, why string, elem int) error {
		switch out {
		case rowFiltered, rowRejected:
			rj := Reject{Row: d.row - 1, Key: []string{d.rows.IDJSON(d.doc)}, Reason: why, Filtered: out == rowFiltered}
			switch {
			case out == rowFiltered:
			case elem >= 0:
				// The element, not its whole document (up to 16 MiB) again
				// for each of its elements.
				rj.Values = map[string]any{mongotype.ColIDJSON: d.rows.IDJSON(d.doc), fmt.Sprintf("%s.%d", d.m.unnest, elem): extJSON(d.elems[elem])}
			default:
				rj.Values = documentValues(d.rows.Doc(d.doc))
			}
			return d.reject(rj)
		}
		for k := range d.cells {
			appendCell(b.Field(k), d.cells[k])
			size += 8 + len(d.cells[k].b)
		}
		return nil
	}
	for ; d.doc < d.rows.Len(); d.doc++ {
		if d.elems == nil {
			d.row++ // the document's row in the part, for rejects: d.row-1
			out, why := d.start()
			if out != rowOK {
				if err := emit(out, why, -1); err != nil {
					return false, err
				}
				continue
			}
			if d.m.unnest == "" {
				out, why := d.mappedRow(d.els, nil, -1)
				if err := emit(out, why, -1); err != nil {
					return false, err
				}
				if size >= mappedBatchBytes {
					d.doc++
					return true, nil
				}
				continue
			}
		}
		for d.elem < len(d.elems) {
			j := d.elem
			d.elem++
			out, why := d.mappedRow(d.els, &d.elems[j], j)
			if out != rowOK {
				why = fmt.Sprintf("element %d of %s: %s", j, d.m.unnest, why)
			}
			if err := emit(out, why, j); err != nil {
				return false, err
			}
			if size >= mappedBatchBytes {
				if d.elem == len(d.elems) {
					d.elems = nil
					d.doc++
				}
				return true, nil
			}
		}
		d.elems = nil
	}
	return false, nil
}

// start reads the next document's fields and, with unnest, its array's
// elements, or says why it gives no row.
func (d *mappedRecords) start() (int, string) {
	if err := d.rows.Check(d.doc); err != nil {
		return rowRejected, err.Error()
	}
	els, err := d.rows.Doc(d.doc).Elements()
	if err != nil {
		return rowRejected, err.Error()
	}
	d.els = els
	if d.m.unnest == "" {
		return rowOK, ""
	}
	elems, out, why := d.elements(els)
	d.elems, d.elem = elems, 0
	return out, why
}

// elements is the unnested array's values, or why the document has none
// (filtered: missing, Null, empty) or cannot have them (not an array).
func (d *mappedRecords) elements(els []bson.RawElement) ([]bson.RawValue, int, string) {
	var arr *bson.RawValue
	for _, e := range els {
		if e.Key() == d.m.unnest {
			if arr != nil {
				return nil, rowRejected, fmt.Sprintf("field %s appears twice", d.m.unnest)
			}
			v := e.Value()
			arr = &v
		}
	}
	switch {
	case arr == nil:
		return nil, rowFiltered, fmt.Sprintf("unnest: the document has no field %s, so no row", d.m.unnest)
	case arr.Type == bson.TypeNull:
		return nil, rowFiltered, fmt.Sprintf("unnest: %s is null, so no row", d.m.unnest)
	case arr.Type != bson.TypeArray:
		return nil, rowRejected, fmt.Sprintf("unnest: field %s is %s, not an array", d.m.unnest, arr.Type)
	}
	vals, err := arr.Array().Values()
	if err != nil {
		return nil, rowRejected, fmt.Sprintf("unnest: field %s: %v", d.m.unnest, err)
	}
	if len(vals) == 0 {
		return nil, rowFiltered, fmt.Sprintf("unnest: %s is empty, so no row", d.m.unnest)
	}
	return vals, rowOK, ""
}

// mappedRow fills d.cells from the document's fields els (and, with
// unnest, its element elem at position j), or says why the row is left
// out.
func (d *mappedRecords) mappedRow(els []bson.RawElement, elem *bson.RawValue, j int) (int, string) {
	m, f := d.m, d.f
	for k := range d.cells {
		d.cells[k], d.set[k] = cell{null: true}, false
	}
	if len(m.used) > 0 {
		d.bind(els, elem, j)
	}
	if m.filter != nil {
		out, err := expr.Run(m.filter, d.vals)
		if err != nil {
			return rowRejected, fmt.Sprintf("the filter at %s fails on this row: %v", m.filterWhere, err)
		}
		if keep, _ := out.(bool); !keep {
			return rowFiltered, "left out by the filter at " + m.filterWhere
		}
	}
	// _id goes to the primary key column only when nothing else fills it.
	idToKey := !m.idOwn && m.unnest == "" && f.id == idColumn && f.cols[f.idCol].Name != mongotype.ColID && m.claimed[f.idCol] == ""
	if idToKey {
		for _, e := range els {
			if e.Key() == f.cols[f.idCol].Name {
				idToKey = false
			}
		}
	}
	for _, e := range els {
		key, v := e.Key(), e.Value()
		if k, ok := m.top[key]; ok {
			if why := d.putAt(k, "field "+key, v, m.defs[k]); why != "" {
				return rowRejected, why
			}
			continue
		}
		if key == m.unnest || m.roots[key] || m.drop[key] {
			continue
		}
		if key == mongotype.ColID {
			switch {
			case m.unnest != "":
				if _, ok := f.byName[mongotype.ColID]; !ok {
					continue
				}
			case f.id == idNowhere:
				continue
			case f.id == idKeyFields:
				if why := d.keyFields(v); why != "" {
					return rowRejected, why
				}
				continue
			case idToKey:
				key = f.cols[f.idCol].Name
			}
		}
		if why := d.putField(key, v); why != "" {
			return rowRejected, why
		}
	}
	for _, p := range m.paths {
		from, found := bson.RawValue{}, false
		if m.unnest != "" && p.path[0] == m.unnest {
			from, found = *elem, true
		} else {
			for _, e := range els {
				if e.Key() == p.path[0] {
					from, found = e.Value(), true
					break
				}
			}
		}
		if !found {
			continue // the document has no such field: the column is unset
		}
		v, ok, why := lookupPath(from, p.path)
		if why != "" {
			return rowRejected, fmt.Sprintf("field %s: %s", p.name, why)
		}
		if !ok {
			continue
		}
		if why := d.putAt(p.col, "field "+p.name, v, m.defs[p.col]); why != "" {
			return rowRejected, why
		}
	}
	if m.elem >= 0 {
		if why := d.putAt(m.elem, "field "+m.unnest, *elem, m.defs[m.elem]); why != "" {
			return rowRejected, why
		}
	}
	if m.index >= 0 {
		if why := d.putAt(m.index, "the unnest index", bson.RawValue{Type: bson.TypeInt64, Value: bsoncore.AppendInt64(nil, int64(j))}, nil); why != "" {
			return rowRejected, why
		}
	}
	for _, c := range m.comp {
		out, err := expr.Run(c.prog, d.vals)
		if err != nil {
			return rowRejected, fmt.Sprintf("computed column %s (%s) fails on this row: %v", c.name, c.where, err)
		}
		v, why := anyBSON(out)
		if why == "" {
			why = d.putAt(c.col, fmt.Sprintf("computed column %s (%s)", c.name, c.where), v, m.defs[c.col])
		} else {
			why = fmt.Sprintf("computed column %s (%s) is %s", c.name, c.where, why)
		}
		if why != "" {
			return rowRejected, why
		}
	}
	for k, def := range m.defs {
		if def != nil && !d.set[k] {
			d.cells[k], d.set[k] = *def, true
		}
	}
	if why := d.unset(); why != "" {
		return rowRejected, why
	}
	return rowOK, ""
}

// putField is put with the column's default for a Null.
func (d *mappedRecords) putField(key string, v bson.RawValue) string {
	k, ok := d.f.byName[key]
	if !ok {
		return fmt.Sprintf("field %s: the table has no column %s (drop: leaves a field out)", key, key)
	}
	return d.putAt(k, "field "+key, v, d.m.defs[k])
}

// bind sets the names the expressions read for one row.
func (d *mappedRecords) bind(els []bson.RawElement, elem *bson.RawValue, j int) {
	if d.vals == nil {
		d.vals = make(map[string]any, len(d.m.used))
	}
	for _, n := range d.m.used {
		d.vals[n] = nil
	}
	for _, e := range els {
		if n := e.Key(); n != d.m.unnest {
			if _, ok := d.vals[n]; ok {
				d.vals[n] = sparseAny(e.Value(), d.m.uses[n])
			}
		}
	}
	if elem != nil {
		if _, ok := d.vals[d.m.unnest]; ok {
			d.vals[d.m.unnest] = sparseAny(*elem, d.m.uses[d.m.unnest])
		}
		if d.m.index >= 0 {
			if n := d.f.cols[d.m.index].Name; contains(d.m.used, n) {
				d.vals[n] = j
			}
		}
	}
}

// lookupPath reads the value under path[1:] in v, the value of path[0]:
// through sub-documents, and arrays by position. A missing step, or a Null
// on the way, is no value (ok false); a step into anything else says why.
func lookupPath(v bson.RawValue, path []string) (bson.RawValue, bool, string) {
	for i := 1; i < len(path); i++ {
		p, at := path[i], strings.Join(path[:i], ".")
		switch v.Type {
		case bson.TypeNull:
			return v, false, ""
		case bson.TypeEmbeddedDocument:
			e, err := v.Document().LookupErr(p)
			if err != nil {
				return v, false, ""
			}
			v = e
		case bson.TypeArray:
			n, err := strconv.Atoi(p)
			if err != nil || n < 0 {
				return v, false, fmt.Sprintf("%s is an array, and %s is no position in it", at, p)
			}
			vals, err := v.Array().Values()
			if err != nil {
				return v, false, err.Error()
			}
			if n >= len(vals) {
				return v, false, ""
			}
			v = vals[n]
		default:
			return v, false, fmt.Sprintf("%s is %s, which has no field %s", at, v.Type, p)
		}
	}
	return v, true, ""
}
