package extract

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// The columns of a MongoDB collection dataset (SPEC.md §9.2).
const (
	docColumn    = "doc"
	idColumn     = "_id"
	idJSONColumn = "_id_json"
)

// docJSON is document i of the doc column as canonical Extended JSON v2:
// every BSON type tagged ({"$numberLong":"7"}, {"$numberDecimal":"1.10"},
// {"$binary":…}), so that the line reads back into the same BSON.
func docJSON(rec arrow.RecordBatch, col, i int) ([]byte, error) {
	raw := rec.Column(col).(*array.LargeBinary).Value(i)
	js, err := bson.MarshalExtJSON(bson.Raw(raw), true, false)
	if err != nil {
		return nil, fmt.Errorf("document %d: no Extended JSON form: %w", i, err)
	}
	return js, nil
}

// docColumns finds the doc column and the columns written beside it in
// CSV and Parquet: _id_json (the _id's canonical Extended JSON); the
// binary _id is left out, as _id_json says the same.
func docColumns(s *arrow.Schema) (doc, idJSON int, err error) {
	doc, idJSON = -1, -1
	for i, f := range s.Fields() {
		switch f.Name {
		case docColumn:
			doc = i
		case idJSONColumn:
			idJSON = i
		}
	}
	if doc < 0 || idJSON < 0 {
		return 0, 0, fmt.Errorf("a collection dataset has columns %s and %s (SPEC.md §9.2); this one has %v", idJSONColumn, docColumn, s)
	}
	if _, ok := s.Field(doc).Type.(*arrow.LargeBinaryType); !ok {
		return 0, 0, fmt.Errorf("column %s is %s, want large_binary", docColumn, s.Field(doc).Type)
	}
	return doc, idJSON, nil
}

// bson2json is the canonical Extended JSON of document j of a doc column.
func bson2json(arr arrow.Array, j int) ([]byte, error) {
	js, err := bson.MarshalExtJSON(bson.Raw(arr.(*array.LargeBinary).Value(j)), true, false)
	if err != nil {
		return nil, fmt.Errorf("document %d: no Extended JSON form: %w", j, err)
	}
	return js, nil
}
