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

// The default mapping from a MongoDB collection to a MySQL table (SPEC.md
// §11.2): a documents table, one row per document holding its _id's BSON
// bytes, their readable rendering and the whole document's bytes, so that
// every document is kept exactly, whatever its fields. The table is marked
// (documentsComment) so that the MySQL-to-MongoDB rule turns it back into
// the same documents (mongo_mysql_back.go).
func init() { RegisterMapped(mongoEngine, mysqltype.Engine, mongoToMySQLMapped) }

const (
	ruleMongoToMySQL = "mongodb-collection to mysql-table v1"
	// documentsComment is the COMMENT of a documents table: the mark the
	// reverse rule recognises.
	documentsComment = "imbundle:mongodb-documents-v1"
	// maxIDBytes is the _id column's length: InnoDB's longest index key
	// (3072 bytes with the DYNAMIC row format, the default since MySQL
	// 5.7 and MariaDB 10.2). A longer _id is a reject.
	maxIDBytes = 3072
	// maxTableName is MySQL's longest table name, in characters.
	maxTableName = 64
)

// documentsDDL is the CREATE TABLE of a documents table named table.
func documentsDDL(table string) string {
	return "CREATE TABLE " + mysqltype.QuoteIdent(table) + " (\n" +
		fmt.Sprintf("  `_id` varbinary(%d) NOT NULL,\n", maxIDBytes) +
		"  `_id_json` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,\n" +
		"  `doc` longblob NOT NULL,\n" +
		"  PRIMARY KEY (`_id`)\n" +
		") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin COMMENT='" + documentsComment + "'"
}

// documentsSchema is the Arrow schema of a documents table's rows as the
// MySQL exporter reads them (§7.4), with the metadata the MySQL importer
// loads them by.
func documentsSchema() *arrow.Schema {
	native := func(t string) arrow.Metadata { return arrow.NewMetadata([]string{bundle.MetaNative}, []string{t}) }
	return arrow.NewSchema([]arrow.Field{
		{Name: mongotype.ColID, Type: bundle.Bytes, Metadata: native(fmt.Sprintf("varbinary(%d)", maxIDBytes))},
		{Name: mongotype.ColIDJSON, Type: bundle.Text, Metadata: arrow.NewMetadata(
			[]string{bundle.MetaNative, mysqltype.MetaCharset, mysqltype.MetaCollation}, []string{"longtext", "utf8mb4", "utf8mb4_bin"})},
		{Name: mongotype.ColDoc, Type: bundle.Bytes, Metadata: native("longblob")},
	}, nil)
}

func mongoToMySQL(ds *spec.Dataset, src *spec.Source) (*Conversion, error) {
	if ds.Kind != spec.KindCollection {
		return nil, nil
	}
	c := &Conversion{Rule: ruleMongoToMySQL, Source: convertedSource(src, mysqltype.Engine)}
	if err := mongotype.CheckColumns(ds.Columns); err != nil {
		c.Refused = append(c.Refused, fmt.Sprintf("not the collection layout of SPEC.md §9.2: %v", err))
	}
	if n := len([]rune(ds.Object)); n > maxTableName {
		c.Refused = append(c.Refused, fmt.Sprintf("collection name %q has %d characters, a MySQL table name at most %d: rename it on the source or leave it out", ds.Object, n, maxTableName))
	}
	c.Notes = append(c.Notes,
		fmt.Sprintf("a documents table (COMMENT '%s'): _id VARBINARY(%d) primary key (the _id's BSON type byte and value bytes; a longer _id, or a document without _id, is rejected), _id_json its canonical Extended JSON, doc LONGBLOB the document's BSON bytes unchanged", documentsComment, maxIDBytes))
	c.Notes = append(c.Notes, collectionNotCarried(ds)...)
	c.Dataset = &spec.Dataset{Name: ds.Name, Source: ds.Source, Kind: spec.KindTable, Namespace: ds.Namespace, Object: ds.Object,
		Columns: bundle.ColumnsOf(documentsSchema()), PrimaryKey: []string{mongotype.ColID}, DDL: documentsDDL(ds.Object),
		Options: map[string]string{"engine": "InnoDB", "table_collation": "utf8mb4_bin"},
		Rows:    ds.Rows, Parts: ds.Parts, Digest: ds.Digest}
	c.records = func(in Records, part int, reject func(Reject) error) Records {
		t := &tableRecords{reject: reject}
		return &batches{in: in, convert: t.convert}
	}
	return c, nil
}

// collectionNotCarried names what of the collection besides its documents
// a documents table does not hold: its options and its indexes but _id_.
func collectionNotCarried(ds *spec.Dataset) []string {
	coll, err := mongotype.CollectionFromOptions(ds.Options)
	if err != nil {
		return []string{fmt.Sprintf("collection options unreadable, not carried: %v", err)}
	}
	var notes []string
	if coll.Type != "" && coll.Type != "collection" {
		notes = append(notes, fmt.Sprintf("collection type %s not carried: the documents come back in a plain collection", coll.Type))
	}
	if len(coll.Options) > 5 { // more than an empty document
		notes = append(notes, fmt.Sprintf("collection options not carried: %s", bson.Raw(coll.Options)))
	}
	var names []string
	for _, ix := range coll.Indexes {
		if !mongotype.IsIDIndex(ix) {
			names = append(names, mongotype.IndexName(ix))
		}
	}
	if len(names) > 0 {
		notes = append(notes, "indexes not carried (a table cannot index fields inside doc): "+strings.Join(names, ", "))
	}
	return notes
}

// tableRecords turns a part's collection records into documents table
// rows, copying the three columns of each document it keeps.
type tableRecords struct {
	reject func(Reject) error
	row    int64 // rows of the part read so far
}

func (t *tableRecords) convert(rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	rows, err := mongotype.RowsOf(rec)
	if err != nil {
		return nil, err
	}
	ids, err := bundle.VarLenColumns(rec, 0, 1)
	if err != nil {
		return nil, err
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, documentsSchema())
	defer b.Release()
	id, idj, doc := b.Field(0).(*array.BinaryBuilder), b.Field(1).(*array.LargeStringBuilder), b.Field(2).(*array.BinaryBuilder)
	for i := 0; i < rows.Len(); i++ {
		row := t.row
		t.row++
		if why := documentRowProblem(rows, ids[0], i); why != "" {
			if err := t.reject(Reject{Row: row, Key: []string{rows.IDJSON(i)}, Reason: why, Values: documentValues(rows.Doc(i))}); err != nil {
				return nil, err
			}
			continue
		}
		id.Append(ids[0].Value(i))
		idj.BinaryBuilder.Append(ids[1].Value(i))
		doc.Append(rows.Doc(i))
	}
	return b.NewRecordBatch(), nil
}

// documentRowProblem says why document i cannot be a row of a documents
// table, or "".
func documentRowProblem(rows *mongotype.Rows, id bundle.VarLen, i int) string {
	if err := rows.Check(i); err != nil {
		return err.Error()
	}
	if id.IsNull(i) {
		return "the document has no _id, and a documents table's primary key is _id"
	}
	if n := len(id.Value(i)); n > maxIDBytes {
		return fmt.Sprintf("the _id is %d bytes of BSON, a documents table's _id column holds at most %d", n, maxIDBytes)
	}
	return ""
}

// documentValues renders a document for a reject line as the MongoDB
// importer's rejects do: canonical Extended JSON, exact for every BSON
// type; hex when it is no well-formed document.
func documentValues(doc bson.Raw) map[string]any {
	if js, err := bson.MarshalExtJSON(doc, true, false); err == nil {
		return map[string]any{mongotype.ColDoc: string(js)}
	}
	return map[string]any{mongotype.ColDoc: fmt.Sprintf("0x%x", []byte(doc))}
}
