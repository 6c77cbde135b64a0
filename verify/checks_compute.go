package verify

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"strconv"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"github.com/imbundle/imbundle/convert"
)

// computedRows is rows for an end with computed columns (SPEC.md §11.6,
// "Checks": compute): the rows are read as an end without columns would
// read them (a document once, not once per array value), each computed
// column is evaluated over the row's fields, and the key is made of the
// end's columns, computed or read, as text. A row whose key column is nil
// is not checked, as a NULL is not.
func (c *checker) computedRows(ch *convert.Check, key string, end convert.CheckEnd, sides []side, fields []string, fn func(key []byte, get func(string) any) error) error {
	plain := end
	plain.Columns, plain.Compute = nil, nil
	known := knownColumns(plain, sides)
	names := make([]string, 0, len(end.Compute))
	for n := range end.Compute {
		names = append(names, n)
	}
	sort.Strings(names)
	progs := make([]*vm.Program, len(names))
	used := make([][]string, len(names))
	var need []string
	add := func(n string) {
		if end.Compute[n] == "" && !slices.Contains(need, n) {
			need = append(need, n)
		}
	}
	for i, n := range names {
		var err error
		if progs[i], used[i], err = ch.Compile(key+".compute."+n, end.Compute[n], known); err != nil {
			return err
		}
		for _, f := range used[i] {
			add(f)
		}
	}
	for _, f := range append(append([]string(nil), end.Columns...), fields...) {
		add(f)
	}
	vals := make(map[string]any, len(names))
	var k []byte
	return c.rows(ch, key, plain, sides, need, func(_ []byte, get func(string) any) error {
		for i, n := range names {
			env := make(map[string]any, len(used[i]))
			for _, f := range used[i] {
				env[f] = get(f)
			}
			v, err := expr.Run(progs[i], env)
			if err != nil {
				return ch.ErrorAt(key+".compute."+n, "check %s: %v", ch.Name, err)
			}
			vals[n] = v
		}
		g := func(n string) any {
			if v, ok := vals[n]; ok {
				return v
			}
			return get(n)
		}
		k = k[:0]
		for _, col := range end.Columns {
			t, ok, err := keyText(g(col))
			if err != nil {
				return ch.ErrorAt(key, "check %s: column %s: %v", ch.Name, col, err)
			}
			if !ok {
				return nil
			}
			k = binary.AppendUvarint(k, uint64(len(t)))
			k = append(k, t...)
		}
		return fn(k, g)
	})
}

// keyText is a value as the key of a computed end holds it: the text
// relations compare (integers in decimal, floats as the shortest text of
// their bits, strings as they are); nil is no key.
func keyText(v any) ([]byte, bool, error) {
	switch v := v.(type) {
	case nil:
		return nil, false, nil
	case string:
		return []byte(v), true, nil
	case int:
		return strconv.AppendInt(nil, int64(v), 10), true, nil
	case float64:
		return strconv.AppendFloat(nil, v, 'g', -1, 64), true, nil
	case bool:
		return strconv.AppendBool(nil, v), true, nil
	}
	return nil, false, fmt.Errorf("a key column takes a string or a number, not %T", v)
}
