package bundle

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/spec"
)

// MetaNative is the field metadata key holding the source engine's column
// type (SPEC.md §4): what a same-engine importer needs beyond the Arrow type.
const MetaNative = "imbundle.native"

// Field metadata keys of the Arrow IPC format for extension types.
const (
	extNameKey = "ARROW:extension:name"
	extMetaKey = "ARROW:extension:metadata"
)

// ColumnsOf describes an Arrow schema for the manifest.
func ColumnsOf(s *arrow.Schema) []spec.Column {
	cols := make([]spec.Column, s.NumFields())
	for i, f := range s.Fields() {
		c := spec.Column{Name: f.Name, Type: f.Type.String(), Nullable: f.Nullable}
		if f.Type.ID() == arrow.EXTENSION {
			c.Type = f.Type.(arrow.ExtensionType).ExtensionName() + "<" + f.Type.(arrow.ExtensionType).StorageType().String() + ">"
		}
		for j, k := range f.Metadata.Keys() {
			switch k {
			case extNameKey:
				// An extension type this process has not registered reads
				// back as its storage type with the name in the metadata:
				// describe it as the writer, which had it registered, did.
				c.Type = f.Metadata.Values()[j] + "<" + f.Type.String() + ">"
				continue
			case extMetaKey:
				continue
			}
			if k == MetaNative {
				c.Native = f.Metadata.Values()[j]
				continue
			}
			if c.Metadata == nil {
				c.Metadata = map[string]string{}
			}
			c.Metadata[k] = f.Metadata.Values()[j]
		}
		cols[i] = c
	}
	return cols
}

// CheckColumns reports the first difference between a part's Arrow schema
// and the manifest's columns: names, types, nullability and digest
// exclusion. Native types may differ (a target server of another version
// spells them differently).
func CheckColumns(s *arrow.Schema, cols []spec.Column) error {
	return checkColumns(s, cols, "part", func(a, b string) bool { return a == b })
}

// CheckComparable is CheckColumns for rows read back from a target: their
// digest is comparable with the manifest's when the columns differ at most
// in the offset width of text and bytes (SameValues), as a format 1
// bundle's do from what engines read today.
func CheckComparable(s *arrow.Schema, cols []spec.Column) error {
	return checkColumns(s, cols, "target", SameValues)
}

func checkColumns(s *arrow.Schema, cols []spec.Column, side string, same func(a, b string) bool) error {
	got := ColumnsOf(s)
	if len(got) != len(cols) {
		return fmt.Errorf("%s has %d columns, manifest declares %d", side, len(got), len(cols))
	}
	for i := range got {
		if got[i].Name != cols[i].Name || !same(got[i].Type, cols[i].Type) || got[i].Nullable != cols[i].Nullable {
			return fmt.Errorf("column %d is %s %s in the %s, %s %s in the manifest", i, got[i].Name, got[i].Type, side, cols[i].Name, cols[i].Type)
		}
		// Digests are only comparable over the same columns (SPEC.md §6).
		if got[i].Metadata[MetaDigest] != cols[i].Metadata[MetaDigest] {
			return fmt.Errorf("column %s: %s is %q here, %q in the manifest", got[i].Name, MetaDigest, got[i].Metadata[MetaDigest], cols[i].Metadata[MetaDigest])
		}
	}
	return nil
}

func keyColumns(s *arrow.Schema, names []string) ([]int, error) {
	idx := make([]int, 0, len(names))
	for _, n := range names {
		found := s.FieldIndices(n)
		if len(found) != 1 {
			return nil, fmt.Errorf("primary key column %q is not in the schema exactly once", n)
		}
		idx = append(idx, found[0])
	}
	return idx, nil
}

func keyStrings(rec arrow.RecordBatch, cols []int, row int) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = KeyString(rec.Column(c), row)
	}
	return out
}

// KeyString renders one key value as text for reports and key ranges; binary
// values are shown as hex with a 0x prefix.
func KeyString(a arrow.Array, row int) string {
	if a.IsNull(row) {
		return "NULL"
	}
	switch v := a.GetOneForMarshal(row).(type) {
	case []byte:
		return fmt.Sprintf("0x%x", v)
	default:
		return a.ValueStr(row)
	}
}
