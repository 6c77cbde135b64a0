package convert

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/mongotype"
	"github.com/imbundle/imbundle/internal/mysqltype"
	"github.com/imbundle/imbundle/spec"
)

// The default mapping from a MySQL table to a MongoDB collection (SPEC.md
// §11.1): one document per row, the fields the columns in table order with
// their names, _id from the primary key. Its value rules are in
// mysql_mongo_value.go.
func init() { RegisterMapped(mysqltype.Engine, mongoEngine, mysqlToMongo) }

const (
	mongoEngine      = "mongodb"
	ruleMySQLToMongo = "mysql-table to mongodb-collection v1"
)

// tableField is one column of the table as a document field.
type tableField struct {
	castString bool // cast to string: a zero date goes as its own text
	def        any  // a mapping's default for NULL, if hasDef
	hasDef     bool
	name       string   // the field's name (a mapping's target name, maybe dotted)
	path       []string // where the field goes: the name, split at dots if a mapping gave it
	col        int      // index in the record
	raw        int      // index of its #raw companion, -1 if none
	value      valueRule
}

type tableToDocs struct {
	ds     *spec.Dataset
	fields []tableField
	idCols []int // indexes into fields of the primary key, in key order
	offset []int64
	filter *rowFilter // the mapping's, or nil
	where  string     // the filter's position, for reasons
	env    *rowEnv    // the row's fields for the mapping's expressions
	comp   []computed // the mapping's computed fields, in name order
	tree   *docNode   // the fields but _id, nested where a mapping's names say
	// objectID: _id is an ObjectId derived from the key, whose columns
	// stay fields (a mapping's id: objectid, mapping_id.go).
	objectID bool
	// union: the bundle dataset's name, which a united dataset's
	// objectID hashes too (mapping_union.go); "" otherwise.
	union string
	// members: for a logical dataset, the member each row was read from
	// (by its row number in the dataset), whose name a derived ObjectId
	// hashes as a union of the members would (mapping_id.go).
	members *memberIndex
}

func mysqlToMongo(ds *spec.Dataset, src *spec.Source, d *DatasetRule) (*Conversion, error) {
	if ds.Kind != spec.KindTable {
		return nil, nil
	}
	if isDocumentsTable(ds) {
		// A collection kept in MySQL goes back as it was.
		c, err := documentsToMongo(ds, src)
		if c != nil && d.changesFields() {
			c.Refused = append(c.Refused, fmt.Sprintf("%s: a documents table goes back byte for byte; it takes no rename, drop or filter", d.Where()))
		}
		return c, err
	}
	nested := d != nil && d.Nest != nil
	c, t, err := tableToMongo(ds, src, d, nested)
	if err != nil {
		return nil, err
	}
	switch {
	case nested:
		nestRows(t, c, d)
	case d.Embeds():
		embedRows(t, c, d)
	}
	if d.routes() {
		return routedCollections(ds, d, c, t), nil
	}
	return c, nil
}

// tableToMongo builds 11.1's conversion of a table and the documents'
// builder. nested makes each row an element of another document (nest,
// embed): no _id, every field in it, no index carried.
func tableToMongo(ds *spec.Dataset, src *spec.Source, d *DatasetRule, nested bool) (*Conversion, *tableToDocs, error) {
	t := &tableToDocs{ds: ds, objectID: d != nil && d.ID == "objectid" && !nested}
	if d.Unites() {
		t.union = ds.Name
	}
	if t.objectID && len(ds.Members) > 0 {
		t.members = newMemberIndex(ds)
	}
	c := &Conversion{Rule: ruleMySQLToMongo, Source: convertedSource(src, mongoEngine), takesID: true, takesIndexes: true}
	if nested && d != nil && d.ID != "" {
		c.Refused = append(c.Refused, fmt.Sprintf("%s: id: nested rows make their own _id (nest)", d.position("id")))
	}
	if nested && d != nil && len(d.Indexes) > 0 {
		c.Refused = append(c.Refused, fmt.Sprintf("%s: indexes: nested rows carry no index but _id_ (nest)", d.position("indexes")))
	}
	rename, drop, cast, defaults := mappedFields(d, ds, c)
	if d != nil && d.Unnest != nil {
		c.Refused = append(c.Refused, d.errorAt("unnest", "unnest: a table's row has no array to unnest (unnest is for documents going into MySQL, SPEC.md §11.6)").Error())
	}
	env := newRowEnv(ds)
	t.env = env
	if d != nil && d.Filter != "" {
		f, err := newRowFilter(d, env)
		if err != nil {
			c.Refused = append(c.Refused, err.Error())
		}
		t.filter, t.where = f, d.position("filter")
		c.Notes = append(c.Notes, fmt.Sprintf("rows where %q is false are left out (%s)", d.Filter, t.where))
	}
	byName := map[string]int{}
	for i, col := range ds.Columns {
		if col.Metadata[mysqltype.MetaRawOf] != "" {
			continue // read with the column it belongs to
		}
		if drop[col.Name] {
			if contains(ds.PrimaryKey, col.Name) && !nested {
				c.Refused = append(c.Refused, fmt.Sprintf("%s: %s is the primary key, which _id is made of", d.position("drop"), col.Name))
			}
			c.Notes = append(c.Notes, fmt.Sprintf("%s left out (%s)", col.Name, d.position("drop")))
			continue
		}
		f := tableField{name: col.Name, path: []string{col.Name}, col: i, raw: -1}
		if to, ok := rename[col.Name]; ok {
			f.name, f.path = to, strings.Split(to, ".")
			c.Notes = append(c.Notes, fmt.Sprintf("%s becomes %s", col.Name, to))
		}
		if rc := col.Metadata[mysqltype.MetaRawColumn]; rc != "" {
			for j, o := range ds.Columns {
				if o.Name == rc {
					f.raw = j
				}
			}
		}
		vr, note, err := valueRuleFor(col)
		if to, ok := cast[col.Name]; ok {
			if vr, err = castRule(to, col); err == nil {
				note = fmt.Sprintf("cast to %s (%s), exactly or the row is a reject", to, d.position("cast."+col.Name))
				f.castString = to == "string"
			}
		}
		if v, ok := defaults[col.Name]; ok {
			if _, derr := defaultValue(nil, col.Name, v); derr != nil {
				c.Refused = append(c.Refused, fmt.Sprintf("%s: %v", d.position("defaults."+col.Name), derr))
			}
			f.def, f.hasDef = v, true
			c.Notes = append(c.Notes, fmt.Sprintf("%s: NULL becomes %v (%s)", col.Name, v, d.position("defaults."+col.Name)))
		}
		if err != nil {
			c.Refused = append(c.Refused, fmt.Sprintf("column %s (%s): %v", col.Name, nativeOf(col), err))
			continue
		}
		f.value = vr
		if note != "" {
			c.Notes = append(c.Notes, fmt.Sprintf("%s (%s): %s", col.Name, nativeOf(col), note))
		}
		byName[col.Name] = len(t.fields)
		if to, ok := rename[col.Name]; ok && contains(ds.PrimaryKey, col.Name) && len(ds.PrimaryKey) == 1 && !t.objectID && !nested {
			c.Notes = append(c.Notes, fmt.Sprintf("%s: renaming %s, the primary key, names nothing: it is _id", d.position("rename."+col.Name), to))
		}
		t.fields = append(t.fields, f)
	}
	if d != nil {
		t.comp, c.Refused = computedFields(d, env, c.Refused)
		for _, cf := range t.comp {
			c.Notes = append(c.Notes, fmt.Sprintf("%s is computed: %s (%s)", cf.name, cf.src, cf.where))
		}
	}
	names := map[string]string{}
	for _, cf := range t.comp {
		names[cf.name] = "computed " + cf.name
		if cf.name == "_id" {
			c.Refused = append(c.Refused, fmt.Sprintf("%s: a computed field named _id: the primary key makes it", cf.where))
		}
	}
	for _, f := range t.fields {
		if other, dup := names[f.name]; dup {
			c.Refused = append(c.Refused, fmt.Sprintf("%s: %s and %s would both be the field %s", d.Where(), other, ds.Columns[f.col].Name, f.name))
		}
		names[f.name] = ds.Columns[f.col].Name
		if f.name == "_id" && (t.objectID || !(len(ds.PrimaryKey) == 1 && ds.PrimaryKey[0] == ds.Columns[f.col].Name)) {
			c.Refused = append(c.Refused, fmt.Sprintf("%s: %s would be a field named _id, which the primary key makes", d.Where(), ds.Columns[f.col].Name))
		}
	}
	for _, k := range ds.PrimaryKey {
		i, ok := byName[k]
		if !ok {
			if !nested { // nested rows need no _id of their own
				c.Refused = append(c.Refused, fmt.Sprintf("primary key column %s has no field", k))
			}
			continue
		}
		t.idCols = append(t.idCols, i)
	}
	switch {
	case nested: // nestRows says what _id is
	case t.objectID:
		c.Notes = append(c.Notes, objectIDNote(d, ds, c))
	case len(t.idCols) == 0:
		c.Notes = append(c.Notes, "no primary key: _id is the row's ordinal in the bundle (Int64, from 0)")
	case len(t.idCols) == 1:
		c.Notes = append(c.Notes, fmt.Sprintf("_id is %s (the primary key), which is not repeated as a field", t.fields[t.idCols[0]].name))
	default:
		c.Notes = append(c.Notes, fmt.Sprintf("_id is a document of the primary key columns %s, which are not repeated as fields", strings.Join(ds.PrimaryKey, ", ")))
	}
	treeIDs := t.idCols
	if t.objectID || nested {
		treeIDs = nil // the key's columns stay fields (objectID), every field goes into the element (nest)
	}
	tree, err := buildDocTree(t.fields, treeIDs, t.comp)
	if err != nil {
		c.Refused = append(c.Refused, fmt.Sprintf("%s: %v", d.Where(), err))
	}
	t.tree = tree
	var n int64
	for _, p := range ds.Parts {
		t.offset = append(t.offset, n)
		n += p.Rows
	}
	fieldOf := map[string]string{}
	for _, f := range t.fields {
		fieldOf[ds.Columns[f.col].Name] = f.name
	}
	indexes, notes, refused := mongoIndexes(ds, t.idCols != nil && !t.objectID, fieldOf)
	if nested {
		notes, refused = nil, nil // nested rows carry no index but _id_ (nestRows)
	} else {
		has := func(string) bool { return true } // the tree's own error is refused above
		if tree != nil {
			has = func(f string) bool { return tree.has(f) || d.embedsField(f) }
		}
		c.Notes = append(c.Notes, notes...)
		c.Refused = append(c.Refused, refused...)
		var declared []bson.Raw
		declared, notes, refused = declaredIndexes(d, has, indexes)
		indexes = append(indexes, declared...)
	}
	c.Notes = append(c.Notes, notes...)
	c.Refused = append(c.Refused, refused...)
	opts, err := mongotype.Collection{Type: "collection", Indexes: indexes}.ToOptions()
	if err != nil {
		return nil, nil, err
	}
	c.Dataset = &spec.Dataset{Name: ds.Name, Source: ds.Source, Kind: spec.KindCollection, Namespace: ds.Namespace, Object: ds.Object,
		Columns: bundle.ColumnsOf(mongotype.Schema()), PrimaryKey: mongotype.PrimaryKey, Options: opts,
		Rows: ds.Rows, Parts: ds.Parts, Digest: ds.Digest}
	c.records = t.records
	return c, t, nil
}

func nativeOf(c spec.Column) string {
	if c.Native != "" {
		return c.Native
	}
	return c.Type
}

// mongoIndexes carries the table's secondary and unique indexes over as
// index specs (ascending or descending keys on the same fields). What a
// MongoDB index cannot mean is a note and left out, never a different
// index: FULLTEXT and SPATIAL keys, and prefix keys (a unique prefix key
// constrains less than a unique index on the whole value would; a plain
// one only speeds up lookups, so it becomes an index on the whole field).
func mongoIndexes(ds *spec.Dataset, hasPK bool, fieldOf map[string]string) (specs []bson.Raw, notes, refused []string) {
	specs = append(specs, idIndexSpec())
	ixs, err := mysqltype.Indexes(ds.DDL)
	if err != nil {
		return specs, []string{fmt.Sprintf("indexes not carried: %v", err)}, nil
	}
	pkOnID := map[string]bool{}
	if hasPK && len(ds.PrimaryKey) == 1 {
		pkOnID[ds.PrimaryKey[0]] = true
	}
	for _, ix := range ixs {
		if ix.Kind == "FULLTEXT" || ix.Kind == "SPATIAL" {
			notes = append(notes, fmt.Sprintf("index %s (%s) not carried: no MongoDB index means the same", ix.Name, ix.Kind))
			continue
		}
		key := bsoncore.NewDocumentBuilder()
		skip := false
		for _, col := range ix.Columns {
			if col.Prefix > 0 && ix.Kind == "UNIQUE" {
				notes = append(notes, fmt.Sprintf("unique index %s not carried: it is unique on a %d-character prefix of %s", ix.Name, col.Prefix, col.Name))
				skip = true
				break
			}
			field, ok := fieldOf[col.Name]
			if !ok {
				notes = append(notes, fmt.Sprintf("index %s not carried: the mapping leaves %s out", ix.Name, col.Name))
				skip = true
				break
			}
			if pkOnID[col.Name] {
				field = "_id"
			} else if hasPK && len(ds.PrimaryKey) > 1 && contains(ds.PrimaryKey, col.Name) {
				field = "_id." + field
			}
			dir := int32(1)
			if col.Desc {
				dir = -1
			}
			key.AppendInt32(field, dir)
		}
		if skip {
			continue
		}
		b := bsoncore.NewDocumentBuilder().AppendDocument("key", key.Build()).AppendString("name", ix.Name)
		if ix.Kind == "UNIQUE" {
			b.AppendBoolean("unique", true)
			notes = append(notes, fmt.Sprintf("unique index %s: MongoDB counts a missing or null field as a value, MySQL lets NULLs repeat: rows with NULL in it may be refused", ix.Name))
		}
		specs = append(specs, bson.Raw(b.Build()))
	}
	return specs, notes, nil
}

// idIndexSpec is the _id index every collection has, as listIndexes
// gives it without v and ns.
func idIndexSpec() bson.Raw {
	return bson.Raw(bsoncore.NewDocumentBuilder().
		AppendDocument("key", bsoncore.NewDocumentBuilder().AppendInt32("_id", 1).Build()).
		AppendString("name", "_id_").Build())
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// records converts a part's rows into documents, rejecting the rows a
// value rule cannot carry exactly.
func (t *tableToDocs) records(in Records, part int, reject func(Reject) error) Records {
	d := &docRecords{t: t, part: part, reject: reject}
	return &batches{in: in, convert: d.convert}
}

type docRecords struct {
	t      *tableToDocs
	vals   rowVals // this part's binding of the mapping's expressions
	part   int
	row    int64 // rows of the part read so far
	reject func(Reject) error
	doc    []byte
	idBuf  []byte // the key's _id element as the rule would make it (objectID)
}

func (d *docRecords) convert(rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	b := mongotype.NewBuilder(memory.DefaultAllocator)
	defer b.Release()
	for i := 0; i < int(rec.NumRows()); i++ {
		row := d.row
		d.row++
		if f := d.t.filter; f != nil {
			keep, err := f.keep(&d.vals, rec, i, row)
			if err != nil || !keep {
				rj := Reject{Row: row, Key: d.key(rec, i), Filtered: true, Reason: "left out by the filter at " + d.t.where}
				if err != nil {
					rj = Reject{Row: row, Key: d.key(rec, i), Reason: fmt.Sprintf("the filter at %s fails on this row: %v", d.t.where, err), Values: rowValues(rec, i)}
				}
				if err := d.reject(rj); err != nil {
					return nil, err
				}
				continue
			}
		}
		doc, why := d.document(rec, i, row)
		if why != "" {
			if err := d.reject(Reject{Row: row, Key: d.key(rec, i), Reason: why, Values: rowValues(rec, i)}); err != nil {
				return nil, err
			}
			continue
		}
		if err := b.Append(doc); err != nil {
			return nil, fmt.Errorf("row %d: %w", row, err)
		}
	}
	return b.NewRecord(), nil
}

// document builds row i's document, or says why it cannot be exact.
func (d *docRecords) document(rec arrow.RecordBatch, i int, row int64) (bson.Raw, string) {
	t := d.t
	idx, doc := bsoncore.ReserveLength(d.doc[:0])
	var why string
	if t.objectID {
		doc, why = d.objectID(doc, rec, i, row)
	} else {
		doc, why = d.appendKeyID(doc, rec, i, row)
	}
	if why != "" {
		return nil, why
	}
	if doc, why = d.emit(doc, t.tree.kids, rec, i, row); why != "" {
		return nil, why
	}
	doc = append(doc, 0)
	doc = bsoncore.UpdateLength(doc, idx, int32(len(doc)))
	d.doc = doc
	return bson.Raw(doc), ""
}

// appendKeyID appends the _id of §11.1's rule: the primary key's value, a
// document of a composite key's columns, or the row's ordinal.
func (d *docRecords) appendKeyID(doc []byte, rec arrow.RecordBatch, i int, row int64) ([]byte, string) {
	t := d.t
	var why string
	switch len(t.idCols) {
	case 0:
		return bsoncore.AppendInt64Element(doc, "_id", t.offset[d.part]+row), ""
	case 1:
		return t.fields[t.idCols[0]].append(doc, "_id", rec, i)
	}
	sidx, sub := bsoncore.AppendDocumentElementStart(doc, "_id")
	for _, k := range t.idCols {
		f := t.fields[k]
		if sub, why = f.append(sub, f.name, rec, i); why != "" {
			return nil, why
		}
	}
	doc, err := bsoncore.AppendDocumentEnd(sub, sidx)
	if err != nil {
		return nil, err.Error()
	}
	return doc, ""
}

func isID(ids []int, k int) bool {
	for _, i := range ids {
		if i == k {
			return true
		}
	}
	return false
}

// append adds the field's value in row i, or says why it cannot be exact.
func (f tableField) append(doc []byte, key string, rec arrow.RecordBatch, i int) ([]byte, string) {
	if f.raw >= 0 && rec.Column(f.raw).IsValid(i) {
		if f.castString {
			return bsoncore.AppendStringElement(doc, key, rawText(rec.Column(f.raw), i)), ""
		}
		return nil, fmt.Sprintf("column %s holds %q, which is no calendar date: a BSON date cannot hold it", f.name, rawText(rec.Column(f.raw), i))
	}
	col := rec.Column(f.col)
	if col.IsNull(i) {
		if f.hasDef {
			out, err := defaultValue(doc, key, f.def)
			if err != nil {
				return nil, err.Error()
			}
			return out, ""
		}
		return bsoncore.AppendNullElement(doc, key), ""
	}
	out, why := f.value(doc, key, col, i)
	if why != "" {
		return nil, fmt.Sprintf("column %s: %s", f.name, why)
	}
	return out, ""
}

// key renders the row's primary key (or its ordinal) for a reject line.
func (d *docRecords) key(rec arrow.RecordBatch, i int) []string {
	var out []string
	for _, k := range d.t.idCols {
		out = append(out, bundle.KeyString(rec.Column(d.t.fields[k].col), i))
	}
	return out
}

// rowValues renders a source row for a reject line, as the engines' own
// rejects do.
func rowValues(rec arrow.RecordBatch, i int) map[string]any {
	vals := make(map[string]any, rec.NumCols())
	for c := 0; c < int(rec.NumCols()); c++ {
		if col := rec.Column(c); col.IsValid(i) {
			vals[rec.ColumnName(c)] = bundle.KeyString(col, i)
		} else {
			vals[rec.ColumnName(c)] = nil
		}
	}
	return vals
}

// mappedFields checks a mapping entry's renames and drops against the
// table's columns; what names no column is refused at its line.
func mappedFields(d *DatasetRule, ds *spec.Dataset, c *Conversion) (rename map[string]string, drop map[string]bool, cast map[string]string, defaults map[string]any) {
	rename, drop = map[string]string{}, map[string]bool{}
	if d == nil {
		return
	}
	cast, defaults = d.Cast, d.Defaults
	has := map[string]bool{}
	for _, col := range ds.Columns {
		if col.Metadata[mysqltype.MetaRawOf] == "" {
			has[col.Name] = true
		}
	}
	// A dotted name is a column's own name or nothing: reading a field
	// inside a JSON column is not done, and must not pass unnoticed.
	inside := func(name string) string {
		if col, _, ok := strings.Cut(name, "."); ok && has[col] {
			return fmt.Sprintf(" (a dotted name reads no field inside column %s: rename and drop take whole columns)", col)
		}
		return ""
	}
	for from, to := range d.Rename {
		if !has[from] {
			c.Refused = append(c.Refused, fmt.Sprintf("%s: rename %s: %s has no such column%s", d.position("rename."+from), from, ds.Name, inside(from)))
		}
		rename[from] = to
	}
	for name := range d.Cast {
		if !has[name] {
			c.Refused = append(c.Refused, fmt.Sprintf("%s: cast %s: %s has no such column", d.position("cast."+name), name, ds.Name))
		}
	}
	for name := range d.Defaults {
		if !has[name] {
			c.Refused = append(c.Refused, fmt.Sprintf("%s: default for %s: %s has no such column", d.position("defaults."+name), name, ds.Name))
		}
	}
	for i, name := range d.Drop {
		if !has[name] {
			c.Refused = append(c.Refused, fmt.Sprintf("%s: drop %s: %s has no such column%s", d.position(fmt.Sprintf("drop[%d]", i)), name, ds.Name, inside(name)))
		}
		drop[name] = true
	}
	return
}
