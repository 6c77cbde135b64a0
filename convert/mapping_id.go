package convert

import (
	"crypto/sha256"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/imbundle/imbundle/spec"
)

// A mapping entry's id: objectid (SPEC.md §11.6) is for applications whose
// collections keep their own ObjectId _id and the old primary key as
// ordinary fields (OpenIM 3.5+'s user {_id: ObjectId, user_id, ...}). The
// ObjectId is derived from the key rather than drawn, so that the same row
// gets the same _id on every run: a resumed import does not write a row
// twice and verify --against compares digests that do not move.

// objectID appends _id: the first 12 bytes of the SHA-256 of the _id
// element §11.1's rule would make of the row's key (type byte, the name
// _id, the value: the key's value, or the document of a composite key's
// columns), so that keys of other types or columns never share one.
func (d *docRecords) objectID(doc []byte, rec arrow.RecordBatch, i int, row int64) ([]byte, string) {
	el, why := d.appendKeyID(d.idBuf[:0], rec, i, 0)
	if why != "" {
		return nil, why
	}
	d.idBuf = el
	sum := sha256.Sum256(el)
	if d.t.union != "" {
		sum = unionSum(d.t.union, el)
	}
	if d.t.members != nil {
		sum = unionSum(d.t.members.at(d.part, row), el)
	}
	var oid bson.ObjectID
	copy(oid[:], sum[:12])
	return bsoncore.AppendObjectIDElement(doc, "_id", oid), ""
}

// objectIDNote says what _id is, and refuses id: objectid on a table
// without a primary key (no key to derive it from).
func objectIDNote(d *DatasetRule, ds *spec.Dataset, c *Conversion) string {
	if len(ds.PrimaryKey) == 0 {
		c.Refused = append(c.Refused, fmt.Sprintf("%s: id: objectid derives _id from the primary key, and %s has none", d.position("id"), ds.Name))
	}
	if len(ds.Members) > 0 {
		if d.routes() {
			c.Refused = append(c.Refused, fmt.Sprintf("%s: id: objectid of a logical dataset derives _id from each row's member table, which a route's outputs do not know", d.position("id")))
		}
		return fmt.Sprintf("_id is an ObjectId derived from the name of the member table each row was read from and the primary key %s (SHA-256 of that table's dataset name, a 0 byte and the key's _id element of §11.1, first 12 bytes: the _id a union of the member tables gives), whose columns stay fields (%s)", strings.Join(ds.PrimaryKey, ", "), d.position("id"))
	}
	if d.Unites() {
		return fmt.Sprintf("_id is an ObjectId derived from the dataset's name and the primary key %s (SHA-256 of %s, a 0 byte and the key's _id element of §11.1, first 12 bytes; union), whose columns stay fields (%s)", strings.Join(ds.PrimaryKey, ", "), ds.Name, d.position("id"))
	}
	return fmt.Sprintf("_id is an ObjectId derived from the primary key %s (SHA-256 of the key's _id element of §11.1, first 12 bytes), whose columns stay fields (%s)", strings.Join(ds.PrimaryKey, ", "), d.position("id"))
}

// has reports whether the tree has a field at the dotted name.
func (n *docNode) has(name string) bool {
	if name == "_id" {
		return true
	}
	at := n
	for _, p := range strings.Split(name, ".") {
		var next *docNode
		for _, k := range at.kids {
			if k.name == p {
				next = k
			}
		}
		if next == nil {
			return false
		}
		at = next
	}
	return true
}
