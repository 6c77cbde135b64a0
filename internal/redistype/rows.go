package redistype

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/imbundle/imbundle/bundle"
)

// Rows gives typed access to the rows of one keyspace record batch. Byte
// slices it returns point into the record: copy them to keep them past the
// record's lifetime.
type Rows struct {
	N        int
	key      bundle.VarLen
	typ      bundle.VarLen
	field    bundle.VarLen
	value    bundle.VarLen
	score    *array.Float64
	index    *array.Int64
	streamID bundle.VarLen
	elements *array.Int64
	expire   *array.Int64
	seq      *array.Int64
	fieldExp *array.Int64 // nil in the ten-column layout
}

// NewRows checks rec's schema and wraps it.
func NewRows(rec arrow.RecordBatch) (*Rows, error) {
	if err := CheckSchema(rec.Schema()); err != nil {
		return nil, err
	}
	r := &Rows{N: int(rec.NumRows())}
	var ok [NumCols]bool
	r.key, ok[0] = bundle.AsVarLen(rec.Column(ColKey))
	r.typ, ok[1] = bundle.AsVarLen(rec.Column(ColType))
	r.field, ok[2] = bundle.AsVarLen(rec.Column(ColField))
	r.value, ok[3] = bundle.AsVarLen(rec.Column(ColValue))
	r.score, ok[4] = rec.Column(ColScore).(*array.Float64)
	r.index, ok[5] = rec.Column(ColIndex).(*array.Int64)
	r.streamID, ok[6] = bundle.AsVarLen(rec.Column(ColStreamID))
	r.elements, ok[7] = rec.Column(ColElements).(*array.Int64)
	r.expire, ok[8] = rec.Column(ColExpireAt).(*array.Int64)
	r.seq, ok[9] = rec.Column(ColSeq).(*array.Int64)
	for i, b := range ok {
		if !b {
			return nil, fmt.Errorf("keyspace column %d has an unexpected array type", i)
		}
	}
	if rec.NumCols() == NumColsFieldTTL {
		var good bool
		if r.fieldExp, good = rec.Column(ColFieldExpireAt).(*array.Int64); !good {
			return nil, fmt.Errorf("keyspace column %d has an unexpected array type", ColFieldExpireAt)
		}
	}
	return r, nil
}

func (r *Rows) Key(i int) []byte { return r.key.Value(i) }
func (r *Rows) Type(i int) Type  { return typeOf(r.typ.Value(i)) }

// typeOf converts without allocating for the known types.
func typeOf(b []byte) Type {
	for _, t := range [...]Type{String, Hash, List, Set, ZSet, Stream} {
		if string(b) == string(t) {
			return t
		}
	}
	return Type(b)
}

// Field is the hash field, set or sorted-set member or stream field.
func (r *Rows) Field(i int) []byte { return r.field.Value(i) }

// Value is the string value, hash value, list element or stream value.
func (r *Rows) Value(i int) []byte  { return r.value.Value(i) }
func (r *Rows) Score(i int) float64 { return r.score.Value(i) }
func (r *Rows) Index(i int) int64   { return r.index.Value(i) }
func (r *Rows) StreamID(i int) string {
	if r.streamID.IsNull(i) {
		return ""
	}
	return string(r.streamID.Value(i))
}

// IsKeyRow reports whether row i closes its key (elements is set).
func (r *Rows) IsKeyRow(i int) bool { return r.elements.IsValid(i) }

// Elements is the number of element rows of the key closed by row i.
func (r *Rows) Elements(i int) int64 { return r.elements.Value(i) }

// ExpireAt is the absolute expiry in Unix ms, or NoExpiry.
func (r *Rows) ExpireAt(i int) int64 {
	if r.expire.IsNull(i) {
		return NoExpiry
	}
	return r.expire.Value(i)
}

// Seq is the row's position within its key's run.
func (r *Rows) Seq(i int) int64 { return r.seq.Value(i) }

// Check validates row i against the layout's rules, so that a hand-made or
// damaged bundle fails with the row named rather than writing nonsense.
func (r *Rows) Check(i int) error {
	t := r.Type(i)
	if !Known(t) {
		return fmt.Errorf("unknown type %q", t)
	}
	if err := r.checkFieldExpiry(i); err != nil {
		return err
	}
	if r.key.IsNull(i) {
		return fmt.Errorf("key is NULL")
	}
	if r.IsKeyRow(i) {
		if t == String && r.value.IsNull(i) {
			return fmt.Errorf("string key row without a value")
		}
		if t == Stream && r.streamID.IsNull(i) {
			return fmt.Errorf("stream key row without stream_id (last generated ID)")
		}
		return nil
	}
	switch t {
	case String:
		return fmt.Errorf("string key with an element row")
	case Hash:
		if r.field.IsNull(i) || r.value.IsNull(i) {
			return fmt.Errorf("hash row without field or value")
		}
	case Set:
		if r.field.IsNull(i) {
			return fmt.Errorf("set row without member (field)")
		}
	case ZSet:
		if r.field.IsNull(i) || r.score.IsNull(i) {
			return fmt.Errorf("zset row without member (field) or score")
		}
	case List:
		if r.value.IsNull(i) || r.index.IsNull(i) {
			return fmt.Errorf("list row without value or index")
		}
	case Stream:
		if r.field.IsNull(i) || r.value.IsNull(i) || r.streamID.IsNull(i) || r.index.IsNull(i) {
			return fmt.Errorf("stream row without stream_id, index, field or value")
		}
	}
	return nil
}
