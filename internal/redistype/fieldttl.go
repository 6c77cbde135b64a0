package redistype

import (
	"fmt"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/spec"
)

// Hash fields with their own TTL (Redis 7.4+ HPEXPIRE) travel in an
// eleventh column, field_expire_at_ms, appended to the layout only in
// datasets whose source had such fields (OptFieldTTLs says so). Datasets
// without field TTLs keep the ten columns every imbundle reads, byte for
// byte; an imbundle that predates the column does not accept an
// eleven-column dataset (its column count differs), so it leaves it out
// rather than import fields that would never expire.
const (
	ColFieldExpireAt = NumCols // field_expire_at_ms
	NumColsFieldTTL  = NumCols + 1
)

// OptFieldTTLs is the dataset option recorded when the layout has the
// field_expire_at_ms column: the number of hashes with field TTLs the
// source reported (INFO keyspace subexpiry) when the export began.
const OptFieldTTLs = "field-ttls"

// SchemaFieldTTL is Schema with field_expire_at_ms appended, left out of
// the content digest like expire_at_ms: it moves with the clock, and is
// compared with the same tolerance.
var SchemaFieldTTL = arrow.NewSchema(append(Schema.Fields(),
	arrow.Field{Name: "field_expire_at_ms", Type: arrow.PrimitiveTypes.Int64, Nullable: true, Metadata: excluded}), nil)

// HasFieldTTLs reports whether ds is in the eleven-column layout.
func HasFieldTTLs(ds *spec.Dataset) bool {
	_, ok := ds.Options[OptFieldTTLs]
	return ok
}

// FieldTTLHashes is the count OptFieldTTLs records (0 if absent or not a
// number).
func FieldTTLHashes(ds *spec.Dataset) int64 {
	n, _ := strconv.ParseInt(ds.Options[OptFieldTTLs], 10, 64)
	return n
}

// SchemaOf is the schema of a keyspace dataset: SchemaFieldTTL when its
// options say the source had field TTLs, else Schema.
func SchemaOf(ds *spec.Dataset) *arrow.Schema {
	if HasFieldTTLs(ds) {
		return SchemaFieldTTL
	}
	return Schema
}

// NewBuilderFor returns a builder of schema (Schema or SchemaFieldTTL).
func NewBuilderFor(target int64, schema *arrow.Schema) *Builder {
	return newBuilder(target, schema)
}

// FieldExpireAt is hash field row i's own absolute expiry in Unix ms, or
// NoExpiry (no column, NULL, or not a hash field row).
func (r *Rows) FieldExpireAt(i int) int64 {
	if r.fieldExp == nil || r.fieldExp.IsNull(i) {
		return NoExpiry
	}
	return r.fieldExp.Value(i)
}

// HasFieldTTLs reports whether the record has the field_expire_at_ms column.
func (r *Rows) HasFieldTTLs() bool { return r.fieldExp != nil }

// checkFieldExpiry: only hash field rows may have their own expiry.
func (r *Rows) checkFieldExpiry(i int) error {
	if r.FieldExpireAt(i) == NoExpiry {
		return nil
	}
	if r.Type(i) != Hash || r.IsKeyRow(i) {
		return fmt.Errorf("field_expire_at_ms set on a row that is not a hash field")
	}
	return nil
}
