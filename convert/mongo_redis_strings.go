package convert

import (
	"bytes"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/mongotype"
	"github.com/imbundle/imbundle/internal/redistype"
	"github.com/imbundle/imbundle/spec"
)

// The default mapping from a MongoDB collection to Redis and back (SPEC.md
// §11.8): one string per document, named <collection>:<_id as canonical
// Extended JSON>, whose value is the document's BSON bytes unchanged, and
// one schema key imbundle:collection:<collection> holding the
// collection's description (options and indexes). The way back reads
// each string as the document it is, byte for byte.

const (
	ruleCollectionToStrings = "mongodb-collection to redis-strings v1"
	ruleStringsToCollection = "redis-strings to mongodb-collection v1"
)

func collectionToStrings(ds *spec.Dataset, src *spec.Source) (*Conversion, error) {
	if ds.Object == "" {
		return nil, nil // no collection name to name its keys after
	}
	prefix := rowsPrefix(ds.Object)
	schemaKey := string(escapeKeyPart([]byte(SchemaKeyCollection), []byte(ds.Object)))
	c := &Conversion{Rule: ruleCollectionToStrings, Source: convertedSource(src, redisEngine),
		Dataset: &spec.Dataset{Name: ds.Name, Source: ds.Source, Kind: spec.KindKeyspace, Namespace: "0", Object: ds.Object,
			Columns: bundle.ColumnsOf(redistype.Schema),
			Options: map[string]string{"layout": redistype.LayoutName, OptRowsPrefix: string(prefix), OptSchemaKey: schemaKey},
			Rows:    ds.Rows, Parts: ds.Parts, Digest: ds.Digest},
		Notes: []string{
			fmt.Sprintf("a string per document, key %s<_id as canonical Extended JSON, \\ and : escaped by a \\>, the value the document's BSON bytes unchanged; into Redis database 0 unless --db-map moves it", prefix),
			fmt.Sprintf("the string %s holds the collection's description (options, indexes) for the way back; a document without _id is a reject", schemaKey),
			"a collection without documents writes its schema key only, so that the way back creates it empty",
		},
	}
	desc := describe(ds)
	if ds.Object == reservedObject {
		c.Refused = append(c.Refused, fmt.Sprintf("a collection named %s: its keys would share the prefix %s: of the schema keys; leave it out (--datasets, or skip: true in a mapping)", reservedObject, reservedObject))
	}
	c.records = func(in Records, part int, reject func(Reject) error) Records {
		b := redistype.NewBuilder(rowBatchBytes)
		var row int64
		if part == 0 { // before any row, so that a table without rows writes it too
			b.StringKey([]byte(schemaKey), desc, redistype.NoExpiry)
		}
		var k []byte
		return &flushing{in: in, b: b, row: func(rec arrow.RecordBatch) (func(int) error, error) {
			rows, err := mongotype.RowsOf(rec)
			if err != nil {
				return nil, err
			}
			return func(i int) error {
				row++
				id := rows.IDJSON(i)
				if id == "" {
					return reject(Reject{Row: row - 1, Reason: "the document has no _id, which its key is made of", Values: map[string]any{"doc": docJSON(rows.Doc(i))}})
				}
				k = escapeKeyPart(append(k[:0], prefix...), []byte(id))
				b.StringKey(k, rows.Doc(i), redistype.NoExpiry)
				return nil
			}, nil
		}}
	}
	schemaKeyOnly(c, ds)
	return c, nil
}

// stringsToCollections is the conversion of a keyspace that lists
// collections, or nil for one that lists none (it keeps §11.4).
func stringsToCollections(ds *spec.Dataset, src *spec.Source) *Conversion {
	keys, descs, errs := schemaKeysOf(ds, SchemaKeyCollection)
	if len(keys) == 0 {
		return nil
	}
	c := &Conversion{Rule: ruleStringsToCollection, Source: convertedSource(src, mongoEngine), Refused: errs}
	owners := &keyOwners{}
	owners.otherKind(ds, SchemaKeyTable)
	var listed []*description
	for i, d := range descs {
		if d == nil {
			continue
		}
		if want := string(escapeKeyPart([]byte(SchemaKeyCollection), []byte(d.Object))); want != keys[i] || d.Kind != spec.KindCollection || d.Object == reservedObject || mongotype.CheckColumns(d.Columns) != nil {
			c.Refused = append(c.Refused, fmt.Sprintf("schema key %q does not describe the collection %q in the layout of §9.2", keys[i], d.Object))
			continue
		}
		listed = append(listed, d)
		owners.add(rowsPrefix(d.Object))
	}
	if len(listed) == 0 {
		return c
	}
	for i, d := range listed {
		out := &Conversion{Rule: ruleStringsToCollection, Source: c.Source,
			Dataset: &spec.Dataset{Name: ds.Name + "/" + d.Object, Source: ds.Source, Kind: spec.KindCollection,
				Namespace: d.Namespace, Object: d.Object, Columns: d.Columns, PrimaryKey: d.PrimaryKey, Options: d.Options,
				Rows: ds.Rows, Parts: ds.Parts, Digest: ds.Digest},
			Notes: []string{fmt.Sprintf("collection %s with the options and indexes its schema key describes; a document per string %s..., byte for byte (a key that is not its document's _id, a malformed document: reject)", d.Object, owners.prefixes[i])},
		}
		if i == 0 {
			out.Notes = append(out.Notes, "a key of no listed collection is a reject naming it: import such a keyspace into Redis, or leave the key out")
		}
		out.records = documentsOfStrings(i, i == 0, owners)
		c.Split = append(c.Split, out)
	}
	c.Dataset = c.Split[0].Dataset
	c.Notes = []string{fmt.Sprintf("the keyspace lists %d collection(s): %d dataset(s) of the target", len(listed), len(listed))}
	return c
}

func documentsOfStrings(self int, owns bool, owners *keyOwners) func(in Records, part int, reject func(Reject) error) Records {
	return func(in Records, part int, reject func(Reject) error) Records {
		b := mongotype.NewBuilder(memory.DefaultAllocator)
		pending := 0
		var want []byte
		return &keyRuns{in: in,
			collect: func(key []byte, _ redistype.Type) bool { return owners.mineOnly(key, self) },
			ready: func(last bool) arrow.RecordBatch {
				if pending > 0 && (last || b.Bytes() >= rowBatchBytes) {
					pending = 0
					return b.NewRecord()
				}
				return nil
			},
			onKey: func(r *keyRun) error {
				take, why := owners.mine(r, self, owns, redistype.String, "collection")
				refuse := func(why string) error {
					v := map[string]any{}
					if len(r.fields) == 1 {
						v["value"] = fmt.Sprintf("%x", r.fields[0])
					}
					return reject(Reject{Row: r.row, Key: []string{string(r.key)}, Reason: why, Values: v})
				}
				if !take {
					if why != "" {
						return refuse(why)
					}
					return nil
				}
				doc := bson.Raw(r.fields[0])
				id, err := doc.LookupErr("_id")
				if err != nil || doc.Validate() != nil {
					return refuse(fmt.Sprintf("string %q is no BSON document with an _id", r.key))
				}
				js, err := mongotype.IDJSON(id)
				if err != nil {
					return refuse(fmt.Sprintf("string %q: _id %s: %v", r.key, id, err))
				}
				want = escapeKeyPart(append(want[:0], owners.prefixes[self]...), []byte(js))
				if !bytes.Equal(want, r.key) {
					return refuse(fmt.Sprintf("string %q holds the document whose key is %q", r.key, want))
				}
				if err := b.Append(doc); err != nil {
					return refuse(fmt.Sprintf("string %q: %v", r.key, err))
				}
				pending++
				return nil
			}}
	}
}
