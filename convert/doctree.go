package convert

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// docNode is one field of the documents a table becomes: a column's value
// (field >= 0), a computed value (comp >= 0), or a sub-document of nested
// fields. A mapping's dotted target names (rename: {city: address.city},
// compute: {meta.source: "'mysql'"}) nest; a column's own name never
// splits, so a column named "a.b" stays one field. Fields are in the order
// their first name part first appears.
type docNode struct {
	name  string
	field int
	comp  int
	kids  []*docNode
}

// buildDocTree places the fields (but the primary key's, which make _id)
// and the computed fields.
func buildDocTree(fields []tableField, ids []int, comp []computed) (*docNode, error) {
	root := &docNode{field: -1, comp: -1}
	for k, f := range fields {
		if isID(ids, k) {
			continue
		}
		if err := root.insert(f.path, k, -1); err != nil {
			return nil, err
		}
	}
	for j, c := range comp {
		if err := root.insert(strings.Split(c.name, "."), -1, j); err != nil {
			return nil, err
		}
	}
	return root, nil
}

func (n *docNode) insert(path []string, field, comp int) error {
	for _, p := range path {
		if p == "" {
			return fmt.Errorf("field %q has an empty name part", strings.Join(path, "."))
		}
	}
	at := n
	for depth, p := range path {
		var next *docNode
		for _, k := range at.kids {
			if k.name == p {
				next = k
			}
		}
		last := depth == len(path)-1
		switch {
		case next == nil:
			next = &docNode{name: p, field: -1, comp: -1}
			at.kids = append(at.kids, next)
		case last || next.field >= 0 || next.comp >= 0:
			return fmt.Errorf("two fields would be %s", strings.Join(path[:depth+1], "."))
		}
		at = next
	}
	at.field, at.comp = field, comp
	return nil
}

// emit appends the nodes' fields for row i.
func (d *docRecords) emit(doc []byte, nodes []*docNode, rec arrow.RecordBatch, i int, row int64) ([]byte, string) {
	var why string
	for _, n := range nodes {
		switch {
		case n.field >= 0:
			doc, why = d.t.fields[n.field].append(doc, n.name, rec, i)
		case n.comp >= 0:
			doc, why = d.t.comp[n.comp].append(doc, n.name, d.t.env, &d.vals, rec, i, row)
		default:
			var at int32
			at, doc = bsoncore.AppendDocumentElementStart(doc, n.name)
			if doc, why = d.emit(doc, n.kids, rec, i, row); why == "" {
				var err error
				if doc, err = bsoncore.AppendDocumentEnd(doc, at); err != nil {
					why = err.Error()
				}
			}
		}
		if why != "" {
			return nil, why
		}
	}
	return doc, ""
}
