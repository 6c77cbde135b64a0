package convert

import (
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestFinallyDocuments: finally documents are read as canonical Extended
// JSON in their field order; one without _id gets an ObjectId derived
// from its target and bytes, first, the same on every read; one with an
// _id keeps it; mistakes are errors at their lines.
func TestFinallyDocuments(t *testing.T) {
	const file = `version: 1
datasets: []
finally:
  - target: dataver
    documents: ['{"key": "data_version", "value": "35"}', '{"_id": 7, "n": {"$numberLong": "2"}}']
  - target: other.data_version
    documents: ['{"key": "seq", "value": "38"}']
`
	m, err := ParseMapping("m.yaml", []byte(file))
	if err != nil {
		t.Fatal(err)
	}
	f := m.Final()
	if len(f) != 2 || f[0].Namespace != "" || f[0].Collection != "dataver" || f[1].Namespace != "other" || f[1].Collection != "data_version" || len(f[0].Docs) != 2 {
		t.Fatalf("final %+v", f)
	}
	d := f[0].Docs[0]
	elems, _ := d.Elements()
	if len(elems) != 3 || elems[0].Key() != "_id" || elems[0].Value().Type != bson.TypeObjectID || elems[1].Key() != "key" || elems[2].Value().StringValue() != "35" {
		t.Errorf("marker %s: want _id (ObjectId), key, value", d)
	}
	again, _ := ParseMapping("m.yaml", []byte(file))
	if !SameDocument(d, again.Final()[0].Docs[0]) {
		t.Errorf("the derived _id moves: %s, then %s", d, again.Final()[0].Docs[0])
	}
	if id := f[0].Docs[1].Lookup("_id"); id.Type != bson.TypeInt32 || f[0].Docs[1].Lookup("n").Type != bson.TypeInt64 {
		t.Errorf("document with its own _id: %s", f[0].Docs[1])
	}
	for _, c := range []struct{ yaml, want string }{
		{"  - documents: ['{}']\n", "m.yaml:4:14: finally documents need a target"},
		{"  - target: .x\n    documents: ['{}']\n", "need a target"},
		{"  - target: x\n", "m.yaml:4:11: finally documents for x: none given"},
		{"  - target: x\n    documents: ['{\"a\": ']\n", "m.yaml:5:17: not a document in canonical Extended JSON"},
		{"  - target: x\n    documents: ['{\"a\": 1}', '{\"a\": 1}']\n", "m.yaml:5:29: the document at m.yaml:5:17 has the same _id"},
		{"  - target: x\n    document: ['{}']\n", "unknown field \"document\""},
	} {
		_, err := ParseMapping("m.yaml", []byte("version: 1\ndatasets: []\nfinally:\n"+c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.yaml, err, c.want)
		}
	}
}
