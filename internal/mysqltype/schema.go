package mysqltype

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/bundle"
)

// Field metadata keys of MySQL columns (SPEC.md §7). bundle.MetaNative holds
// the full COLUMN_TYPE.
const (
	MetaCharset   = "imbundle.mysql.charset"
	MetaCollation = "imbundle.mysql.collation"
	MetaExtra     = "imbundle.mysql.extra"     // EXTRA as the server reports it
	MetaGenerated = "imbundle.mysql.generated" // STORED or VIRTUAL: exported, never inserted
	MetaNotNull   = "imbundle.mysql.not_null"  // "true" on date columns declared NOT NULL
	MetaJSON      = "imbundle.json"            // "true": the utf8 text is a JSON document
	// MetaRawColumn, on a DATE/DATETIME/TIMESTAMP column, names its companion
	// column; MetaRawOf, on the companion, names the typed column.
	MetaRawColumn = "imbundle.mysql.raw_column"
	MetaRawOf     = "imbundle.mysql.raw_of"

	// MetaSystemTime marks a system-versioned table's ROW START or ROW END
	// field: loaded with system_versioning_insert_history (SPEC.md §7.7).
	MetaSystemTime = "imbundle.mysql.system_time"
)

// RawSuffix makes the companion column's name: "created_at#raw" holds the
// server's text for a created_at value that is no real date ("0000-00-00",
// "2024-00-10"), and NULL otherwise.
const RawSuffix = "#raw"

// TimeUnit is the Arrow unit of a temporal column with fsp fractional
// digits: the coarsest that holds every value. Smaller counts compress
// better: a DATETIME(3) column of chat_logs takes 30% less as milliseconds
// than as microseconds. Format 1 bundles hold microseconds throughout.
func TimeUnit(fsp int) arrow.TimeUnit {
	switch {
	case fsp == 0:
		return arrow.Second
	case fsp <= 3:
		return arrow.Millisecond
	}
	return arrow.Microsecond
}

// usPer is the number of microseconds in one u; 0 for units finer than a
// microsecond, which MySQL cannot store.
func usPer(u arrow.TimeUnit) int64 {
	switch u {
	case arrow.Second:
		return 1_000_000
	case arrow.Millisecond:
		return 1_000
	case arrow.Microsecond:
		return 1
	}
	return 0
}

// ArrowType is the Arrow type of a classified column.
func (c *Column) ArrowType() arrow.DataType {
	switch c.Kind {
	case KindInt8:
		return arrow.PrimitiveTypes.Int8
	case KindInt16:
		return arrow.PrimitiveTypes.Int16
	case KindInt32:
		return arrow.PrimitiveTypes.Int32
	case KindInt64:
		return arrow.PrimitiveTypes.Int64
	case KindUint8:
		return arrow.PrimitiveTypes.Uint8
	case KindUint16, KindYear:
		return arrow.PrimitiveTypes.Uint16
	case KindUint32:
		return arrow.PrimitiveTypes.Uint32
	case KindUint64, KindBit:
		return arrow.PrimitiveTypes.Uint64
	case KindDecimal128:
		return &arrow.Decimal128Type{Precision: int32(c.Precision), Scale: int32(c.Scale)}
	case KindDecimal256:
		return &arrow.Decimal256Type{Precision: int32(c.Precision), Scale: int32(c.Scale)}
	case KindFloat32:
		return arrow.PrimitiveTypes.Float32
	case KindFloat64:
		return arrow.PrimitiveTypes.Float64
	case KindDate:
		return arrow.FixedWidthTypes.Date32
	case KindDatetime:
		return &arrow.TimestampType{Unit: TimeUnit(c.Fsp())}
	case KindTimestamp:
		return &arrow.TimestampType{Unit: TimeUnit(c.Fsp()), TimeZone: "UTC"}
	case KindTime:
		return &arrow.DurationType{Unit: TimeUnit(c.Fsp())}
	case KindString:
		return bundle.Text
	case KindBinary:
		return bundle.Bytes
	}
	panic(fmt.Sprintf("mysqltype: column %s not classified", c.Name))
}

// Fields returns the Arrow fields of classified columns: one per column, plus
// a raw-text companion right after every date-like column.
func Fields(cols []Column) ([]arrow.Field, error) {
	names := map[string]bool{}
	for _, c := range cols {
		names[c.Name] = true
	}
	var out []arrow.Field
	for i := range cols {
		c := &cols[i]
		md := map[string]string{bundle.MetaNative: c.ColumnType}
		if c.Charset != "" {
			md[MetaCharset] = c.Charset
		}
		if c.Collation != "" {
			md[MetaCollation] = c.Collation
		}
		if c.Extra != "" {
			md[MetaExtra] = c.Extra
		}
		if c.Generated != "" {
			md[MetaGenerated] = c.Generated
		}
		if c.SystemTime != "" {
			md[MetaSystemTime] = c.SystemTime
		}
		if c.JSON {
			md[MetaJSON] = "true"
		}
		nullable := c.Nullable
		var raw string
		if c.Kind.IsDate() {
			// A zero date in a NOT NULL column is NULL in the typed column
			// (its text is in the companion), so the field must be nullable.
			nullable = true
			if !c.Nullable {
				md[MetaNotNull] = "true"
			}
			raw = c.Name + RawSuffix
			if names[raw] {
				return nil, fmt.Errorf("column %s: its raw-date companion name %q is taken by another column", c.Name, raw)
			}
			md[MetaRawColumn] = raw
		}
		out = append(out, arrow.Field{Name: c.Name, Type: c.ArrowType(), Nullable: nullable, Metadata: arrow.MetadataFrom(md)})
		if raw != "" {
			out = append(out, arrow.Field{Name: raw, Type: bundle.Text, Nullable: true,
				Metadata: arrow.MetadataFrom(map[string]string{MetaRawOf: c.Name})})
		}
	}
	return out, nil
}

// Target is what an importer needs to know about one Arrow field of a
// bundle written by the MySQL exporter.
type Target struct {
	Field     arrow.Field
	Kind      Kind
	Native    string
	Generated bool   // computed by the server: never loaded
	RawOf     string // non-empty: this is the companion of column RawOf
	Raw       int    // index of this column's companion field, -1 if none
	JSON      bool
	// AsText: the server must receive the value as UTF-8 text, not as a
	// binary string: MySQL refuses JSON from binary, and MariaDB reads a
	// binary string into UUID/INET4/INET6 as the 16- or 4-byte form.
	AsText bool
	// USPer is the microseconds in one unit of a DATETIME, TIMESTAMP or
	// TIME field.
	USPer int64
}

// Targets recovers the codec of each field of a bundle's schema.
func Targets(s *arrow.Schema) ([]Target, error) {
	out := make([]Target, s.NumFields())
	byName := map[string]int{}
	for i, f := range s.Fields() {
		byName[f.Name] = i
	}
	for i, f := range s.Fields() {
		t := Target{Field: f, Raw: -1}
		md := func(k string) string { v, _ := f.Metadata.GetValue(k); return v }
		t.Native = strings.ToLower(md(bundle.MetaNative))
		t.Generated = md(MetaGenerated) != ""
		t.RawOf = md(MetaRawOf)
		t.JSON = md(MetaJSON) == "true"
		t.AsText = t.JSON || strings.HasPrefix(t.Native, "uuid") || strings.HasPrefix(t.Native, "inet")
		if r := md(MetaRawColumn); r != "" {
			j, ok := byName[r]
			if !ok {
				return nil, fmt.Errorf("column %s names raw companion %q, which the schema lacks", f.Name, r)
			}
			t.Raw = j
		}
		if t.RawOf != "" {
			if id := f.Type.ID(); id != arrow.STRING && id != arrow.LARGE_STRING {
				return nil, fmt.Errorf("raw companion column %s is %s, want large_utf8", f.Name, f.Type)
			}
			out[i] = t
			continue
		}
		k, err := kindOf(f.Type, t.Native)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", f.Name, err)
		}
		t.Kind = k
		switch ft := f.Type.(type) {
		case *arrow.TimestampType:
			t.USPer = usPer(ft.Unit)
		case *arrow.DurationType:
			t.USPer = usPer(ft.Unit)
		}
		out[i] = t
	}
	return out, nil
}

func kindOf(dt arrow.DataType, native string) (Kind, error) {
	switch t := dt.(type) {
	case *arrow.Int8Type:
		return KindInt8, nil
	case *arrow.Int16Type:
		return KindInt16, nil
	case *arrow.Int32Type:
		return KindInt32, nil
	case *arrow.Int64Type:
		return KindInt64, nil
	case *arrow.Uint8Type:
		return KindUint8, nil
	case *arrow.Uint16Type:
		if strings.HasPrefix(native, "year") {
			return KindYear, nil
		}
		return KindUint16, nil
	case *arrow.Uint32Type:
		return KindUint32, nil
	case *arrow.Uint64Type:
		if strings.HasPrefix(native, "bit") {
			return KindBit, nil
		}
		return KindUint64, nil
	case *arrow.Decimal128Type:
		return KindDecimal128, nil
	case *arrow.Decimal256Type:
		return KindDecimal256, nil
	case *arrow.Float32Type:
		return KindFloat32, nil
	case *arrow.Float64Type:
		return KindFloat64, nil
	case *arrow.Date32Type:
		return KindDate, nil
	case *arrow.TimestampType:
		if usPer(t.Unit) == 0 {
			return KindInvalid, fmt.Errorf("timestamp unit %s, want s, ms or us", t.Unit)
		}
		if t.TimeZone == "" {
			return KindDatetime, nil
		}
		return KindTimestamp, nil
	case *arrow.DurationType:
		if usPer(t.Unit) == 0 {
			return KindInvalid, fmt.Errorf("duration unit %s, want s, ms or us", t.Unit)
		}
		return KindTime, nil
	case *arrow.StringType, *arrow.LargeStringType:
		return KindString, nil
	case *arrow.BinaryType, *arrow.LargeBinaryType:
		return KindBinary, nil
	}
	return KindInvalid, fmt.Errorf("Arrow type %s has no MySQL mapping", dt)
}
