// Package mongotype is the one place where MongoDB collections meet Arrow
// (SPEC.md §9): the Arrow layout of a collection's records, how a raw BSON
// document becomes a row and a row becomes the same bytes again, and how a
// collection's options and indexes are carried in the manifest. The
// exporter and the importer both use it, so the two directions cannot drift
// apart.
//
// Documents are never decoded into Go values: the bytes the server sent are
// the bytes stored and the bytes sent back, so field order, numeric types
// (Int32, Int64, Double, Decimal128), NaN payloads, binary subtypes and keys
// with dots or dollars survive unchanged.
package mongotype

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/spec"
)

// Column names of a collection dataset, in schema order.
const (
	ColID     = "_id"      // binary: the _id value's BSON type byte followed by its value bytes
	ColIDJSON = "_id_json" // utf8: the _id value as canonical Extended JSON v2, for people
	ColDoc    = "doc"      // binary: the whole document, exactly as the server returned it
)

// Native types recorded in the columns' imbundle.native metadata.
const (
	NativeID     = "bson element value"
	NativeIDJSON = "bson extended json (canonical)"
	NativeDoc    = "bson document"
)

// Schema is the Arrow schema of every collection dataset. _id_json is
// derived from _id and kept out of the content digest, so that digests
// depend on BSON bytes only and not on a JSON renderer's version.
func Schema() *arrow.Schema {
	return arrow.NewSchema([]arrow.Field{
		{Name: ColID, Type: bundle.Bytes, Nullable: true,
			Metadata: arrow.NewMetadata([]string{bundle.MetaNative}, []string{NativeID})},
		{Name: ColIDJSON, Type: bundle.Text, Nullable: true,
			Metadata: arrow.NewMetadata([]string{bundle.MetaNative, bundle.MetaDigest}, []string{NativeIDJSON, "exclude"})},
		{Name: ColDoc, Type: bundle.Bytes, Nullable: false,
			Metadata: arrow.NewMetadata([]string{bundle.MetaNative}, []string{NativeDoc})},
	}, nil)
}

// PrimaryKey is the key recorded for collection datasets: the readable
// rendering of _id, so that key ranges and verify's differences name
// documents the way a person would look them up.
var PrimaryKey = []string{ColIDJSON}

// CheckColumns reports whether a manifest dataset has this package's layout
// (format 1 bundles hold the 32-bit-offset types).
func CheckColumns(cols []spec.Column) error {
	return bundle.CheckComparable(Schema(), cols)
}

// checkRecordSchema accepts a record whose columns have the layout's names
// and types (metadata may differ: a later writer may add keys).
func checkRecordSchema(s *arrow.Schema) error {
	want := Schema()
	ok := s.NumFields() == want.NumFields()
	for i := 0; ok && i < s.NumFields(); i++ {
		ok = s.Field(i).Name == want.Field(i).Name && bundle.SameValues(s.Field(i).Type.String(), want.Field(i).Type.String())
	}
	if !ok {
		return fmt.Errorf("record schema %s is not the collection layout (%s large_binary, %s large_utf8, %s large_binary)", s, ColID, ColIDJSON, ColDoc)
	}
	return nil
}
