// Package redistype is the one home of the Arrow layout of Redis keyspace
// datasets (SPEC.md §8), shared by exporter/redis (which writes it, and reads
// targets back into it for verify) and importer/redis (which replays it).
//
// One dataset holds one logical database. Every key is a contiguous run of
// rows: its element rows (a hash field, a set member, a sorted-set member, a
// list element, a stream entry's field/value pair) followed by exactly one
// key row that closes the run. A string key is its key row alone. The run's
// rows are numbered by seq from 0, so a reader that sees a run starting at
// seq > 0 knows the key began in an earlier part, and one whose run ends
// without a key row knows the key goes on in the next part.
package redistype

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/bundle"
)

// Type is a Redis data type as TYPE names it.
type Type string

const (
	String Type = "string"
	Hash   Type = "hash"
	List   Type = "list"
	Set    Type = "set"
	ZSet   Type = "zset"
	Stream Type = "stream"
)

// Known reports whether t is a type the layout carries.
func Known(t Type) bool {
	switch t {
	case String, Hash, List, Set, ZSet, Stream:
		return true
	}
	return false
}

// Column indices of the layout, in schema order.
const (
	ColKey = iota
	ColType
	ColField
	ColValue
	ColScore
	ColIndex
	ColStreamID
	ColElements
	ColExpireAt
	ColSeq
	NumCols
)

// NoExpiry marks a key without a TTL (expire_at_ms is NULL).
const NoExpiry int64 = -1

var excluded = arrow.NewMetadata([]string{bundle.MetaDigest}, []string{"exclude"})

// Schema is the Arrow schema of every keyspace dataset. expire_at_ms and seq
// are left out of the content digest: expiry times are compared separately
// with a tolerance, and seq depends on the order a server iterates in.
var Schema = arrow.NewSchema([]arrow.Field{
	{Name: "key", Type: bundle.Bytes},
	{Name: "type", Type: bundle.Text},
	{Name: "field", Type: bundle.Bytes, Nullable: true},
	{Name: "value", Type: bundle.Bytes, Nullable: true},
	{Name: "score", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "index", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "stream_id", Type: bundle.Text, Nullable: true},
	{Name: "elements", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "expire_at_ms", Type: arrow.PrimitiveTypes.Int64, Nullable: true, Metadata: excluded},
	{Name: "seq", Type: arrow.PrimitiveTypes.Int64, Metadata: excluded},
}, nil)

// CheckSchema reports whether s is the keyspace layout this code reads
// (format 1 bundles hold the 32-bit-offset types: bundle.SameValues): the
// ten columns of Schema, or SchemaFieldTTL's eleven.
func CheckSchema(s *arrow.Schema) error {
	want := Schema
	if s.NumFields() == NumColsFieldTTL {
		want = SchemaFieldTTL
	}
	if s.NumFields() != want.NumFields() {
		return fmt.Errorf("keyspace layout has %d or %d columns, this dataset %d (a newer imbundle wrote it?)", NumCols, NumColsFieldTTL, s.NumFields())
	}
	for i, f := range want.Fields() {
		g := s.Field(i)
		if g.Name != f.Name || !bundle.SameValues(g.Type.String(), f.Type.String()) {
			return fmt.Errorf("keyspace column %d is %s %s, expected %s %s", i, g.Name, g.Type, f.Name, f.Type)
		}
	}
	return nil
}

// LayoutName is recorded in each keyspace dataset's options.
const LayoutName = "redis-keyspace-v1"
