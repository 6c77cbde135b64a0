package redistype

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// rowOverhead approximates the fixed bytes a row costs in the record's
// buffers: five 8-byte offsets (key, type, field, value, stream_id are
// large_binary/large_utf8), five 8-byte numbers, validity bits.
const rowOverhead = 88

// Builder appends keyspace rows and cuts record batches of about Target
// bytes. It is not safe for concurrent use.
type Builder struct {
	Target  int64 // bytes per record batch; flushes happen at key or element boundaries
	MaxRows int   // rows per record batch, 0 = no limit

	rb       *array.RecordBuilder
	key      *array.BinaryBuilder
	typ      *array.BinaryBuilder // large_utf8 columns' bytes
	field    *array.BinaryBuilder
	value    *array.BinaryBuilder
	score    *array.Float64Builder
	index    *array.Int64Builder
	streamID *array.BinaryBuilder
	elements *array.Int64Builder
	expire   *array.Int64Builder
	seq      *array.Int64Builder
	fieldExp *array.Int64Builder // field_expire_at_ms; nil in the ten-column layout

	bytes int64
	rows  int
	// Data bytes of the binary columns in the current batch, to reserve
	// the next batch's buffers at once instead of growing them by doubling.
	keyBytes, fieldBytes, valueBytes int
}

// NewBuilder returns a builder cutting batches at target bytes, in the
// ten-column layout (Schema).
func NewBuilder(target int64) *Builder { return newBuilder(target, Schema) }

func newBuilder(target int64, schema *arrow.Schema) *Builder {
	rb := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	b := &Builder{
		Target:   target,
		rb:       rb,
		key:      rb.Field(ColKey).(*array.BinaryBuilder),
		typ:      rb.Field(ColType).(*array.LargeStringBuilder).BinaryBuilder,
		field:    rb.Field(ColField).(*array.BinaryBuilder),
		value:    rb.Field(ColValue).(*array.BinaryBuilder),
		score:    rb.Field(ColScore).(*array.Float64Builder),
		index:    rb.Field(ColIndex).(*array.Int64Builder),
		streamID: rb.Field(ColStreamID).(*array.LargeStringBuilder).BinaryBuilder,
		elements: rb.Field(ColElements).(*array.Int64Builder),
		expire:   rb.Field(ColExpireAt).(*array.Int64Builder),
		seq:      rb.Field(ColSeq).(*array.Int64Builder),
	}
	if schema.NumFields() == NumColsFieldTTL {
		b.fieldExp = rb.Field(ColFieldExpireAt).(*array.Int64Builder)
	}
	return b
}

// Rows is the number of rows not yet flushed.
func (b *Builder) Rows() int { return b.rows }

// Full reports whether the pending rows have reached Target bytes.
func (b *Builder) Full() bool {
	return b.bytes >= b.Target || (b.MaxRows > 0 && b.rows >= b.MaxRows)
}

// Flush returns the pending rows as a record batch (nil when there are
// none). The caller releases it.
func (b *Builder) Flush() arrow.RecordBatch {
	if b.rows == 0 {
		return nil
	}
	rows, kb, fb, vb := b.rows, b.keyBytes, b.fieldBytes, b.valueBytes
	b.bytes, b.rows, b.keyBytes, b.fieldBytes, b.valueBytes = 0, 0, 0, 0, 0
	rec := b.rb.NewRecordBatch()
	b.rb.Reserve(rows)
	b.key.ReserveData(kb)
	b.field.ReserveData(fb)
	b.value.ReserveData(vb)
	return rec
}

// Release frees the builder's memory.
func (b *Builder) Release() { b.rb.Release() }

func (b *Builder) common(key []byte, t Type, exp, seq int64) {
	b.commonExpiring(key, t, exp, NoExpiry, seq)
}

// commonExpiring appends the columns every row has; fieldExp is a hash
// field's own expiry (field_expire_at_ms, when the layout has it).
func (b *Builder) commonExpiring(key []byte, t Type, exp, fieldExp, seq int64) {
	if b.fieldExp != nil {
		if fieldExp == NoExpiry {
			b.fieldExp.AppendNull()
		} else {
			b.fieldExp.Append(fieldExp)
		}
	}
	b.key.Append(key)
	b.typ.AppendString(string(t))
	if exp == NoExpiry {
		b.expire.AppendNull()
	} else {
		b.expire.Append(exp)
	}
	b.seq.Append(seq)
	b.rows++
	b.bytes += int64(len(key)) + rowOverhead
	b.keyBytes += len(key)
}

// StringKey appends the only row of a string key.
func (b *Builder) StringKey(key, value []byte, exp int64) {
	b.common(key, String, exp, 0)
	b.field.AppendNull()
	b.value.Append(value)
	b.score.AppendNull()
	b.index.AppendNull()
	b.streamID.AppendNull()
	b.elements.Append(0)
	b.bytes += int64(len(value))
	b.valueBytes += len(value)
}

// KeyRow appends the row closing a non-string key: elements is the number
// of element rows before it, lastID a stream's last generated ID ("" for
// other types).
func (b *Builder) KeyRow(key []byte, t Type, elements int64, lastID string, exp int64) {
	b.common(key, t, exp, elements)
	b.field.AppendNull()
	b.value.AppendNull()
	b.score.AppendNull()
	b.index.AppendNull()
	if t == Stream {
		b.streamID.AppendString(lastID)
	} else {
		b.streamID.AppendNull()
	}
	b.elements.Append(elements)
}

// HashField appends a hash field.
func (b *Builder) HashField(key, field, value []byte, exp, seq int64) {
	b.HashFieldExpiring(key, field, value, exp, NoExpiry, seq)
}

// HashFieldExpiring appends a hash field with its own absolute expiry
// fieldExp (Unix ms, or NoExpiry). Only a builder of SchemaFieldTTL has
// the column to keep it in; callers pass one only to such a builder.
func (b *Builder) HashFieldExpiring(key, field, value []byte, exp, fieldExp, seq int64) {
	b.commonExpiring(key, Hash, exp, fieldExp, seq)
	b.field.Append(field)
	b.value.Append(value)
	b.score.AppendNull()
	b.index.AppendNull()
	b.streamID.AppendNull()
	b.elements.AppendNull()
	b.bytes += int64(len(field) + len(value))
	b.fieldBytes += len(field)
	b.valueBytes += len(value)
}

// SetMember appends a set member.
func (b *Builder) SetMember(key, member []byte, exp, seq int64) {
	b.common(key, Set, exp, seq)
	b.field.Append(member)
	b.value.AppendNull()
	b.score.AppendNull()
	b.index.AppendNull()
	b.streamID.AppendNull()
	b.elements.AppendNull()
	b.bytes += int64(len(member))
	b.fieldBytes += len(member)
}

// ZMember appends a sorted-set member and its score.
func (b *Builder) ZMember(key, member []byte, score float64, exp, seq int64) {
	b.common(key, ZSet, exp, seq)
	b.field.Append(member)
	b.value.AppendNull()
	b.score.Append(score)
	b.index.AppendNull()
	b.streamID.AppendNull()
	b.elements.AppendNull()
	b.bytes += int64(len(member))
	b.fieldBytes += len(member)
}

// ListElem appends the list element at position idx.
func (b *Builder) ListElem(key, value []byte, idx, exp, seq int64) {
	b.common(key, List, exp, seq)
	b.field.AppendNull()
	b.value.Append(value)
	b.score.AppendNull()
	b.index.Append(idx)
	b.streamID.AppendNull()
	b.elements.AppendNull()
	b.bytes += int64(len(value))
	b.valueBytes += len(value)
}

// StreamPair appends field/value pair number pos of stream entry id.
func (b *Builder) StreamPair(key []byte, id string, pos int64, field, value []byte, exp, seq int64) {
	b.common(key, Stream, exp, seq)
	b.field.Append(field)
	b.value.Append(value)
	b.score.AppendNull()
	b.index.Append(pos)
	b.streamID.AppendString(id)
	b.elements.AppendNull()
	b.bytes += int64(len(id) + len(field) + len(value))
	b.fieldBytes += len(field)
	b.valueBytes += len(value)
}
