package mysqltype

import (
	"database/sql/driver"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/imbundle/imbundle/bundle"
)

// Decoder turns rows read through the binary protocol (server-side prepared
// statements; go-sql-driver's driver.Value forms) into Arrow record batches.
// Text arrives as the stored bytes (character_set_results=binary).
type Decoder struct {
	schema *arrow.Schema
	rb     *array.RecordBuilder
	apps   []func(driver.Value) (int, error) // per column: append, return bytes
	names  []string
	rows   int
	bytes  int64
}

// NewDecoder prepares builders for cols, whose fields (Fields) make schema.
func NewDecoder(cols []Column, schema *arrow.Schema, mem memory.Allocator) (*Decoder, error) {
	d := &Decoder{schema: schema, rb: array.NewRecordBuilder(mem, schema)}
	f := 0
	for i := range cols {
		c := &cols[i]
		if schema.Field(f).Name != c.Name {
			return nil, fmt.Errorf("schema field %d is %s, want column %s", f, schema.Field(f).Name, c.Name)
		}
		var raw *array.BinaryBuilder
		if c.Kind.IsDate() {
			var ok bool
			if raw, ok = bundle.VarLenBuilder(d.rb.Field(f + 1)); !ok {
				return nil, fmt.Errorf("raw companion of column %s is %s, want large_utf8", c.Name, schema.Field(f+1).Type)
			}
		}
		app, err := appender(c, d.rb.Field(f), raw)
		if err != nil {
			return nil, err
		}
		d.apps = append(d.apps, app)
		d.names = append(d.names, c.Name)
		f++
		if raw != nil {
			f++
		}
	}
	if f != schema.NumFields() {
		return nil, fmt.Errorf("schema has %d fields, columns make %d", schema.NumFields(), f)
	}
	return d, nil
}

// Append adds one row: vals holds one value per column, in column order.
func (d *Decoder) Append(vals []driver.Value) error {
	for i, v := range vals {
		n, err := d.apps[i](v)
		if err != nil {
			return fmt.Errorf("column %s: %w", d.names[i], err)
		}
		d.bytes += int64(n)
	}
	d.rows++
	return nil
}

// Rows and Bytes count what was appended since the last Flush; Bytes
// approximates the Arrow buffer size, the measure batches are cut by.
func (d *Decoder) Rows() int             { return d.rows }
func (d *Decoder) Bytes() int64          { return d.bytes }
func (d *Decoder) Release()              { d.rb.Release() }
func (d *Decoder) Schema() *arrow.Schema { return d.schema }

// Flush returns the rows appended so far as a record batch (the caller
// releases it) and starts a new one.
func (d *Decoder) Flush() arrow.RecordBatch {
	d.rows, d.bytes = 0, 0
	return d.rb.NewRecordBatch()
}

func asBytes(v driver.Value) ([]byte, bool) {
	switch x := v.(type) {
	case []byte:
		return x, true
	case string:
		return []byte(x), true
	}
	return nil, false
}

// asInt64 accepts the driver's int64 and, for BIGINT UNSIGNED above
// MaxInt64, its decimal text.
func asInt64(v driver.Value) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case []byte:
		n, err := strconv.ParseInt(string(x), 10, 64)
		return n, err == nil
	}
	return 0, false
}

func asUint64(v driver.Value) (uint64, bool) {
	switch x := v.(type) {
	case int64:
		return uint64(x), x >= 0
	case uint64:
		return x, true
	case []byte:
		n, err := strconv.ParseUint(string(x), 10, 64)
		return n, err == nil
	}
	return 0, false
}

func appender(c *Column, b array.Builder, raw *array.BinaryBuilder) (func(driver.Value) (int, error), error) {
	null := func() (int, error) {
		b.AppendNull()
		if raw != nil {
			raw.AppendNull()
		}
		return 1, nil
	}
	signed := func(min, max int64, app func(int64)) func(driver.Value) (int, error) {
		return func(v driver.Value) (int, error) {
			if v == nil {
				return null()
			}
			n, ok := asInt64(v)
			if !ok || n < min || n > max {
				return 0, errValue(c.ColumnType, v)
			}
			app(n)
			return 8, nil
		}
	}
	unsigned := func(max uint64, app func(uint64)) func(driver.Value) (int, error) {
		return func(v driver.Value) (int, error) {
			if v == nil {
				return null()
			}
			n, ok := asUint64(v)
			if !ok || n > max {
				return 0, errValue(c.ColumnType, v)
			}
			app(n)
			return 8, nil
		}
	}
	switch c.Kind {
	case KindInt8:
		bb := b.(*array.Int8Builder)
		return signed(math.MinInt8, math.MaxInt8, func(n int64) { bb.Append(int8(n)) }), nil
	case KindInt16:
		bb := b.(*array.Int16Builder)
		return signed(math.MinInt16, math.MaxInt16, func(n int64) { bb.Append(int16(n)) }), nil
	case KindInt32:
		bb := b.(*array.Int32Builder)
		return signed(math.MinInt32, math.MaxInt32, func(n int64) { bb.Append(int32(n)) }), nil
	case KindInt64:
		bb := b.(*array.Int64Builder)
		return signed(math.MinInt64, math.MaxInt64, bb.Append), nil
	case KindUint8:
		bb := b.(*array.Uint8Builder)
		return unsigned(math.MaxUint8, func(n uint64) { bb.Append(uint8(n)) }), nil
	case KindUint16, KindYear:
		bb := b.(*array.Uint16Builder)
		return unsigned(math.MaxUint16, func(n uint64) { bb.Append(uint16(n)) }), nil
	case KindUint32:
		bb := b.(*array.Uint32Builder)
		return unsigned(math.MaxUint32, func(n uint64) { bb.Append(uint32(n)) }), nil
	case KindUint64:
		bb := b.(*array.Uint64Builder)
		return unsigned(math.MaxUint64, bb.Append), nil
	case KindBit:
		bb := b.(*array.Uint64Builder)
		return func(v driver.Value) (int, error) {
			if v == nil {
				return null()
			}
			// BIT(n) arrives as ceil(n/8) big-endian bytes.
			p, ok := asBytes(v)
			if !ok || len(p) > 8 {
				return 0, errValue(c.ColumnType, v)
			}
			var buf [8]byte
			copy(buf[8-len(p):], p)
			bb.Append(binary.BigEndian.Uint64(buf[:]))
			return 8, nil
		}, nil
	case KindFloat32:
		bb := b.(*array.Float32Builder)
		return func(v driver.Value) (int, error) {
			switch x := v.(type) {
			case nil:
				return null()
			case float32:
				bb.Append(x)
				return 4, nil
			}
			// Only the binary protocol carries a FLOAT's exact bits; text
			// ("3.40282e38") would lose them.
			return 0, fmt.Errorf("FLOAT value arrived as %T, not float32 (read through a prepared statement)", v)
		}, nil
	case KindFloat64:
		bb := b.(*array.Float64Builder)
		return func(v driver.Value) (int, error) {
			switch x := v.(type) {
			case nil:
				return null()
			case float64:
				bb.Append(x)
				return 8, nil
			}
			return 0, fmt.Errorf("DOUBLE value arrived as %T, not float64 (read through a prepared statement)", v)
		}, nil
	case KindDecimal128:
		bb := b.(*array.Decimal128Builder)
		return func(v driver.Value) (int, error) {
			if v == nil {
				return null()
			}
			p, ok := asBytes(v)
			if !ok {
				return 0, errValue(c.ColumnType, v)
			}
			l, err := parseDecimal(p, c.Scale)
			if err != nil {
				return 0, err
			}
			bb.Append(decimal128Of(l))
			return 16, nil
		}, nil
	case KindDecimal256:
		bb := b.(*array.Decimal256Builder)
		return func(v driver.Value) (int, error) {
			if v == nil {
				return null()
			}
			p, ok := asBytes(v)
			if !ok {
				return 0, errValue(c.ColumnType, v)
			}
			l, err := parseDecimal(p, c.Scale)
			if err != nil {
				return 0, err
			}
			bb.Append(decimal256Of(l))
			return 32, nil
		}, nil
	case KindDate, KindDatetime, KindTimestamp:
		return dateAppender(c, b, raw, null)
	case KindTime:
		bb := b.(*array.DurationBuilder)
		per := usPer(bb.Type().(*arrow.DurationType).Unit)
		if per == 0 {
			return nil, fmt.Errorf("column %s: duration unit %s is finer than MySQL's microseconds", c.Name, bb.Type())
		}
		return func(v driver.Value) (int, error) {
			if v == nil {
				return null()
			}
			p, ok := asBytes(v)
			if !ok {
				return 0, errValue(c.ColumnType, v)
			}
			us, ok := parseTime(p)
			if !ok || us%per != 0 {
				return 0, errValue(c.ColumnType, v)
			}
			bb.Append(arrow.Duration(us / per))
			return 8, nil
		}, nil
	case KindString, KindBinary:
		bb, ok := bundle.VarLenBuilder(b)
		if !ok {
			return nil, fmt.Errorf("column %s: Arrow type %s is no string or binary type", c.Name, b.Type())
		}
		return func(v driver.Value) (int, error) {
			if v == nil {
				return null()
			}
			p, ok := asBytes(v)
			if !ok {
				return 0, errValue(c.ColumnType, v)
			}
			bb.Append(p)
			return len(p) + 8, nil
		}, nil
	}
	return nil, fmt.Errorf("column %s: no decoder for kind %d", c.Name, c.Kind)
}

// dateAppender writes real dates to the typed column (raw NULL) and zero,
// partial or otherwise invalid dates as NULL with their text in raw.
func dateAppender(c *Column, b array.Builder, raw *array.BinaryBuilder, null func() (int, error)) (func(driver.Value) (int, error), error) {
	var put func(n int64)
	parse := parseDatetime
	per := int64(1) // parse's units in one of the column's
	switch bb := b.(type) {
	case *array.Date32Builder:
		put = func(days int64) { bb.Append(arrow.Date32(days)) }
		parse = parseDate
	case *array.TimestampBuilder:
		per = usPer(bb.Type().(*arrow.TimestampType).Unit)
		put = func(us int64) { bb.Append(arrow.Timestamp(us / per)) }
	}
	if put == nil || per == 0 {
		return nil, fmt.Errorf("column %s: no date decoder for Arrow type %s", c.Name, b.Type())
	}
	return func(v driver.Value) (int, error) {
		if v == nil {
			return null()
		}
		p, ok := asBytes(v)
		if !ok {
			return 0, errValue(c.ColumnType, v)
		}
		n, real, ok := parse(p)
		if !ok || (real && n%per != 0) {
			return 0, errValue(c.ColumnType, v)
		}
		if real {
			put(n)
			raw.AppendNull()
			return 9, nil
		}
		b.AppendNull()
		raw.Append(p)
		return 9 + len(p), nil
	}, nil
}
