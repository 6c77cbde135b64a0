package mysql

import (
	"context"
	"database/sql/driver"
	"encoding/hex"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/mysqltype"
	"github.com/imbundle/imbundle/spec"
)

// Continuing a table after a key (exporter.ResumeReader): a resumed
// export keeps the parts a killed run finished and reads
// "... WHERE (filter) AND (k1 > ? OR (k1 = ? AND k2 > ?) ...) ORDER BY k1,
// k2" in its snapshot. (MariaDB walks a row comparison "(k1, k2) > (?, ?)"
// over the whole index; the OR form is a range.) The key is the last kept
// part's key_range, text from bundle.KeyString: each value is parsed back
// for its column's type and accepted only if it renders to the same text
// again, so the bound key is exactly the one read; a type this cannot do
// that for (floats, BIT, YEAR, TIME, ENUM and SET, which sort by number,
// JSON, MariaDB's UUID and INET types, text in a non-UTF-8 character set)
// is refused, and the table read from its start.

// keyBound is the condition selecting the rows after a key, and its
// arguments.
type keyBound struct {
	cond string
	args []driver.NamedValue
}

// CanReadAfter says why ReadAfter cannot continue ds after the key after
// ("" if it can); after nil asks about ds's key types only.
func (s *Source) CanReadAfter(ds *spec.Dataset, after []string) string {
	t, why := s.continuedTable(ds)
	if why != "" {
		return why
	}
	if after == nil {
		for _, k := range t.pk {
			if why := keyTypeRefused(t.column(k)); why != "" {
				return why
			}
		}
		return ""
	}
	_, err := boundAfter(t, after)
	if err != nil {
		return err.Error()
	}
	return ""
}

func (s *Source) continuedTable(ds *spec.Dataset) (*table, string) {
	s.mu.Lock()
	snap := s.snap
	t := s.tables[s.database(ds)+"."+ds.Object]
	s.mu.Unlock()
	switch {
	case snap == nil || t == nil:
		return nil, "the table is not read in an export's snapshot"
	case len(t.pk) == 0:
		return nil, "the table has no primary key"
	case t.systemTime:
		return nil, "the table is system-versioned"
	}
	return t, ""
}

// ReadAfter is Read of the rows of ds whose primary key is greater than
// after, in the export's snapshot.
func (s *Source) ReadAfter(ctx context.Context, ds *spec.Dataset, after []string, emit func(arrow.RecordBatch) error) error {
	t, why := s.continuedTable(ds)
	if why != "" {
		return fmt.Errorf("dataset %q: cannot read after a key: %s", ds.Name, why)
	}
	b, err := boundAfter(t, after)
	if err != nil {
		return fmt.Errorf("dataset %q: %w", ds.Name, err)
	}
	if t.empty {
		return nil
	}
	conn, err := s.snap.acquire(ctx)
	if err != nil {
		return err
	}
	defer s.snap.release(conn)
	return s.stream(ctx, conn, t, b, emit)
}

// boundAfter is the condition selecting t's rows after the key after.
func boundAfter(t *table, after []string) (*keyBound, error) {
	if len(after) != len(t.pk) {
		return nil, fmt.Errorf("the key %q has %d values, the table's primary key %d columns", after, len(after), len(t.pk))
	}
	exprs := make([]string, len(t.pk))
	vals := make([]driver.Value, len(t.pk))
	for i, k := range t.pk {
		c := t.column(k)
		e, v, err := keyValue(c, t.schema.Field(t.schema.FieldIndices(k)[0]).Type, after[i])
		if err != nil {
			return nil, fmt.Errorf("key column %s value %q: %w", k, after[i], err)
		}
		exprs[i], vals[i] = e, v
	}
	b := &keyBound{}
	var ors []string
	for i := range t.pk {
		var ands []string
		for j := 0; j <= i; j++ {
			op := " = "
			if j == i {
				op = " > "
			}
			ands = append(ands, mysqltype.QuoteIdent(t.pk[j])+op+exprs[j])
			b.args = append(b.args, driver.NamedValue{Ordinal: len(b.args) + 1, Value: vals[j]})
		}
		ors = append(ors, "("+strings.Join(ands, " AND ")+")")
	}
	b.cond = "(" + strings.Join(ors, " OR ") + ")"
	return b, nil
}

// keyTypeRefused says why a key column of c's type cannot be bound back
// from its key_range text, or "".
func keyTypeRefused(c *mysqltype.Column) string {
	if c == nil {
		return "a key column is not among the table's columns"
	}
	dt := strings.ToLower(c.DataType)
	switch c.Kind {
	case mysqltype.KindInt8, mysqltype.KindInt16, mysqltype.KindInt32, mysqltype.KindInt64,
		mysqltype.KindUint8, mysqltype.KindUint16, mysqltype.KindUint32, mysqltype.KindUint64,
		mysqltype.KindDecimal128, mysqltype.KindDate, mysqltype.KindDatetime, mysqltype.KindTimestamp:
		return ""
	case mysqltype.KindString:
		switch dt {
		case "char", "varchar", "tinytext", "text", "mediumtext", "longtext":
			if !c.JSON {
				return ""
			}
		}
	case mysqltype.KindBinary:
		switch dt {
		case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob":
			return ""
		}
	}
	return fmt.Sprintf("key column %s is of type %s, which a resumed export does not bind back from its key text", c.Name, c.ColumnType)
}

// keyValue parses s, a key value as bundle.KeyString rendered it for a
// column c of Arrow type typ, into the SQL expression and argument that
// bind it, and checks that the value renders to s again.
func keyValue(c *mysqltype.Column, typ arrow.DataType, s string) (string, driver.Value, error) {
	if why := keyTypeRefused(c); why != "" {
		return "", nil, fmt.Errorf("%s", why)
	}
	b := array.NewBuilder(memory.DefaultAllocator, typ)
	defer b.Release()
	expr := "?"
	var v driver.Value
	var err error
	switch bb := b.(type) {
	case *array.Int8Builder, *array.Int16Builder, *array.Int32Builder, *array.Int64Builder:
		var n int64
		if n, err = strconv.ParseInt(s, 10, 64); err == nil {
			v = n
			appendInt(b, n)
		}
	case *array.Uint8Builder, *array.Uint16Builder, *array.Uint32Builder, *array.Uint64Builder:
		var n uint64
		if n, err = strconv.ParseUint(s, 10, 64); err == nil {
			v = n
			appendUint(b, n)
		}
	case *array.Decimal128Builder:
		dt := typ.(*arrow.Decimal128Type)
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			return "", nil, fmt.Errorf("not a decimal")
		}
		unscaled := new(big.Rat).Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(dt.Scale)), nil)))
		if !unscaled.IsInt() {
			return "", nil, fmt.Errorf("more decimals than the column's scale %d", dt.Scale)
		}
		n, err := decimal128FromBig(unscaled.Num())
		if err != nil {
			return "", nil, err
		}
		bb.Append(n)
		v = r.FloatString(int(dt.Scale))
		expr = fmt.Sprintf("CAST(? AS DECIMAL(%d, %d))", dt.Precision, dt.Scale)
	case *array.StringBuilder:
		bb.Append(s)
		v = s
	case *array.LargeStringBuilder:
		bb.Append(s)
		v = s
	case *array.BinaryBuilder:
		var raw []byte
		if !strings.HasPrefix(s, "0x") {
			return "", nil, fmt.Errorf("not 0x-hex")
		}
		if raw, err = hex.DecodeString(s[2:]); err == nil {
			bb.Append(raw)
			v = raw
		}
	case *array.Date32Builder:
		var d time.Time
		if d, err = time.Parse("2006-01-02", s); err == nil {
			bb.Append(arrow.Date32FromTime(d))
			v = s
			expr = "CAST(? AS DATE)"
		}
	case *array.TimestampBuilder:
		tt := typ.(*arrow.TimestampType)
		layout := time.RFC3339Nano
		if tt.TimeZone == "" {
			layout = "2006-01-02T15:04:05.999999999"
		}
		var ts time.Time
		if ts, err = time.Parse(layout, s); err == nil {
			if ts.Year() < 1000 || ts.Year() > 9999 {
				return "", nil, fmt.Errorf("year %d is outside MySQL's DATETIME range", ts.Year())
			}
			var at arrow.Timestamp
			if at, err = arrow.TimestampFromTime(ts, tt.Unit); err == nil {
				bb.Append(at)
				v = ts.UTC().Format("2006-01-02 15:04:05.000000")
				expr = "CAST(? AS DATETIME(6))"
			}
		}
	default:
		return "", nil, fmt.Errorf("its Arrow type %s is not one a resumed export binds back", typ)
	}
	if err != nil {
		return "", nil, err
	}
	arr := b.NewArray()
	defer arr.Release()
	if arr.Len() != 1 || bundle.KeyString(arr, 0) != s {
		return "", nil, fmt.Errorf("it does not render back to the same text")
	}
	return expr, v, nil
}

func appendInt(b array.Builder, n int64) {
	switch bb := b.(type) {
	case *array.Int8Builder:
		bb.Append(int8(n))
	case *array.Int16Builder:
		bb.Append(int16(n))
	case *array.Int32Builder:
		bb.Append(int32(n))
	case *array.Int64Builder:
		bb.Append(n)
	}
}

func appendUint(b array.Builder, n uint64) {
	switch bb := b.(type) {
	case *array.Uint8Builder:
		bb.Append(uint8(n))
	case *array.Uint16Builder:
		bb.Append(uint16(n))
	case *array.Uint32Builder:
		bb.Append(uint32(n))
	case *array.Uint64Builder:
		bb.Append(n)
	}
}

// decimal128FromBig is n as a Decimal128, refusing one that does not fit.
func decimal128FromBig(n *big.Int) (decimal128.Num, error) {
	d := decimal128.FromBigInt(n)
	if d.BigInt().Cmp(n) != 0 {
		return d, fmt.Errorf("out of a DECIMAL's range")
	}
	return d, nil
}
