package convert

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/mongotype"
	"github.com/imbundle/imbundle/internal/mysqltype"
	"github.com/imbundle/imbundle/spec"
)

// A collection imported into a MySQL table that already exists (the
// application created its schema) goes into that table's columns (SPEC.md
// §11.3): each document one row, its fields onto the columns of the same
// name, each value converted to the column's type exactly or the document
// a reject. The value rules are in mongo_mysql_into_value.go.
func init() { RegisterInto(mongoEngine, mysqltype.Engine, mongoIntoMySQL) }

const ruleMongoIntoMySQL = "mongodb-collection into existing mysql-table v1"

// idHome says where a document's _id goes.
type idHome int

const (
	idColumn    idHome = iota // a column named _id, or the single-column primary key
	idKeyFields               // an _id document whose fields are the composite primary key's columns
	idNowhere                 // no primary key and no _id column: not stored
)

type fieldsInto struct {
	schema *arrow.Schema
	byName map[string]int
	rules  []fieldRule // nil for a raw-date companion (always NULL)
	cols   []spec.Column
	id     idHome
	idCol  int // with idColumn
}

func mongoIntoMySQL(ds *spec.Dataset, src *spec.Source, into *spec.Dataset) (*Conversion, error) {
	return mongoIntoTable(ds, src, into, nil)
}

// mongoIntoTable is the rule with a mapping file's entry d (nil: none),
// which mongo_mysql_mapping.go checks and applies.
func mongoIntoTable(ds *spec.Dataset, src *spec.Source, into *spec.Dataset, d *DatasetRule) (*Conversion, error) {
	if ds.Kind != spec.KindCollection || into.Kind != spec.KindTable {
		return nil, nil
	}
	if isDocumentsTable(into) {
		// The default mapping's own table: documents as they are.
		c, err := mongoToMySQL(ds, src)
		if c != nil && (d.changesFields() || d.routes()) {
			c.Refused = append(c.Refused, fmt.Sprintf("%s: the existing %s is a documents table (§11.2), which keeps documents whole: it takes no rename, drop, unnest, filter, compute, cast, defaults or route", d.Where(), into.Object))
		}
		return c, err
	}
	c := &Conversion{Rule: ruleMongoIntoMySQL, Source: convertedSource(src, mysqltype.Engine)}
	if err := mongotype.CheckColumns(ds.Columns); err != nil {
		c.Refused = append(c.Refused, fmt.Sprintf("not the collection layout of SPEC.md §9.2: %v", err))
	}
	f := newFieldsInto(into, c)
	switch i, ok := f.byName[mongotype.ColID]; {
	case d != nil && d.Unnest != nil:
		f.id = idNowhere // the unnest note says where _id goes
		if ok {
			f.id, f.idCol = idColumn, i
		}
	case ok:
		f.id, f.idCol = idColumn, i
		c.Notes = append(c.Notes, "_id into the column _id")
	case len(into.PrimaryKey) == 1:
		f.id, f.idCol = idColumn, f.byName[into.PrimaryKey[0]]
		c.Notes = append(c.Notes, fmt.Sprintf("_id into the primary key column %s, unless the document has a field %s too (then _id has no column: reject)", into.PrimaryKey[0], into.PrimaryKey[0]))
	case len(into.PrimaryKey) > 1:
		f.id = idKeyFields
		c.Notes = append(c.Notes, fmt.Sprintf("_id must be a document of the primary key columns %s", strings.Join(into.PrimaryKey, ", ")))
	default:
		f.id = idNowhere
		c.Notes = append(c.Notes, "the table has no primary key and no _id column: a document's _id is not stored")
	}
	var m *docMapping
	if d.changesFields() {
		m = newDocMapping(d, f, c)
		c.Notes = append(c.Notes, "a field the table has no column for is a reject unless dropped; a column no field fills is its default or NULL, or the row a reject when the column is NOT NULL")
	} else {
		c.Notes = append(c.Notes, "a field the table has no column for is a reject; a column the document has no field for is NULL, or the document a reject when the column is NOT NULL")
	}
	c.Dataset = &spec.Dataset{Name: ds.Name, Source: ds.Source, Kind: spec.KindTable, Namespace: ds.Namespace, Object: ds.Object,
		Columns: into.Columns, PrimaryKey: into.PrimaryKey, DDL: into.DDL, Options: into.Options,
		Rows: ds.Rows, Parts: ds.Parts, Digest: ds.Digest}
	c.records = func(in Records, part int, reject func(Reject) error) Records {
		d := &fieldRecords{f: f, reject: reject, cells: make([]cell, len(f.rules)), set: make([]bool, len(f.rules))}
		if m != nil {
			d.cast = m.casts
			return &mappedRecords{fieldRecords: d, m: m, in: in}
		}
		return &batches{in: in, convert: d.convert}
	}
	return c, nil
}

// newFieldsInto reads an existing table's columns into their value rules
// (§11.3's table); a column no rule can fill is refused in c.
func newFieldsInto(into *spec.Dataset, c *Conversion) *fieldsInto {
	f := &fieldsInto{byName: map[string]int{}, cols: into.Columns}
	var fields []arrow.Field
	for i, col := range into.Columns {
		t, terr := arrowType(col.Type)
		if terr != nil {
			c.Refused = append(c.Refused, fmt.Sprintf("column %s: %v", col.Name, terr))
			t = bundle.Bytes
		}
		md := map[string]string{}
		for k, v := range col.Metadata {
			md[k] = v
		}
		if col.Native != "" {
			md[bundle.MetaNative] = col.Native
		}
		fields = append(fields, arrow.Field{Name: col.Name, Type: t, Nullable: col.Nullable, Metadata: arrow.MetadataFrom(md)})
		if col.Metadata[mysqltype.MetaRawOf] != "" || terr != nil {
			f.rules = append(f.rules, nil)
			continue
		}
		r, note, err := fieldRuleFor(col, t)
		if err != nil {
			c.Refused = append(c.Refused, fmt.Sprintf("column %s (%s): %v", col.Name, nativeOf(col), err))
		}
		if note != "" {
			c.Notes = append(c.Notes, fmt.Sprintf("%s (%s): %s", col.Name, nativeOf(col), note))
		}
		f.rules = append(f.rules, r)
		f.byName[col.Name] = i
	}
	f.schema = arrow.NewSchema(fields, nil)
	return f
}

type fieldRecords struct {
	f      *fieldsInto
	cast   []docCast // a mapping's casts by column, or nil
	reject func(Reject) error
	row    int64
	cells  []cell
	set    []bool
}

func (d *fieldRecords) convert(rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	rows, err := mongotype.RowsOf(rec)
	if err != nil {
		return nil, err
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, d.f.schema)
	defer b.Release()
	for i := 0; i < rows.Len(); i++ {
		row := d.row
		d.row++
		if why := d.row1(rows, i); why != "" {
			if err := d.reject(Reject{Row: row, Key: []string{rows.IDJSON(i)}, Reason: why, Values: documentValues(rows.Doc(i))}); err != nil {
				return nil, err
			}
			continue
		}
		for k := range d.cells {
			appendCell(b.Field(k), d.cells[k])
		}
	}
	return b.NewRecordBatch(), nil
}

// row1 fills d.cells from document i, or says why it cannot be a row.
func (d *fieldRecords) row1(rows *mongotype.Rows, i int) string {
	if err := rows.Check(i); err != nil {
		return err.Error()
	}
	for k := range d.cells {
		d.cells[k], d.set[k] = cell{null: true}, false
	}
	f := d.f
	els, err := rows.Doc(i).Elements()
	if err != nil {
		return err.Error()
	}
	// _id goes to the primary key column only when no field claims it.
	idToKey := f.id == idColumn && f.cols[f.idCol].Name != mongotype.ColID
	if idToKey {
		for _, e := range els {
			if e.Key() == f.cols[f.idCol].Name {
				idToKey = false
			}
		}
	}
	for _, e := range els {
		key, v := e.Key(), e.Value()
		if key == mongotype.ColID {
			switch {
			case f.id == idNowhere:
				continue
			case f.id == idKeyFields:
				if why := d.keyFields(v); why != "" {
					return why
				}
				continue
			case idToKey:
				key = f.cols[f.idCol].Name
			}
		}
		if why := d.put(key, v); why != "" {
			return why
		}
	}
	return d.unset()
}

// unset checks the columns no field filled: NULL, or the row a reject for
// a NOT NULL column.
func (d *fieldRecords) unset() string {
	for k, col := range d.f.cols {
		if d.set[k] || d.f.rules[k] == nil || col.Metadata[mysqltype.MetaGenerated] != "" {
			continue
		}
		if notNull(col) {
			return fmt.Sprintf("the document has no field %s, and column %s is NOT NULL", col.Name, col.Name)
		}
	}
	return ""
}

func notNull(col spec.Column) bool {
	return !col.Nullable || col.Metadata[mysqltype.MetaNotNull] == "true"
}

// keyFields puts the fields of an _id document onto the primary key
// columns.
func (d *fieldRecords) keyFields(v bson.RawValue) string {
	doc, ok := v.DocumentOK()
	if !ok {
		return fmt.Sprintf("_id is %s; the table's primary key has several columns, so _id must be a document of them", v.Type)
	}
	els, err := doc.Elements()
	if err != nil {
		return err.Error()
	}
	for _, e := range els {
		if why := d.put(e.Key(), e.Value()); why != "" {
			return "_id." + why
		}
	}
	return ""
}

// put converts one field's value into its column's cell.
func (d *fieldRecords) put(key string, v bson.RawValue) string {
	k, ok := d.f.byName[key]
	if !ok {
		return fmt.Sprintf("field %s: the table has no column %s", key, key)
	}
	return d.putAt(k, "field "+key, v, nil)
}

// putAt converts the value of what ("field a.b", "computed column x")
// into column k's cell; a Null takes def when there is one (a mapping's
// default).
func (d *fieldRecords) putAt(k int, what string, v bson.RawValue, def *cell) string {
	col := d.f.cols[k]
	plain := what == "field "+col.Name // the field of the column's name
	if d.set[k] {
		if plain {
			return fmt.Sprintf("%s appears twice", what)
		}
		return fmt.Sprintf("%s and another field both fill column %s", what, col.Name)
	}
	d.set[k] = true
	if v.Type == bson.TypeNull {
		if def != nil {
			d.cells[k] = *def
			return ""
		}
		if notNull(col) {
			return fmt.Sprintf("%s is null, and column %s is NOT NULL", what, col.Name)
		}
		return ""
	}
	if d.cast != nil && d.cast[k] != nil {
		var why string
		if v, why = d.cast[k](v); why != "" {
			return fmt.Sprintf("%s: %s", what, why)
		}
	}
	c, why := d.f.rules[k](v)
	if why != "" && !plain {
		return fmt.Sprintf("%s (%s) into column %s: %s", what, v.Type, col.Name, why)
	}
	if why != "" {
		return fmt.Sprintf("%s (%s): %s", what, v.Type, why)
	}
	d.cells[k] = c
	return ""
}
