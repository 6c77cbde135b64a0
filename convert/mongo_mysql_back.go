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
	"github.com/imbundle/imbundle/spec"
)

// A documents table (mongo_mysql.go) exported from MySQL goes back into
// MongoDB as the documents it holds, byte for byte (SPEC.md §11.2), not as
// one document per row with _id, _id_json and doc fields.

const ruleDocumentsToMongo = "mysql-documents-table to mongodb-collection v1"

// isDocumentsTable reports a table whose DDL carries the documents
// table's COMMENT among its table options (the line after the last
// column or key, so a column's comment does not count).
func isDocumentsTable(ds *spec.Dataset) bool {
	ddl := strings.TrimSpace(ds.DDL)
	last := ddl[strings.LastIndexByte(ddl, '\n')+1:]
	return strings.HasPrefix(last, ")") && strings.Contains(last, " COMMENT='"+documentsComment+"'")
}

// documentsShape says how a marked table differs from a documents table,
// or "".
func documentsShape(ds *spec.Dataset) string {
	want := documentsSchema()
	ok := len(ds.Columns) == want.NumFields() && len(ds.PrimaryKey) == 1 && ds.PrimaryKey[0] == mongotype.ColID
	for i := 0; ok && i < want.NumFields(); i++ {
		ok = ds.Columns[i].Name == want.Field(i).Name && bundle.SameValues(ds.Columns[i].Type, want.Field(i).Type.String())
	}
	if ok {
		return ""
	}
	var got []string
	for _, c := range ds.Columns {
		got = append(got, c.Name+" "+c.Type)
	}
	return fmt.Sprintf("the table is marked %s but its columns are (%s) with primary key (%s); a documents table has (_id large_binary, _id_json large_utf8, doc large_binary) with primary key (_id)",
		documentsComment, strings.Join(got, ", "), strings.Join(ds.PrimaryKey, ", "))
}

func documentsToMongo(ds *spec.Dataset, src *spec.Source) (*Conversion, error) {
	c := &Conversion{Rule: ruleDocumentsToMongo, Source: convertedSource(src, mongoEngine),
		Notes: []string{"each row's doc is the document, its bytes unchanged; a row whose doc is no well-formed BSON document or whose _id differs from the _id column is rejected"}}
	if why := documentsShape(ds); why != "" {
		c.Refused = append(c.Refused, why)
	}
	opts, err := mongotype.Collection{Type: "collection", Indexes: []bson.Raw{idIndexSpec()}}.ToOptions()
	if err != nil {
		return nil, err
	}
	c.Dataset = &spec.Dataset{Name: ds.Name, Source: ds.Source, Kind: spec.KindCollection, Namespace: ds.Namespace, Object: ds.Object,
		Columns: bundle.ColumnsOf(mongotype.Schema()), PrimaryKey: mongotype.PrimaryKey, Options: opts,
		Rows: ds.Rows, Parts: ds.Parts, Digest: ds.Digest}
	c.records = func(in Records, part int, reject func(Reject) error) Records {
		d := &documentRecords{reject: reject}
		return &batches{in: in, convert: d.convert}
	}
	return c, nil
}

// documentRecords turns a part's documents table rows back into
// collection records.
type documentRecords struct {
	reject func(Reject) error
	row    int64
}

func (d *documentRecords) convert(rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	// A documents table's rows have the collection layout's names and
	// types: they are read as collection rows, and checked as the MongoDB
	// importer checks those.
	rows, err := mongotype.RowsOf(rec)
	if err != nil {
		return nil, err
	}
	cols, err := bundle.VarLenColumns(rec, 0, 1)
	if err != nil {
		return nil, err
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, mongotype.Schema())
	defer b.Release()
	id, idj, doc := b.Field(0).(*array.BinaryBuilder), b.Field(1).(*array.LargeStringBuilder), b.Field(2).(*array.BinaryBuilder)
	for i := 0; i < rows.Len(); i++ {
		row := d.row
		d.row++
		if err := rows.Check(i); err != nil {
			rj := Reject{Row: row, Key: []string{bundle.KeyString(rec.Column(0), i)}, Reason: "row of a documents table: " + err.Error(), Values: rowValues(rec, i)}
			if err := d.reject(rj); err != nil {
				return nil, err
			}
			continue
		}
		id.Append(cols[0].Value(i))
		idj.BinaryBuilder.Append(cols[1].Value(i))
		doc.Append(rows.Doc(i))
	}
	return b.NewRecordBatch(), nil
}
