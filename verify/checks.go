package verify

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"path"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/convert"
	"github.com/imbundle/imbundle/internal/extsort"
	"github.com/imbundle/imbundle/internal/mongotype"
	"github.com/imbundle/imbundle/internal/redistype"
	"github.com/imbundle/imbundle/spec"
)

// CheckResult is how one of a mapping's checks (SPEC.md §11.6, "Checks")
// holds in the bundle's rows.
type CheckResult struct {
	Name       string   `json:"name"`
	Kind       string   `json:"kind"`
	Where      string   `json:"where"` // FILE:LINE:COLUMN of the check
	Rows       int64    `json:"rows"`  // rows (values, for a relation) checked
	Violations int64    `json:"violations"`
	First      []string `json:"first_violations,omitempty"` // the first violating keys, in key order, with their values
	// Skipped says why the check was not run: no dataset of the bundle
	// matches one of its globs, or those that match gave it no value.
	Skipped string `json:"skipped,omitempty"`
}

// firstViolations is how many violations a check names.
const firstViolations = 5

// Checks evaluates the mapping's checks over the bundle's rows, offline.
// Each check is one or two external sorts (bounded memory, runs spilled
// under o.TempDir) and one merge. Violations are results, never errors; an
// error is a check that cannot run as written (a column its datasets lack,
// an expression that fails on every kind of value), at its FILE:LINE:COLUMN.
func Checks(ctx context.Context, r *bundle.Reader, m *convert.Mapping, o RelationOptions, each func(CheckResult)) ([]CheckResult, error) {
	return runChecks(newChecker(ctx, withProgress(bundleRows{r}, o.Progress), o), m, each)
}

// runChecks evaluates m's checks over c's rows.
func runChecks(c *checker, m *convert.Mapping, each func(CheckResult)) ([]CheckResult, error) {
	var out []CheckResult
	for _, ch := range m.AllChecks() {
		res := CheckResult{Name: ch.Name, Kind: ch.Kind(), Where: ch.Where("name")}
		checking(c.in, "check "+ch.Name)
		var err error
		switch res.Kind {
		case "relation":
			err = c.relation(ch, &res)
		case "unique":
			err = c.unique(ch, &res)
		case "compare":
			err = c.compare(ch, &res)
		default:
			err = c.increasing(ch, &res)
		}
		if err != nil {
			return out, asCheckError(ch.Name, err)
		}
		if res.Skipped == "" && res.Rows == 0 {
			// A check that read nothing proved nothing: its datasets are
			// empty, or their rows lack its columns (a check written for
			// another layout than the one it was run on). Saying "ok" here
			// would pass a target the check never looked at.
			res.Skipped = "no row of the datasets its globs match had a value to check (they are empty, or not of the layout the check was written for)"
		}
		if each != nil {
			each(res)
		}
		out = append(out, res)
	}
	return out, nil
}

type checker struct {
	ctx    context.Context
	in     rowsOf
	o      RelationOptions
	engine map[string]string
}

func newChecker(ctx context.Context, in rowsOf, o RelationOptions) *checker {
	c := &checker{ctx: ctx, in: in, o: o, engine: map[string]string{}}
	for _, s := range in.manifest().Sources {
		c.engine[s.ID] = s.Engine
	}
	return c
}

// sides are the datasets an end's glob matches (Redis keyspaces have no
// columns and are left out); none sets res.Skipped.
func (c *checker) sides(e convert.CheckEnd, res *CheckResult) []side {
	var out []side
	man := c.in.manifest()
	for i := range man.Datasets {
		ds := &man.Datasets[i]
		// A keys end reads keyspaces only (not a Redis source's other
		// datasets, such as its stream state); other ends no Redis data.
		isKeys := c.engine[ds.Source] == "redis" && ds.Kind == spec.KindKeyspace && ds.Options["layout"] != redistype.GroupsLayoutName
		if ok, _ := path.Match(e.Glob, ds.Name); ok && (c.engine[ds.Source] != "redis" && e.Keys == nil || isKeys && e.Keys != nil) {
			out = append(out, side{ds, c.engine[ds.Source]})
		}
	}
	if len(out) == 0 && res.Skipped == "" {
		of := "the bundle"
		if _, ok := c.in.(*targetRows); ok {
			of = "the database"
		}
		res.Skipped = "no table or collection of " + of + " matches " + e.Glob
		if e.Keys != nil {
			res.Skipped = "no Redis keyspace of " + of + " matches " + e.Glob
		}
	}
	return out
}

func (c *checker) relation(ch *convert.Check, res *CheckResult) error {
	from, err := ch.End("relation.from")
	if err != nil {
		return err
	}
	to, err := ch.End("relation.to")
	if err != nil {
		return err
	}
	fs, ts := c.sides(from, res), c.sides(to, res)
	if res.Skipped != "" {
		return nil
	}
	rr := RelationResult{}
	if from.Keys == nil && to.Keys == nil && from.Compute == nil && to.Compute == nil {
		err = checkRelation(c.ctx, c.in, c.o, &rr, fs, from.Columns, ts, to.Columns)
	} else {
		err = c.keysRelation(ch, from, fs, to, ts, &rr)
	}
	if err != nil {
		return fmt.Errorf("%s: check %s: %w", ch.Where("name"), ch.Name, err)
	}
	if rr.Skipped != "" {
		return ch.ErrorAt("relation", "check %s: %s", ch.Name, rr.Skipped)
	}
	res.Rows, res.Violations, res.First = rr.Values, rr.Orphans, rr.First
	return nil
}

// keysRelation is a relation with a keys end: the values are sorted from
// the rows rows() gives, and merged as any relation's.
func (c *checker) keysRelation(ch *convert.Check, from convert.CheckEnd, fs []side, to convert.CheckEnd, ts []side, rr *RelationResult) error {
	toSort := extsort.New(c.o.TempDir, c.o.Memory)
	defer toSort.Close()
	fromSort := extsort.New(c.o.TempDir, c.o.Memory)
	defer fromSort.Close()
	if err := c.rows(ch, "relation.to", to, ts, nil, func(k []byte, _ func(string) any) error { return toSort.Add(k, nil) }); err != nil {
		return err
	}
	if err := c.rows(ch, "relation.from", from, fs, nil, func(k []byte, _ func(string) any) error {
		rr.Values++
		return fromSort.Add(k, nil)
	}); err != nil {
		return err
	}
	return mergeOrphans(fromSort, toSort, rr)
}

func (c *checker) unique(ch *convert.Check, res *CheckResult) error {
	of, err := ch.End("unique.of")
	if err != nil {
		return err
	}
	sides := c.sides(of, res)
	if res.Skipped != "" {
		return nil
	}
	var filter *vm.Program
	var fields []string
	if ch.Unique.Filter != "" {
		if filter, fields, err = ch.Compile("unique.filter", ch.Unique.Filter, knownColumns(of, sides)); err != nil {
			return err
		}
	}
	s := extsort.New(c.o.TempDir, c.o.Memory)
	defer s.Close()
	err = c.rows(ch, "unique.of", of, sides, fields, func(key []byte, get func(string) any) error {
		if filter != nil {
			ok, err := runBool(filter, fields, get, nil)
			if err != nil {
				return err
			}
			if !ok {
				return nil
			}
		}
		res.Rows++
		return s.Add(key, nil)
	})
	if err != nil {
		return err
	}
	it, err := s.Sort()
	if err != nil {
		return err
	}
	return eachGroup(it, func(key []byte, n int) {
		if n > 1 {
			res.violation(fmt.Sprintf("%s (%d rows)", tupleText(key), n))
		}
	})
}

func (c *checker) increasing(ch *convert.Check, res *CheckResult) error {
	of, err := ch.End("increasing.of")
	if err != nil {
		return err
	}
	sides := c.sides(of, res)
	if res.Skipped != "" {
		return nil
	}
	inc := ch.Increasing
	s := extsort.New(c.o.TempDir, c.o.Memory)
	defer s.Close()
	err = c.rows(ch, "increasing.of", of, sides, []string{inc.By, inc.Value}, func(key []byte, get func(string) any) error {
		by, v := get(inc.By), get(inc.Value)
		if by == nil || v == nil {
			return nil // as a NULL key: not checked
		}
		b, ok1 := by.(int)
		n, ok2 := v.(int)
		if !ok1 || !ok2 {
			return ch.ErrorAt("increasing", "check %s: %s and %s must be integer columns (got %T and %T)", ch.Name, inc.By, inc.Value, by, v)
		}
		res.Rows++
		// The order column joins the key in an encoding that sorts as
		// the integers do; the value rides along.
		k := binary.BigEndian.AppendUint64(append([]byte(nil), key...), uint64(b)^(1<<63))
		return s.Add(k, binary.AppendVarint(nil, int64(n)))
	})
	if err != nil {
		return err
	}
	it, err := s.Sort()
	if err != nil {
		return err
	}
	var group []byte
	var prev int64
	for {
		k, v, err := it.Next()
		if err != nil {
			if isEOF(err) {
				return nil
			}
			return err
		}
		g := k[:len(k)-8]
		n, _ := binary.Varint(v)
		by := int64(binary.BigEndian.Uint64(k[len(k)-8:]) ^ (1 << 63))
		if group != nil && string(g) == string(group) && n <= prev {
			res.violation(fmt.Sprintf("%s at %s=%d: %s=%d after %d", tupleText(g), inc.By, by, inc.Value, n, prev))
		}
		group, prev = append(group[:0], g...), n
	}
}

func (c *checker) compare(ch *convert.Check, res *CheckResult) error {
	left, err := ch.End("compare.left")
	if err != nil {
		return err
	}
	right, err := ch.End("compare.right")
	if err != nil {
		return err
	}
	ls, rs := c.sides(left, res), c.sides(right, res)
	if res.Skipped != "" {
		return nil
	}
	counts := ch.CountNames()
	progs := make([]*vm.Program, len(counts))
	fields := make([][]string, len(counts))
	var rightFields []string
	for i, n := range counts {
		if progs[i], fields[i], err = ch.Compile("compare.counts."+n, ch.Compare.Counts[n], knownColumns(right, rs)); err != nil {
			return err
		}
		rightFields = append(rightFields, fields[i]...)
	}
	maxes := ch.MaxNames()
	maxProgs := make([]*vm.Program, len(maxes))
	maxFields := make([][]string, len(maxes))
	for i, n := range maxes {
		if maxProgs[i], maxFields[i], err = ch.Compile("compare.max."+n, ch.Compare.Max[n], knownColumns(right, rs)); err != nil {
			return err
		}
		rightFields = append(rightFields, maxFields[i]...)
	}
	isCount := map[string]bool{}
	for _, n := range append(append([]string(nil), counts...), maxes...) {
		isCount[n] = true
	}
	leftKnown := knownColumns(left, ls)
	assert, used, err := ch.Compile("compare.assert", ch.Compare.Assert, func(n string) bool { return isCount[n] || leftKnown(n) })
	if err != nil {
		return err
	}
	var leftFields []string
	for _, n := range used {
		if !isCount[n] {
			leftFields = append(leftFields, n)
		}
	}
	rightSort := extsort.New(c.o.TempDir, c.o.Memory)
	defer rightSort.Close()
	err = c.rows(ch, "compare.right", right, rs, rightFields, func(key []byte, get func(string) any) error {
		flags := make([]byte, len(counts))
		for i, p := range progs {
			ok, err := runBool(p, fields[i], get, nil)
			if err != nil {
				return ch.ErrorAt("compare.counts."+counts[i], "check %s: %v", ch.Name, err)
			}
			if ok {
				flags[i] = 1
			}
		}
		for i, p := range maxProgs {
			env := map[string]any{}
			for _, f := range maxFields[i] {
				env[f] = get(f)
			}
			v, err := expr.Run(p, env)
			if err != nil {
				return ch.ErrorAt("compare.max."+maxes[i], "check %s: %v", ch.Name, err)
			}
			switch v.(type) {
			case nil, int, float64, string:
			default:
				return ch.ErrorAt("compare.max."+maxes[i], "check %s: a max takes numbers or strings, not %T", ch.Name, v)
			}
			flags = appendValue(flags, v)
		}
		return rightSort.Add(key, flags)
	})
	if err != nil {
		return err
	}
	leftSort := extsort.New(c.o.TempDir, c.o.Memory)
	defer leftSort.Close()
	err = c.rows(ch, "compare.left", left, ls, leftFields, func(key []byte, get func(string) any) error {
		res.Rows++
		var v []byte
		for _, n := range leftFields {
			v = appendValue(v, get(n))
		}
		return leftSort.Add(key, v)
	})
	if err != nil {
		return err
	}
	lit, err := leftSort.Sort()
	if err != nil {
		return err
	}
	rit, err := rightSort.Sort()
	if err != nil {
		return err
	}
	rk, rv, rerr := rit.Next()
	var lastKey []byte
	tally := make([]int, len(counts))
	highest := make([]any, len(maxes))
	env := map[string]any{}
	for first := true; ; first = false {
		lk, lv, err := lit.Next()
		if err != nil {
			if isEOF(err) {
				break
			}
			return err
		}
		if first || string(lk) != string(lastKey) {
			lastKey = append(lastKey[:0], lk...)
			clear(tally)
			clear(highest)
			for rerr == nil && string(rk) < string(lk) {
				rk, rv, rerr = rit.Next()
			}
			for rerr == nil && string(rk) == string(lk) {
				for i := range counts {
					tally[i] += int(rv[i])
				}
				for i, v := range decodeValues(rv[len(counts):], len(maxes)) {
					if !sameKind(v, highest[i]) {
						return ch.ErrorAt("compare.max."+maxes[i], "check %s: at %s, a max over numbers and strings: %s and %s", ch.Name, tupleText(lk), showValue(v), showValue(highest[i]))
					}
					if higher(v, highest[i]) {
						highest[i] = v
					}
				}
				rk, rv, rerr = rit.Next()
			}
			if rerr != nil && !isEOF(rerr) {
				return rerr
			}
		}
		clear(env)
		var shown []string
		for i, n := range counts {
			env[n] = tally[i]
			shown = append(shown, fmt.Sprintf("%s=%d", n, tally[i]))
		}
		for i, n := range maxes {
			env[n] = highest[i]
			shown = append(shown, fmt.Sprintf("%s=%s", n, showValue(highest[i])))
		}
		vals := decodeValues(lv, len(leftFields))
		for i, n := range leftFields {
			env[n] = vals[i]
			shown = append(shown, fmt.Sprintf("%s=%v", n, showValue(vals[i])))
		}
		sort.Strings(shown)
		out, err := expr.Run(assert, env)
		if ok, _ := out.(bool); err != nil || !ok {
			why := strings.Join(shown, ", ")
			if err != nil {
				why += ": " + strings.SplitN(err.Error(), "\n", 2)[0] // expr adds the source and a caret below
			}
			res.violation(fmt.Sprintf("%s (%s)", tupleText(lk), why))
		}
	}
	return nil
}

func (res *CheckResult) violation(text string) {
	res.Violations++
	if len(res.First) < firstViolations {
		res.First = append(res.First, text)
	}
}

// knownColumns says whether a name is a column of the datasets; a
// collection's documents may hold any field.
func knownColumns(e convert.CheckEnd, sides []side) func(string) bool {
	have := map[string]bool{}
	for n := range e.Compute {
		have[n] = true
	}
	if e.Keys != nil {
		for _, n := range append(e.Keys.Captures(), "key", "value") {
			have[n] = true
		}
		return func(n string) bool { return have[n] }
	}
	docs := false
	for _, s := range sides {
		docs = docs || s.engine == "mongodb"
		for _, c := range s.ds.Columns {
			have[c.Name] = true
		}
	}
	return func(n string) bool { return docs || have[n] }
}

func runBool(p *vm.Program, fields []string, get func(string) any, env map[string]any) (bool, error) {
	if env == nil {
		env = make(map[string]any, len(fields))
	}
	for _, f := range fields {
		env[f] = get(f)
	}
	out, err := expr.Run(p, env)
	if err != nil {
		return false, err
	}
	ok, _ := out.(bool)
	return ok, nil
}

// rows calls fn for every row of the datasets with its key (the columns'
// values as sort-key text, as relations compare them; a row with a NULL
// key column is left out) and its fields. A document reaching into an
// array gives one call per value tuple. A table lacking a column named is
// an error at the check's key.
func (c *checker) rows(ch *convert.Check, key string, end convert.CheckEnd, sides []side, fields []string, fn func(key []byte, get func(string) any) error) error {
	if len(end.Compute) > 0 {
		return c.computedRows(ch, key, end, sides, fields, fn)
	}
	cols := end.Columns
	if end.Keys != nil {
		return c.keyRows(ch, key, end, sides, fn)
	}
	for _, sd := range sides {
		docs := sd.engine == "mongodb"
		if !docs {
			have := map[string]bool{}
			for _, col := range sd.ds.Columns {
				have[col.Name] = true
			}
			for _, n := range append(append([]string(nil), cols...), fields...) {
				if !have[n] {
					return ch.ErrorAt(key, "check %s: dataset %s has no column %s", ch.Name, sd.ds.Name, n)
				}
			}
		}
		if err := c.eachRecord(sd.ds, func(rec arrow.RecordBatch) error {
			var docRows *mongotype.Rows
			idx := map[string]int{}
			var err error
			if docs {
				if docRows, err = mongotype.RowsOf(rec); err != nil {
					return err
				}
			} else {
				for _, n := range append(append([]string(nil), cols...), fields...) {
					idx[n] = rec.Schema().FieldIndices(n)[0]
				}
			}
			cells := make([][]byte, len(cols))
			var k []byte
			for row := 0; row < int(rec.NumRows()); row++ {
				var tuples [][][]byte
				var get func(string) any
				if docs {
					doc := docRows.Doc(row)
					tuples = docTuples(doc, cols)
					get = func(n string) any {
						v, err := doc.LookupErr(strings.Split(n, ".")...)
						if err != nil {
							return nil
						}
						return convert.DocValue(v)
					}
				} else {
					ok := true
					for i, col := range cols {
						if cells[i], ok = cellText(rec.Column(idx[col]), row); !ok {
							break
						}
					}
					if !ok {
						continue
					}
					tuples = [][][]byte{cells}
					get = func(n string) any { return convert.CellValue(rec.Column(idx[n]), row) }
				}
				for _, t := range tuples {
					k = k[:0]
					for _, cell := range t {
						k = binary.AppendUvarint(k, uint64(len(cell)))
						k = append(k, cell...)
					}
					if err := fn(k, get); err != nil {
						return err
					}
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// keyRows is rows for a keys end: each string key of the keyspaces whose
// name matches the pattern is a row of its captures, key and value. A
// matching key of another type is an error: a check reads string keys.
func (c *checker) keyRows(ch *convert.Check, at string, end convert.CheckEnd, sides []side, fn func(key []byte, get func(string) any) error) error {
	caps := end.Keys.Captures()
	var dst [][]byte
	var k []byte
	for _, sd := range sides {
		if err := c.eachRecord(sd.ds, func(rec arrow.RecordBatch) error {
			rows, err := redistype.NewRows(rec)
			if err != nil {
				return err
			}
			for i := 0; i < int(rec.NumRows()); i++ {
				if !rows.IsKeyRow(i) {
					continue
				}
				name := rows.Key(i)
				if dst = end.Keys.Match(name, dst); dst == nil {
					continue
				}
				if t := rows.Type(i); t != redistype.String {
					return ch.ErrorAt(at, "check %s: key %q of %s is a %s: a keys end reads string keys", ch.Name, name, sd.ds.Name, t)
				}
				val := rows.Value(i)
				field := func(n string) []byte {
					switch n {
					case "key":
						return name
					case "value":
						return val
					}
					for j, cp := range caps {
						if cp == n {
							return dst[j]
						}
					}
					return nil
				}
				k = k[:0]
				for _, col := range end.Columns {
					cell := field(col)
					k = binary.AppendUvarint(k, uint64(len(cell)))
					k = append(k, cell...)
				}
				if err := fn(k, func(n string) any { return string(field(n)) }); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// higher reports whether v is above the highest so far (nil is below
// everything; numbers compare as numbers, strings as strings).
func higher(v, than any) bool {
	if v == nil {
		return false
	}
	if than == nil {
		return true
	}
	num := func(x any) (float64, bool) {
		switch x := x.(type) {
		case int:
			return float64(x), true
		case float64:
			return x, true
		}
		return 0, false
	}
	if a, ok := num(v); ok {
		if b, ok := num(than); ok {
			if ai, ok := v.(int); ok {
				if bi, ok := than.(int); ok {
					return ai > bi // exact beyond 2^53
				}
			}
			return a > b
		}
	}
	as, _ := v.(string)
	bs, _ := than.(string)
	return as > bs
}

// sameKind reports whether two maxima compare: both numbers or both
// strings (or one nil).
func sameKind(a, b any) bool {
	kind := func(x any) int {
		switch x.(type) {
		case nil:
			return 0
		case int, float64:
			return 1
		case string:
			return 2
		}
		return 3
	}
	ka, kb := kind(a), kind(b)
	return ka == 0 || kb == 0 || ka == kb
}

func (c *checker) eachRecord(ds *spec.Dataset, fn func(arrow.RecordBatch) error) error {
	return c.in.each(c.ctx, ds, fn)
}

// eachGroup calls fn once per distinct key of a sorted iterator, with the
// number of records of that key (counted, not kept: a key may have
// millions).
func eachGroup(it *extsort.Iterator, fn func(key []byte, n int)) error {
	var key []byte
	n := 0
	for {
		k, _, err := it.Next()
		if err != nil {
			if !isEOF(err) {
				return err
			}
			if n > 0 {
				fn(key, n)
			}
			return nil
		}
		if n > 0 && string(k) != string(key) {
			fn(key, n)
			n = 0
		}
		n++
		key = append(key[:0], k...)
	}
}

// A left row's fields ride through the sort as tagged values.
const (
	tagNil byte = iota
	tagInt
	tagFloat
	tagString
	tagBool
	tagOther // shown as text
)

func appendValue(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, tagNil)
	case int:
		return binary.AppendVarint(append(b, tagInt), int64(v))
	case float64:
		return binary.BigEndian.AppendUint64(append(b, tagFloat), math.Float64bits(v))
	case string:
		b = binary.AppendUvarint(append(b, tagString), uint64(len(v)))
		return append(b, v...)
	case bool:
		if v {
			return append(b, tagBool, 1)
		}
		return append(b, tagBool, 0)
	}
	s := fmt.Sprint(v)
	b = binary.AppendUvarint(append(b, tagOther), uint64(len(s)))
	return append(b, s...)
}

func decodeValues(b []byte, n int) []any {
	out := make([]any, 0, n)
	for len(b) > 0 && len(out) < n {
		tag := b[0]
		b = b[1:]
		switch tag {
		case tagNil:
			out = append(out, nil)
		case tagInt:
			v, w := binary.Varint(b)
			out, b = append(out, int(v)), b[w:]
		case tagFloat:
			out, b = append(out, math.Float64frombits(binary.BigEndian.Uint64(b))), b[8:]
		case tagBool:
			out, b = append(out, b[0] == 1), b[1:]
		default:
			l, w := binary.Uvarint(b)
			out, b = append(out, string(b[w:w+int(l)])), b[w+int(l):]
		}
	}
	return out
}

func showValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case string:
		return fmt.Sprintf("%q", v)
	}
	return fmt.Sprint(v)
}
