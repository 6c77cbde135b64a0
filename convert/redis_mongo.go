package convert

import (
	"fmt"
	"regexp"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/mongotype"
	"github.com/imbundle/imbundle/spec"
)

// The default mappings between a Redis database and a MongoDB collection
// (SPEC.md §11.4): a document per layout row, _id the row's ordinal, the
// fields the layout's columns with their names (a NULL column is no
// field), and back from a collection that carries the marker index.
func init() {
	RegisterMapped(redisEngine, mongoEngine, keysOr(keysToMongo, redisToMongo))
	RegisterMapped(mongoEngine, redisEngine, keysOr(KeysToRedis, mongoToRedis))
}

// maxDocument is MongoDB's BSON document limit.
const maxDocument = 16 << 20

func ruleRedisMongo(l *redisLayout) string { return l.word() + " to mongodb-collection v1" }
func ruleMongoRedis(l *redisLayout) string { return "mongodb-collection to " + l.word() + " v1" }

func redisToMongo(ds *spec.Dataset, src *spec.Source) (*Conversion, error) {
	l := layoutOfDataset(ds)
	if l == nil || emptyStreamState(ds, l) {
		return nil, nil
	}
	if l == keyspaceLayout {
		if c := stringsToCollections(ds, src); c != nil {
			return c, nil // collections kept in Redis go back as those collections (§11.8)
		}
	}
	// The marker index is on key: the field a person looks a key up by.
	marker := bson.Raw(bsoncore.NewDocumentBuilder().
		AppendDocument("key", bsoncore.NewDocumentBuilder().AppendInt32("key", 1).Build()).
		AppendString("name", l.marker()).Build())
	id := bson.Raw(bsoncore.NewDocumentBuilder().
		AppendDocument("key", bsoncore.NewDocumentBuilder().AppendInt32("_id", 1).Build()).
		AppendString("name", "_id_").Build())
	opts, err := mongotype.Collection{Type: "collection", Indexes: []bson.Raw{id, marker}}.ToOptions()
	if err != nil {
		return nil, err
	}
	c := &Conversion{Rule: ruleRedisMongo(l), Source: convertedSource(src, mongoEngine),
		Dataset: &spec.Dataset{Name: ds.Name, Source: ds.Source, Kind: spec.KindCollection,
			Namespace: ds.Namespace, Object: l.objectName(ds.Namespace),
			Columns: bundle.ColumnsOf(mongotype.Schema()), PrimaryKey: mongotype.PrimaryKey, Options: opts,
			Rows: ds.Rows, Parts: ds.Parts, Digest: ds.Digest},
		Notes: []string{
			"a document per layout row: _id the row's ordinal in the dataset (Int64, from 0), then the layout's columns as fields (a NULL column is no field)",
			"key, field, value and the names of groups and consumers: Binary (subtype 0); score: Double; integers: Int64",
			"expire_at_ms is a plain Int64: no TTL index is created (one would delete the documents)",
			"index " + l.marker() + " on key marks the collection for the way back",
		},
	}
	offsets := ordinals(ds)
	c.records = func(in Records, part int, reject func(Reject) error) Records {
		cols := make([]int, len(l.cols))
		for k := range cols {
			cols[k] = k
		}
		cells := make([]cell, len(l.cols))
		var row int64
		var doc []byte
		return &converting{in: in, fn: func(rec arrow.RecordBatch) (arrow.RecordBatch, error) {
			b := mongotype.NewBuilder(memory.DefaultAllocator)
			defer b.Release()
			for i := 0; i < int(rec.NumRows()); i++ {
				ord := offsets[part] + row
				row++
				if err := readCells(rec, cols, i, cells); err != nil {
					return nil, err
				}
				doc = layoutDocument(doc[:0], l, ord, cells)
				if len(doc) > maxDocument {
					rj := Reject{Row: row - 1, Key: []string{bundle.KeyString(rec.Column(0), i)}, Values: rowValues(rec, i),
						Reason: fmt.Sprintf("the row makes a document of %d bytes, over MongoDB's 16 MiB", len(doc))}
					if err := reject(rj); err != nil {
						return nil, err
					}
					continue
				}
				if err := b.Append(doc); err != nil {
					return nil, fmt.Errorf("row %d: %w", row-1, err)
				}
			}
			return b.NewRecord(), nil
		}}
	}
	return c, nil
}

// layoutDocument appends the document of one layout row to dst.
func layoutDocument(dst []byte, l *redisLayout, ord int64, cells []cell) []byte {
	idx, doc := bsoncore.ReserveLength(dst)
	doc = bsoncore.AppendInt64Element(doc, "_id", ord)
	for k, col := range l.cols {
		c := cells[k]
		if c.null {
			continue
		}
		switch col.kind {
		case cellBytes:
			doc = bsoncore.AppendBinaryElement(doc, col.name, 0, c.b)
		case cellText:
			doc = bsoncore.AppendStringElement(doc, col.name, string(c.b))
		case cellFloat:
			doc = bsoncore.AppendDoubleElement(doc, col.name, c.f)
		case cellInt:
			doc = bsoncore.AppendInt64Element(doc, col.name, c.i)
		}
	}
	doc = append(doc, 0)
	return bsoncore.UpdateLength(doc, idx, int32(len(doc)-int(idx)))
}

// markedLayout returns the layout whose marker index a collection has.
func markedLayout(ds *spec.Dataset) (*redisLayout, error) {
	info, err := mongotype.CollectionFromOptions(ds.Options)
	if err != nil {
		return nil, err
	}
	for _, ix := range info.Indexes {
		name := mongotype.IndexName(ix)
		for _, l := range redisLayouts {
			if name == l.marker() {
				return l, nil
			}
		}
	}
	return nil, nil
}

func mongoToRedis(ds *spec.Dataset, src *spec.Source) (*Conversion, error) {
	if ds.Kind != spec.KindCollection || mongotype.CheckColumns(ds.Columns) != nil {
		return nil, nil
	}
	l, err := markedLayout(ds)
	if err != nil {
		return nil, err
	}
	if l == nil {
		// Any other collection goes to Redis as a string per document (§11.8).
		return collectionToStrings(ds, src)
	}
	c := &Conversion{Rule: ruleMongoRedis(l), Source: convertedSource(src, redisEngine), Dataset: redisDataset(ds, l),
		Notes: []string{fmt.Sprintf("the collection carries index %s: each document is a row of the %s layout, in _id order, into Redis database %s", l.marker(), l.name, l.dbOfName(ds.Object))}}
	if err := orderedParts(ds, longJSON); err != nil {
		c.Refused = append(c.Refused, fmt.Sprintf("the documents must be read in _id order, the order the conversion wrote them (%v): export the collection with --param sort=_id", err))
	}
	byName := map[string]int{}
	for k, col := range l.cols {
		byName[col.name] = k
	}
	c.records = func(in Records, part int, reject func(Reject) error) Records {
		cells := make([]cell, len(l.cols))
		var order ordinalOrder
		var row int64
		return &converting{in: in, fn: func(rec arrow.RecordBatch) (arrow.RecordBatch, error) {
			rows, err := mongotype.RowsOf(rec)
			if err != nil {
				return nil, err
			}
			out := newRedisRecord(l)
			defer out.rb.Release()
			for i := 0; i < rows.Len(); i++ {
				row++
				ord, why := documentCells(rows.Doc(i), l, byName, cells)
				if why == "" {
					if err := order.next(ord); err != nil {
						return nil, fmt.Errorf("document _id %s: %w; export the collection with --param sort=_id", rows.IDJSON(i), err)
					}
					out.append(cells)
				} else {
					rj := Reject{Row: row - 1, Key: []string{rows.IDJSON(i)}, Reason: why,
						Values: map[string]any{mongotype.ColDoc: docJSON(rows.Doc(i))}}
					if err := reject(rj); err != nil {
						return nil, err
					}
				}
			}
			return out.rb.NewRecordBatch(), nil
		}}
	}
	return c, nil
}

// documentCells reads a document the forward rule wrote back into layout
// cells, or says why it is not one: a field of another name or BSON type
// than the layout's, a missing column that is never NULL.
func documentCells(doc bson.Raw, l *redisLayout, byName map[string]int, cells []cell) (int64, string) {
	for k := range cells {
		cells[k] = cell{null: true}
	}
	elems, err := doc.Elements()
	if err != nil {
		return 0, err.Error()
	}
	var ord int64
	haveID := false
	for _, e := range elems {
		name, v := e.Key(), e.Value()
		if name == "_id" {
			if v.Type != bson.TypeInt64 {
				return 0, fmt.Sprintf("_id is %s, the conversion writes an Int64 ordinal", v.Type)
			}
			ord, haveID = v.Int64(), true
			continue
		}
		k, ok := byName[name]
		if !ok {
			return 0, fmt.Sprintf("field %q is not a column of the %s layout", name, l.name)
		}
		if v.Type == bson.TypeNull {
			continue
		}
		col := l.cols[k]
		switch {
		case col.kind == cellBytes && v.Type == bson.TypeBinary:
			st, b := v.Binary()
			if st != 0 {
				return 0, fmt.Sprintf("field %s is Binary of subtype %d, the layout's bytes are subtype 0", name, st)
			}
			cells[k] = cell{b: b}
		case col.kind == cellText && v.Type == bson.TypeString:
			cells[k] = cell{b: []byte(v.StringValue())}
		case col.kind == cellFloat && v.Type == bson.TypeDouble:
			cells[k] = cell{f: v.Double()}
		case col.kind == cellInt && v.Type == bson.TypeInt64:
			cells[k] = cell{i: v.Int64()}
		case col.kind == cellInt && v.Type == bson.TypeInt32:
			cells[k] = cell{i: int64(v.Int32())}
		default:
			return 0, fmt.Sprintf("field %s is %s, which is no %s value of the layout", name, v.Type, kindName(col.kind))
		}
	}
	if !haveID {
		return 0, "the document has no _id"
	}
	for k, col := range l.cols {
		if !col.nullable && cells[k].null {
			return 0, fmt.Sprintf("field %s is missing, the layout has it on every row", col.name)
		}
	}
	return ord, ""
}

func kindName(k cellKind) string {
	return [...]string{cellBytes: "Binary", cellText: "String", cellFloat: "Double", cellInt: "Int64"}[k]
}

func docJSON(doc bson.Raw) string {
	js, err := bson.MarshalExtJSON(doc, true, false)
	if err != nil {
		return fmt.Sprintf("%x", []byte(doc))
	}
	return string(js)
}

var numberLong = regexp.MustCompile(`^\{"\$numberLong":"(-?[0-9]+)"\}$`)

// longJSON reads an Int64 _id as canonical Extended JSON renders it.
func longJSON(s string) (int64, bool) {
	m := numberLong.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	return n, err == nil
}
