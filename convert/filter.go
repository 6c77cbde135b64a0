package convert

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/parser"
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
	env  *rowEnv
}

// rowEnv is the row's fields by column name, for the expressions of one
// mapping entry (its filter and computed fields). It is shared by the
// parts a conversion reads at once and never changes; each part binds rows
// in a rowVals of its own.
type rowEnv struct {
	cols   []filterCol
	sample map[string]any // for compiling: every name, typed at run time
}

// rowVals is one part's binding of a rowEnv.
type rowVals struct {
	vals  map[string]any
	bound int64 // the row bound last, -1 for none
}

type filterCol struct {
	name string
	idx  int
}

func newRowEnv(ds *spec.Dataset) *rowEnv {
	e := &rowEnv{sample: map[string]any{}}
	for i, c := range ds.Columns {
		if c.Metadata[mysqltype.MetaRawOf] != "" {
			continue
		}
		e.cols = append(e.cols, filterCol{name: c.Name, idx: i})
		e.sample[c.Name] = nil // names are checked, types at run time: any field may be NULL
	}
	return e
}

// bind sets v to row i of rec (row numbers it within the part), so that
// the filter and the computed fields of one row bind it once.
func (e *rowEnv) bind(v *rowVals, rec arrow.RecordBatch, i int, row int64) map[string]any {
	if v.vals == nil {
		v.vals, v.bound = map[string]any{}, -1
	}
	if v.bound != row {
		for _, c := range e.cols {
			v.vals[c.name] = filterValue(rec.Column(c.idx), i)
		}
		v.bound = row
	}
	return v.vals
}

// compile compiles an expression of the entry's key against the row's
// fields; a mistake is an error at the key's line. Names are checked here,
// types when it runs: expr's type checker would refuse "name + '/'" and
// "deleted_at == nil" for fields it cannot type ahead (any may be NULL),
// so the program is compiled untyped and its identifiers are checked
// against the columns by walking its syntax tree.
func (e *rowEnv) compile(d *DatasetRule, key, src string, opts ...expr.Option) (*vm.Program, error) {
	known := func(n string) bool { _, ok := e.sample[n]; return ok || docFunctionNames[n] }
	prog, _, err := compileNamed(d, key, src, known, "the row's fields are its columns", docOptions(opts...)...)
	return prog, err
}

// compileNamed compiles an expression of the entry's key, untyped, after
// checking that every name it reads is known (or a builtin); it returns
// the names read, each once. hint says what the names are, for the error.
func compileNamed(d *DatasetRule, key, src string, known func(string) bool, hint string, opts ...expr.Option) (*vm.Program, []string, error) {
	fail := func(err error) error { return d.errorAt(key, "%s", strings.ReplaceAll(err.Error(), "\n", " ")) }
	tree, err := parser.Parse(src)
	if err != nil {
		return nil, nil, fail(err)
	}
	names := &identifiers{}
	ast.Walk(&tree.Node, names)
	var used []string
	seen := map[string]bool{}
	for _, n := range names.used {
		if names.declared[n] {
			continue // a let variable of the expression
		}
		if isBuiltin(n) && !known(n) {
			continue
		}
		if !known(n) {
			return nil, nil, d.errorAt(key, "unknown name %s (%s)", n, hint)
		}
		if !seen[n] {
			seen[n] = true
			used = append(used, n)
		}
	}
	prog, err := expr.Compile(src, opts...)
	if err != nil {
		return nil, nil, fail(err)
	}
	return prog, used, nil
}

// identifiers collects the names an expression reads, other than the
// functions it calls.
type identifiers struct {
	used     []string
	callees  map[ast.Node]bool
	declared map[string]bool // names of let declarations
}

func (v *identifiers) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.CallNode:
		if v.callees == nil {
			v.callees = map[ast.Node]bool{}
		}
		v.callees[n.Callee] = true
	case *ast.VariableDeclaratorNode:
		if v.declared == nil {
			v.declared = map[string]bool{}
		}
		v.declared[n.Name] = true
	case *ast.IdentifierNode:
		if !v.callees[n] {
			v.used = append(v.used, n.Value)
		}
	}
}

func isBuiltin(name string) bool {
	for _, f := range builtin.Builtins {
		if f.Name == name {
			return true
		}
	}
	return false
}

func newRowFilter(d *DatasetRule, env *rowEnv) (*rowFilter, error) {
	prog, err := env.compile(d, "filter", d.Filter, expr.AsBool())
	if err != nil {
		return nil, err
	}
	return &rowFilter{prog: prog, env: env}, nil
}

// keep evaluates the filter on row i; an error (a NULL where the expression
// wants a number, say) is the row's, for the caller to reject.
func (f *rowFilter) keep(v *rowVals, rec arrow.RecordBatch, i int, row int64) (bool, error) {
	out, err := expr.Run(f.prog, f.env.bind(v, rec, i, row))
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
