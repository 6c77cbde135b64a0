package delta

import (
	"encoding/binary"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/decimal256"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/spec"
)

// EntityKey names the columns whose values identify an entity of ds
// (SPEC.md §14.1), or nil when ds has none and is carried whole when it
// changes: a table by its primary key, a collection by _id, a Redis
// keyspace by key. A logical dataset (members) has none: a key is unique
// only within each member table.
func EntityKey(ds *spec.Dataset, schema *arrow.Schema) []string {
	var key []string
	switch {
	case len(ds.Members) > 0:
		return nil
	case ds.Kind == spec.KindTable:
		key = ds.PrimaryKey
	case ds.Kind == spec.KindCollection && ds.Options["mongodb.type"] != "timeseries":
		key = []string{"_id"}
	case ds.Kind == spec.KindKeyspace && ds.Options["layout"] == "redis-keyspace-v1":
		key = []string{"key"}
	}
	for _, k := range key {
		idx := schema.FieldIndices(k)
		if len(idx) != 1 || !decodable(schema.Field(idx[0]).Type) {
			return nil
		}
	}
	return key
}

// decodable reports whether a key column's canonical encoding (SPEC.md §6)
// can be turned back into its value: flat types only.
func decodable(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.BOOL, arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64,
		arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64,
		arrow.STRING, arrow.LARGE_STRING, arrow.BINARY, arrow.LARGE_BINARY, arrow.FIXED_SIZE_BINARY,
		arrow.DECIMAL128, arrow.DECIMAL256, arrow.DATE32, arrow.DATE64,
		arrow.TIMESTAMP, arrow.TIME32, arrow.TIME64, arrow.DURATION:
		return true
	}
	return false
}

// keyCols are the indexes of the key columns in a schema.
func keyCols(schema *arrow.Schema, key []string) []int {
	out := make([]int, len(key))
	for i, k := range key {
		out[i] = schema.FieldIndices(k)[0]
	}
	return out
}

// appendKey appends row i's entity key: the canonical encodings of its key
// columns, concatenated. Each encoding is self-delimiting, so the bytes of
// two keys compare equal exactly when their values do, and sorting them
// groups an entity's rows. ok is false for a NULL key column (a document
// without _id): such a dataset has no entities.
func appendKey(b []byte, rec arrow.RecordBatch, cols []int, i int) ([]byte, bool) {
	for _, c := range cols {
		if rec.Column(c).IsNull(i) {
			return b, false
		}
		b = bundle.AppendCanonical(b, rec.Column(c), i)
	}
	return b, true
}

// keySchema is the schema of a dataset's deleted keys: its key columns.
func keySchema(schema *arrow.Schema, key []string) *arrow.Schema {
	fields := make([]arrow.Field, len(key))
	for i, c := range keyCols(schema, key) {
		f := schema.Field(c)
		fields[i] = arrow.Field{Name: f.Name, Type: f.Type, Nullable: f.Nullable, Metadata: f.Metadata}
	}
	return arrow.NewSchema(fields, nil)
}

// decodeKey appends the values an entity key encodes to bs, one builder
// per key column.
func decodeKey(key []byte, bs []array.Builder) error {
	for _, b := range bs {
		if len(key) == 0 || key[0] != 1 {
			return fmt.Errorf("entity key: a value is missing or NULL")
		}
		n, w := binary.Uvarint(key[1:])
		if w <= 0 || uint64(len(key)-1-w) < n {
			return fmt.Errorf("entity key: a value's length runs past its end")
		}
		v := key[1+w : 1+w+int(n)]
		key = key[1+w+int(n):]
		if err := appendValue(b, v); err != nil {
			return err
		}
	}
	if len(key) != 0 {
		return fmt.Errorf("entity key: %d bytes left over", len(key))
	}
	return nil
}

// appendValue appends the value of canonical value bytes v (SPEC.md §6).
func appendValue(b array.Builder, v []byte) error {
	u64 := func() (uint64, error) {
		if len(v) != 8 {
			return 0, fmt.Errorf("entity key: %d value bytes where 8 were expected", len(v))
		}
		return binary.BigEndian.Uint64(v), nil
	}
	switch b := b.(type) {
	case *array.BooleanBuilder:
		b.Append(len(v) == 1 && v[0] == 1)
		return nil
	case *array.StringBuilder:
		b.Append(string(v))
		return nil
	case *array.LargeStringBuilder:
		b.Append(string(v))
		return nil
	case *array.BinaryBuilder:
		b.Append(v)
		return nil
	case *array.FixedSizeBinaryBuilder:
		b.Append(v)
		return nil
	case *array.Decimal128Builder:
		if len(v) != 16 {
			return fmt.Errorf("entity key: decimal128 of %d bytes", len(v))
		}
		b.Append(decimal128.New(int64(binary.BigEndian.Uint64(v)), binary.BigEndian.Uint64(v[8:])))
		return nil
	case *array.Decimal256Builder:
		if len(v) != 32 {
			return fmt.Errorf("entity key: decimal256 of %d bytes", len(v))
		}
		b.Append(decimal256.New(binary.BigEndian.Uint64(v), binary.BigEndian.Uint64(v[8:]), binary.BigEndian.Uint64(v[16:]), binary.BigEndian.Uint64(v[24:])))
		return nil
	}
	x, err := u64()
	if err != nil {
		return err
	}
	switch b := b.(type) {
	case *array.Int8Builder:
		b.Append(int8(x))
	case *array.Int16Builder:
		b.Append(int16(x))
	case *array.Int32Builder:
		b.Append(int32(x))
	case *array.Int64Builder:
		b.Append(int64(x))
	case *array.Uint8Builder:
		b.Append(uint8(x))
	case *array.Uint16Builder:
		b.Append(uint16(x))
	case *array.Uint32Builder:
		b.Append(uint32(x))
	case *array.Uint64Builder:
		b.Append(x)
	case *array.Date32Builder:
		b.Append(arrow.Date32(int64(x)))
	case *array.Date64Builder:
		b.Append(arrow.Date64(int64(x)))
	case *array.TimestampBuilder:
		b.Append(arrow.Timestamp(int64(x)))
	case *array.Time32Builder:
		b.Append(arrow.Time32(int64(x)))
	case *array.Time64Builder:
		b.Append(arrow.Time64(int64(x)))
	case *array.DurationBuilder:
		b.Append(arrow.Duration(int64(x)))
	default:
		return fmt.Errorf("entity key: a column of builder %T cannot be decoded", b)
	}
	return nil
}
