package mongotype

import (
	"encoding/binary"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/bundle"
)

// Builder accumulates documents into a collection record batch.
type Builder struct {
	b     *array.RecordBuilder
	id    *array.BinaryBuilder
	idj   *array.BinaryBuilder // the large_utf8 column's bytes
	doc   *array.BinaryBuilder
	bytes int64
}

// NewBuilder returns an empty builder; Release it when done.
func NewBuilder(mem memory.Allocator) *Builder {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	b := array.NewRecordBuilder(mem, Schema())
	return &Builder{
		b:   b,
		id:  b.Field(0).(*array.BinaryBuilder),
		idj: b.Field(1).(*array.LargeStringBuilder).BinaryBuilder,
		doc: b.Field(2).(*array.BinaryBuilder),
	}
}

// Append adds one document. The bytes are copied, so doc may be a cursor's
// buffer that the next read overwrites. A document without _id (possible in
// time-series and some legacy collections) gets NULL key columns.
func (b *Builder) Append(doc bson.Raw) error {
	if err := checkDocument(doc); err != nil {
		return err
	}
	id, err := doc.LookupErr("_id")
	switch {
	case err == nil:
		enc := EncodeID(id)
		js, jerr := IDJSON(id)
		if jerr != nil {
			return fmt.Errorf("document with _id %s: %w", id, jerr)
		}
		b.id.Append(enc)
		b.idj.AppendString(js)
		b.bytes += int64(len(enc) + len(js))
	default:
		b.id.AppendNull()
		b.idj.AppendNull()
	}
	b.doc.Append(doc)
	b.bytes += int64(len(doc))
	return nil
}

// Len is the number of documents appended since the last NewRecord.
func (b *Builder) Len() int { return b.doc.Len() }

// Bytes is the approximate size of the pending rows.
func (b *Builder) Bytes() int64 { return b.bytes }

// NewRecord returns the pending rows as a record batch and resets the
// builder.
func (b *Builder) NewRecord() arrow.RecordBatch {
	b.bytes = 0
	return b.b.NewRecordBatch()
}

// Release frees the builder's buffers.
func (b *Builder) Release() { b.b.Release() }

// EncodeID is the _id column's bytes: the BSON type byte, then the value's
// bytes as they appear in the document. Two _ids are the same BSON value
// exactly when these bytes are equal.
func EncodeID(v bson.RawValue) []byte {
	out := make([]byte, 0, 1+len(v.Value))
	out = append(out, byte(v.Type))
	return append(out, v.Value...)
}

// DecodeID turns _id column bytes back into a BSON value.
func DecodeID(b []byte) (bson.RawValue, error) {
	if len(b) < 1 || !bson.Type(b[0]).IsValid() {
		return bson.RawValue{}, fmt.Errorf("_id bytes %x do not start with a BSON type", b)
	}
	return bson.RawValue{Type: bson.Type(b[0]), Value: b[1:]}, nil
}

// IDJSON renders an _id value as canonical Extended JSON v2 (for example
// {"$oid":"..."} or {"$numberLong":"7"}): type-tagged, so values of
// different BSON types never render alike.
func IDJSON(v bson.RawValue) (string, error) {
	// Wrap the value in a one-field document: the driver renders documents.
	doc := make([]byte, 4, 4+1+4+len(v.Value)+1)
	doc = append(doc, byte(v.Type), '_', 'i', 'd', 0)
	doc = append(doc, v.Value...)
	doc = append(doc, 0)
	binary.LittleEndian.PutUint32(doc, uint32(len(doc)))
	js, err := bson.MarshalExtJSON(bson.Raw(doc), true, false)
	if err != nil {
		return "", err
	}
	// {"_id":VALUE}
	const pre = `{"_id":`
	if len(js) < len(pre)+1 || string(js[:len(pre)]) != pre {
		return "", fmt.Errorf("unexpected Extended JSON rendering %q", js)
	}
	return string(js[len(pre) : len(js)-1]), nil
}

// checkDocument validates doc's framing (length prefix, terminator and
// every element's bounds), so a truncated document is caught where it is
// read or loaded, with its position, rather than by the server.
func checkDocument(doc bson.Raw) error {
	if len(doc) < 5 || int(binary.LittleEndian.Uint32(doc)) != len(doc) {
		return fmt.Errorf("malformed BSON document: %d bytes but its length prefix disagrees", len(doc))
	}
	if err := doc.Validate(); err != nil {
		return fmt.Errorf("malformed BSON document (%d bytes): %w", len(doc), err)
	}
	return nil
}

// Rows gives access to the documents of a collection record batch.
type Rows struct {
	id, idj, doc bundle.VarLen
}

// RowsOf checks rec's layout and returns its documents.
func RowsOf(rec arrow.RecordBatch) (*Rows, error) {
	if err := checkRecordSchema(rec.Schema()); err != nil {
		return nil, err
	}
	c, err := bundle.VarLenColumns(rec, 0, 1, 2)
	if err != nil {
		return nil, err
	}
	return &Rows{id: c[0], idj: c[1], doc: c[2]}, nil
}

// Len is the number of documents.
func (r *Rows) Len() int { return r.doc.Len() }

// Doc returns document i, its bytes shared with the record batch.
func (r *Rows) Doc(i int) bson.Raw { return bson.Raw(r.doc.Value(i)) }

// IDJSON returns the readable _id of document i ("" if it has none).
func (r *Rows) IDJSON(i int) string {
	if r.idj.IsNull(i) {
		return ""
	}
	return string(r.idj.Value(i))
}

// Check proves row i consistent: a well-formed document whose _id is the
// key column's value. The content digest already covers the bytes; this
// catches a bundle written by a faulty producer before a server sees it.
func (r *Rows) Check(i int) error {
	doc := r.Doc(i)
	if err := checkDocument(doc); err != nil {
		return err
	}
	id, err := doc.LookupErr("_id")
	if err != nil {
		if !r.id.IsNull(i) {
			return fmt.Errorf("document has no _id but the _id column holds %x", r.id.Value(i))
		}
		return nil
	}
	if r.id.IsNull(i) {
		return fmt.Errorf("document has _id %s but the _id column is NULL", id)
	}
	want := r.id.Value(i)
	if len(want) != 1+len(id.Value) || want[0] != byte(id.Type) || string(want[1:]) != string(id.Value) {
		return fmt.Errorf("document's _id %s differs from the _id column %x", id, want)
	}
	return nil
}

// ID returns the _id value of document i, and false if it has none.
func (r *Rows) ID(i int) (bson.RawValue, bool) {
	if r.id.IsNull(i) {
		return bson.RawValue{}, false
	}
	v, err := DecodeID(r.id.Value(i))
	return v, err == nil
}
