package extract

import (
	"bytes"
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

// docJSON is document i of a doc column as canonical Extended JSON v2:
// every BSON type tagged ({"$numberLong":"7"}, {"$numberDecimal":"1.10"},
// {"$binary":…}). The text is parsed back and compared with the bytes:
// the driver writes a string that is not valid UTF-8 with U+FFFD, which
// would change the value, so such a document is an error naming its _id.
func docJSON(docs, ids arrow.Array, i int) ([]byte, error) {
	raw := docs.(*array.LargeBinary).Value(i)
	js, err := bson.MarshalExtJSON(bson.Raw(raw), true, false)
	var back bson.Raw
	if err == nil {
		err = bson.UnmarshalExtJSON(js, true, &back)
	}
	if err == nil && !bytes.Equal(back, raw) {
		err = fmt.Errorf("its Extended JSON does not read back as the same BSON (a string that is not valid UTF-8?)")
	}
	if err != nil {
		id := "without _id"
		if ids.IsValid(i) {
			id = "_id " + ids.(*array.LargeString).Value(i)
		}
		return nil, fmt.Errorf("document %s has no exact canonical Extended JSON form: %w; its BSON is in the bundle's part (SPEC.md Appendix A)", id, err)
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
		case idColumn:
		default:
			// Written as the document alone, another column would be
			// left out unseen.
			return 0, 0, fmt.Errorf("a collection dataset has the columns _id, _id_json and doc (SPEC.md §9.2); this one also has %s", f.Name)
		}
	}
	if doc < 0 || idJSON < 0 {
		return 0, 0, fmt.Errorf("a collection dataset has columns %s and %s (SPEC.md §9.2); this one has %v", idJSONColumn, docColumn, s)
	}
	if _, ok := s.Field(doc).Type.(*arrow.LargeBinaryType); !ok {
		return 0, 0, fmt.Errorf("column %s is %s, want large_binary", docColumn, s.Field(doc).Type)
	}
	if _, ok := s.Field(idJSON).Type.(*arrow.LargeStringType); !ok {
		return 0, 0, fmt.Errorf("column %s is %s, want large_utf8", idJSONColumn, s.Field(idJSON).Type)
	}
	return doc, idJSON, nil
}
