package convert

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"github.com/imbundle/imbundle/internal/mysqltype"
	"github.com/imbundle/imbundle/spec"
)

// rowFilter is a mapping entry's filter, compiled against a table
// dataset's columns. Expressions are github.com/expr-lang/expr: a small,
// maintained, side-effect-free language that compiles once and type-checks
// names against the row, so a misspelt column is an error at the filter's
// line before anything is written.
//
// The row's fields, by column name: integers as int (a BIGINT UNSIGNED
// above 2^63-1 as float64), FLOAT, DOUBLE and DECIMAL as float64 (filters
// compare approximately; the value converted is exact), text and bytes as
// string, DATE, DATETIME and TIMESTAMP as time.Time (UTC), TIME as a
// duration, NULL (and a zero date) as nil. Names are checked when the
// filter compiles, types when it runs: "status == 1" is false for a NULL
// status, "status > 1" fails on it, and a row it fails on is a reject with
// the error, never dropped.
type rowFilter struct {
	prog *vm.Program
	cols []filterCol
	env  map[string]any
}

type filterCol struct {
	name string
	idx  int
	raw  int // the #raw companion's index, -1 if none
}

func newRowFilter(d *DatasetRule, ds *spec.Dataset) (*rowFilter, error) {
	f := &rowFilter{env: map[string]any{}}
	sample := map[string]any{}
	for i, c := range ds.Columns {
		if c.Metadata[mysqltype.MetaRawOf] != "" {
			continue
		}
		fc := filterCol{name: c.Name, idx: i, raw: -1}
		for j, o := range ds.Columns {
			if o.Name == c.Metadata[mysqltype.MetaRawColumn] && o.Name != "" {
				fc.raw = j
			}
		}
		f.cols = append(f.cols, fc)
		sample[c.Name] = nil // names are checked, types at run time: any field may be NULL
	}
	prog, err := expr.Compile(d.Filter, expr.Env(sample), expr.AsBool())
	if err != nil {
		return nil, d.errorAt("filter", "%s", strings.ReplaceAll(err.Error(), "\n", " "))
	}
	f.prog = prog
	return f, nil
}

// keep evaluates the filter on row i; an error (a NULL where the expression
// wants a number, say) is the row's, for the caller to reject.
func (f *rowFilter) keep(rec arrow.RecordBatch, i int) (bool, error) {
	for _, c := range f.cols {
		f.env[c.name] = filterValue(rec.Column(c.idx), i)
	}
	out, err := expr.Run(f.prog, f.env)
	if err != nil {
		return false, err
	}
	keep, _ := out.(bool)
	return keep, nil
}

func filterValue(col arrow.Array, i int) any {
	if col.IsNull(i) {
		return nil
	}
	switch a := col.(type) {
	case *array.Int8:
		return int(a.Value(i))
	case *array.Int16:
		return int(a.Value(i))
	case *array.Int32:
		return int(a.Value(i))
	case *array.Int64:
		return int(a.Value(i))
	case *array.Uint8:
		return int(a.Value(i))
	case *array.Uint16:
		return int(a.Value(i))
	case *array.Uint32:
		return int(a.Value(i))
	case *array.Uint64:
		if v := a.Value(i); v <= math.MaxInt64 {
			return int(v)
		} else {
			return float64(v)
		}
	case *array.Float32:
		return float64(a.Value(i))
	case *array.Float64:
		return a.Value(i)
	case *array.Decimal128:
		return a.Value(i).ToFloat64(a.DataType().(*arrow.Decimal128Type).Scale)
	case *array.Decimal256:
		return a.Value(i).ToFloat64(a.DataType().(*arrow.Decimal256Type).Scale)
	case *array.Date32:
		return a.Value(i).ToTime()
	case *array.Timestamp:
		return a.Value(i).ToTime(a.DataType().(*arrow.TimestampType).Unit).UTC()
	case *array.Duration:
		d := time.Duration(a.Value(i))
		switch a.DataType().(*arrow.DurationType).Unit {
		case arrow.Second:
			d *= time.Second
		case arrow.Millisecond:
			d *= time.Millisecond
		case arrow.Microsecond:
			d *= time.Microsecond
		}
		return d
	case *array.LargeString:
		return a.Value(i)
	case *array.String:
		return a.Value(i)
	case *array.LargeBinary:
		return string(a.Value(i))
	case *array.Binary:
		return string(a.Value(i))
	}
	return fmt.Sprint(col.GetOneForMarshal(i))
}
