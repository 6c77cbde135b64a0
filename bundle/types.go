package bundle

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
)

// The canonical extension types are allowed but not registered here:
// arrow-go's extensions package drags Parquet into the binary, and no engine
// writes them. An unregistered extension column reads back as its storage
// type (ColumnsOf still names the extension), and its digest encoding is its
// storage's either way (SPEC.md §6).

// Extension types a bundle may use (SPEC.md §4).
var allowedExtensions = map[string]bool{"arrow.json": true, "arrow.uuid": true}

// CheckType reports whether columns of type dt may appear in a bundle
// (SPEC.md §4): the types with a canonical digest encoding (§6) that other
// Arrow readers (pyarrow, polars, DuckDB) read. Dictionary, view, run-end,
// union, interval, float16 and null types are refused.
func CheckType(dt arrow.DataType) error {
	switch t := dt.(type) {
	case *arrow.BooleanType,
		*arrow.Int8Type, *arrow.Int16Type, *arrow.Int32Type, *arrow.Int64Type,
		*arrow.Uint8Type, *arrow.Uint16Type, *arrow.Uint32Type, *arrow.Uint64Type,
		*arrow.Float32Type, *arrow.Float64Type,
		*arrow.StringType, *arrow.LargeStringType, *arrow.BinaryType, *arrow.LargeBinaryType,
		*arrow.FixedSizeBinaryType, *arrow.Decimal128Type, *arrow.Decimal256Type,
		*arrow.Date32Type, *arrow.Date64Type, *arrow.TimestampType,
		*arrow.Time32Type, *arrow.Time64Type, *arrow.DurationType:
		return nil
	case *arrow.ListType:
		return CheckType(t.Elem())
	case *arrow.LargeListType:
		return CheckType(t.Elem())
	case *arrow.FixedSizeListType:
		return CheckType(t.Elem())
	case *arrow.MapType:
		if err := CheckType(t.KeyType()); err != nil {
			return err
		}
		return CheckType(t.ItemType())
	case *arrow.StructType:
		for _, f := range t.Fields() {
			if err := CheckType(f.Type); err != nil {
				return err
			}
		}
		return nil
	case arrow.ExtensionType:
		if !allowedExtensions[t.ExtensionName()] {
			return fmt.Errorf("Arrow extension type %s is not allowed in a bundle (only arrow.json and arrow.uuid)", t.ExtensionName())
		}
		return CheckType(t.StorageType())
	}
	return fmt.Errorf("Arrow type %s is not allowed in a bundle (SPEC.md §4)", dt)
}

// checkSchema applies CheckType to every field and requires unique,
// non-empty field names.
func checkSchema(s *arrow.Schema) error {
	seen := map[string]bool{}
	for i, f := range s.Fields() {
		if f.Name == "" {
			return fmt.Errorf("column %d has an empty name", i)
		}
		if seen[f.Name] {
			return fmt.Errorf("column %q appears twice", f.Name)
		}
		seen[f.Name] = true
		if err := CheckType(f.Type); err != nil {
			return fmt.Errorf("column %q: %w", f.Name, err)
		}
	}
	return nil
}
