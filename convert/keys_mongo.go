package convert

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/mongotype"
	"github.com/imbundle/imbundle/spec"
)

// keysToMongo is rule redis-keys to mongodb-collection v1 (SPEC.md §11.9):
// a document per record, in a collection with the _id_ index only.
func keysToMongo(ds *spec.Dataset, src *spec.Source, d *DatasetRule) (*Conversion, error) {
	if len(d.more) > 0 {
		return keysOutputs(ds, src, d)
	}
	return keysToMongoOne(ds, src, d)
}

func keysToMongoOne(ds *spec.Dataset, src *spec.Source, d *DatasetRule) (*Conversion, error) {
	c, m, kr := keysRule(ds, src, d, ruleKeysMongo, mongoEngine)
	id := bson.Raw(bsoncore.NewDocumentBuilder().
		AppendDocument("key", bsoncore.NewDocumentBuilder().AppendInt32("_id", 1).Build()).
		AppendString("name", "_id_").Build())
	c.takesIndexes = true
	declared, notes, refused := declaredIndexes(d, func(f string) bool { return f == "_id" || contains(m.fields, f) }, []bson.Raw{id})
	c.Notes = append(c.Notes, notes...)
	c.Refused = append(c.Refused, refused...)
	opts, err := mongotype.Collection{Type: "collection", Indexes: append([]bson.Raw{id}, declared...)}.ToOptions()
	if err != nil {
		return nil, err
	}
	c.Dataset = &spec.Dataset{Name: ds.Name, Source: ds.Source, Kind: spec.KindCollection,
		Namespace: ds.Namespace, Object: keyspaceLayout.objectName(ds.Namespace),
		Columns: bundle.ColumnsOf(mongotype.Schema()), PrimaryKey: mongotype.PrimaryKey, Options: opts,
		Rows: ds.Rows, Parts: wholeParts(ds, c.Whole), Digest: ds.Digest}
	if len(m.merge) > 0 {
		c.Notes = append(c.Notes, fmt.Sprintf("_id is the merge_by capture (a document of them for several), which stay fields too; fields in the order %v, a field no key gave is absent", m.fields))
	} else {
		c.Notes = append(c.Notes, fmt.Sprintf("_id is the key's name (String); fields in the order %v", m.fields))
	}
	c.records = recordsOf(c, m, kr, func() recordSink { return &mongoSink{m: m} })
	return c, nil
}

// mongoSink makes one document per record: _id, then the fields set, in
// the map's order.
type mongoSink struct {
	m   *keysMap
	b   *mongotype.Builder
	doc []byte
}

func (s *mongoSink) add(r *record) string {
	if s.b == nil {
		s.b = mongotype.NewBuilder(memory.DefaultAllocator)
	}
	idx, doc := bsoncore.ReserveLength(s.doc[:0])
	switch {
	case len(s.m.merge) == 0:
		doc = bsoncore.AppendStringElement(doc, "_id", string(r.keys[0]))
	case len(s.m.merge) == 1:
		v := r.vals[s.m.merge[0]]
		doc = bsoncore.AppendHeader(doc, bsoncore.Type(v.Type), "_id")
		doc = append(doc, v.Value...)
	default:
		sub, sd := bsoncore.ReserveLength(nil)
		for _, f := range s.m.merge {
			sd = bsoncore.AppendHeader(sd, bsoncore.Type(r.vals[f].Type), s.m.fields[f])
			sd = append(sd, r.vals[f].Value...)
		}
		sd = append(sd, 0)
		doc = bsoncore.AppendDocumentElement(doc, "_id", bsoncore.UpdateLength(sd, sub, int32(len(sd)-int(sub))))
	}
	for f, name := range s.m.fields {
		if !r.set[f] {
			continue
		}
		doc = bsoncore.AppendHeader(doc, bsoncore.Type(r.vals[f].Type), name)
		doc = append(doc, r.vals[f].Value...)
	}
	doc = append(doc, 0)
	doc = bsoncore.UpdateLength(doc, idx, int32(len(doc)-int(idx)))
	s.doc = doc
	if len(doc) > maxDocument {
		return fmt.Sprintf("the record makes a document of %d bytes, over MongoDB's 16 MiB", len(doc))
	}
	if err := s.b.Append(doc); err != nil {
		return err.Error()
	}
	return ""
}

func (s *mongoSink) len() int {
	if s.b == nil {
		return 0
	}
	return s.b.Len()
}

func (s *mongoSink) bytes() int64 {
	if s.b == nil {
		return 0
	}
	return s.b.Bytes()
}

func (s *mongoSink) flush() arrow.RecordBatch { return s.b.NewRecord() }

func (s *mongoSink) release() {
	if s.b != nil {
		s.b.Release()
		s.b = nil
	}
}
