package extract

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/spec"
)

// manifestSchema is the Arrow schema of a dataset without parts, from the
// manifest's column types (SPEC.md §4.3 spellings): what a Parquet file of
// no rows needs. Only flat types are known here (the tables, keyspaces and
// collections of §7–§9 have no others); a nested one is an error.
func manifestSchema(ds *spec.Dataset) (*arrow.Schema, error) {
	fields := make([]arrow.Field, len(ds.Columns))
	for i, c := range ds.Columns {
		t, err := flatType(c.Type)
		if err != nil {
			return nil, fmt.Errorf("dataset %s has no parts, and column %s: %w: extract it as jsonl or csv", ds.Name, c.Name, err)
		}
		var md arrow.Metadata
		if len(c.Metadata) > 0 {
			md = arrow.MetadataFrom(c.Metadata)
		}
		fields[i] = arrow.Field{Name: c.Name, Type: t, Nullable: c.Nullable, Metadata: md}
	}
	return arrow.NewSchema(fields, nil), nil
}

// flatType is the flat Arrow type spelled s, matched by arrow-go's own
// String() so that no spelling is guessed.
func flatType(s string) (arrow.DataType, error) {
	cands := []arrow.DataType{
		arrow.FixedWidthTypes.Boolean,
		arrow.PrimitiveTypes.Int8, arrow.PrimitiveTypes.Int16, arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Int64,
		arrow.PrimitiveTypes.Uint8, arrow.PrimitiveTypes.Uint16, arrow.PrimitiveTypes.Uint32, arrow.PrimitiveTypes.Uint64,
		arrow.PrimitiveTypes.Float32, arrow.PrimitiveTypes.Float64,
		arrow.BinaryTypes.String, arrow.BinaryTypes.LargeString, arrow.BinaryTypes.Binary, arrow.BinaryTypes.LargeBinary,
		arrow.FixedWidthTypes.Date32, arrow.FixedWidthTypes.Date64,
		arrow.FixedWidthTypes.Time32s, arrow.FixedWidthTypes.Time32ms, arrow.FixedWidthTypes.Time64us, arrow.FixedWidthTypes.Time64ns,
	}
	for _, u := range []arrow.TimeUnit{arrow.Second, arrow.Millisecond, arrow.Microsecond, arrow.Nanosecond} {
		cands = append(cands, &arrow.TimestampType{Unit: u}, &arrow.TimestampType{Unit: u, TimeZone: "UTC"}, &arrow.DurationType{Unit: u})
	}
	for _, t := range cands {
		if t.String() == s {
			return t, nil
		}
	}
	var p, sc int32
	var n int
	if _, err := fmt.Sscanf(s, "decimal(%d, %d)", &p, &sc); err == nil {
		if t := (&arrow.Decimal128Type{Precision: p, Scale: sc}); t.String() == s {
			return t, nil
		}
	}
	if _, err := fmt.Sscanf(s, "decimal256(%d, %d)", &p, &sc); err == nil {
		if t := (&arrow.Decimal256Type{Precision: p, Scale: sc}); t.String() == s {
			return t, nil
		}
	}
	if _, err := fmt.Sscanf(s, "fixed_size_binary[%d]", &n); err == nil {
		if t := (&arrow.FixedSizeBinaryType{ByteWidth: n}); t.String() == s {
			return t, nil
		}
	}
	return nil, fmt.Errorf("type %s is not a flat type this release writes without a part", s)
}
