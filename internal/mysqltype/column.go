// Package mysqltype is the one place where MySQL/MariaDB column types meet
// Arrow: which Arrow type a column gets (SPEC.md §7), how a value read from
// the server becomes an Arrow value, and how an Arrow value is written back as
// LOAD DATA text or an SQL literal. The exporter and the importer both use
// it, so a value's two directions cannot drift apart.
package mysqltype

import (
	"fmt"
	"strings"
)

// Kind is the value codec a column uses.
type Kind int

// Kinds, one per distinct Arrow mapping.
const (
	KindInvalid Kind = iota
	KindInt8
	KindInt16
	KindInt32
	KindInt64
	KindUint8
	KindUint16
	KindUint32
	KindUint64
	KindDecimal128
	KindDecimal256
	KindFloat32
	KindFloat64
	KindBit      // BIT(n) -> uint64
	KindYear     // YEAR -> uint16
	KindDate     // DATE -> date32 (+ raw text companion)
	KindDatetime // DATETIME(n) -> timestamp[us] (+ raw text companion)
	KindTimestamp
	KindTime   // TIME(n) -> duration[us]
	KindString // text in a UTF-8 character set, ENUM, SET, JSON -> utf8
	KindBinary // binary strings, text in other character sets, spatial -> binary
)

// IsDate reports whether values of k can be zero or partial dates, which
// need the raw-text companion column.
func (k Kind) IsDate() bool { return k == KindDate || k == KindDatetime || k == KindTimestamp }

// Column is one column of a table as information_schema.COLUMNS describes
// it.
type Column struct {
	Name       string
	DataType   string // DATA_TYPE, lower case: "bigint", "varchar"
	ColumnType string // COLUMN_TYPE: "bigint(20) unsigned"
	Nullable   bool
	Charset    string // CHARACTER_SET_NAME; "" for non-text columns
	Collation  string
	Precision  int // NUMERIC_PRECISION (DECIMAL)
	Scale      int // NUMERIC_SCALE (DECIMAL)
	Extra      string
	// Generated is "STORED" or "VIRTUAL" for generated columns, else "".
	Generated string
	// SystemTime is "ROW START" or "ROW END" for the system-time columns
	// of a system-versioned table (named, or the implicit row_start and
	// row_end): the server generates them, but they are exported and
	// loaded as data (SPEC.md §7.7).
	SystemTime string
	// JSON marks a JSON column: MySQL's JSON type, or MariaDB's alias
	// (LONGTEXT with a json_valid() check).
	JSON bool
	Kind Kind
}

// Fsp is the fractional-seconds precision of a DATETIME, TIMESTAMP or TIME
// column, read from its COLUMN_TYPE ("datetime(3)"): 0 to 6.
func (c *Column) Fsp() int {
	t := c.ColumnType
	i := strings.IndexByte(t, '(')
	if i < 0 || i+2 >= len(t) || t[i+2] != ')' || t[i+1] < '0' || t[i+1] > '6' {
		return 0
	}
	return int(t[i+1] - '0')
}

// Unsigned reports an UNSIGNED numeric column.
func (c *Column) Unsigned() bool { return strings.Contains(strings.ToLower(c.ColumnType), "unsigned") }

// utf8Charsets are the character sets whose bytes are UTF-8, so their text
// maps to Arrow utf8. ascii is a subset of UTF-8.
var utf8Charsets = map[string]bool{"utf8mb4": true, "utf8mb3": true, "utf8": true, "ascii": true}

// Classify sets c.Kind from the column's type, or explains why the column
// cannot be exported.
func (c *Column) Classify() error {
	dt := strings.ToLower(c.DataType)
	u := c.Unsigned()
	pick := func(signed, unsigned Kind) Kind {
		if u {
			return unsigned
		}
		return signed
	}
	switch dt {
	case "tinyint":
		c.Kind = pick(KindInt8, KindUint8)
	case "smallint":
		c.Kind = pick(KindInt16, KindUint16)
	case "mediumint", "int", "integer":
		c.Kind = pick(KindInt32, KindUint32)
	case "bigint":
		c.Kind = pick(KindInt64, KindUint64)
	case "decimal", "numeric":
		if c.Precision <= 0 || c.Precision > 76 || c.Scale < 0 || c.Scale > c.Precision {
			return fmt.Errorf("column %s: DECIMAL precision %d scale %d out of range", c.Name, c.Precision, c.Scale)
		}
		if c.Precision <= 38 {
			c.Kind = KindDecimal128
		} else {
			c.Kind = KindDecimal256
		}
	case "float":
		c.Kind = KindFloat32
	case "double", "real", "double precision":
		c.Kind = KindFloat64
	case "bit":
		c.Kind = KindBit
	case "year":
		c.Kind = KindYear
	case "date":
		c.Kind = KindDate
	case "datetime":
		c.Kind = KindDatetime
	case "timestamp":
		c.Kind = KindTimestamp
	case "time":
		c.Kind = KindTime
	case "json":
		c.JSON = true
		c.Kind = KindString
	case "char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set":
		if utf8Charsets[strings.ToLower(c.Charset)] {
			c.Kind = KindString
		} else {
			c.Kind = KindBinary
		}
		if c.JSON && c.Kind != KindString {
			c.JSON = false
		}
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob",
		"geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon", "geometrycollection":
		c.Kind = KindBinary
	case "uuid", "inet4", "inet6":
		// MariaDB's typed strings: they read and load as their text form.
		c.Kind = KindString
	default:
		return fmt.Errorf("column %s has type %s, which imbundle does not map yet; export the other tables with --tables, or cast this column in a view-backed copy", c.Name, c.ColumnType)
	}
	return nil
}

// Engine is the spec.Source.Engine of MySQL and MariaDB sources.
const Engine = "mysql"

// LegacyProgressTable is where earlier versions of the importer kept their
// progress, in each target database (the state schema replaced it); the
// exporter still leaves it out, so that a target imported into by such a
// version exports as its source did.
const LegacyProgressTable = "imbundle_progress"
