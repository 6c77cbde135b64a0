package convert

import (
	"fmt"
	"sort"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// computed is one field a mapping entry computes (compute: {name: expr}).
type computed struct {
	name, src, where string
	prog             *vm.Program
}

// computedFields compiles an entry's computed fields, in name order (a
// document's field order must not depend on a map's), adding what does
// not compile to refused.
func computedFields(d *DatasetRule, env *rowEnv, refused []string) ([]computed, []string) {
	names := make([]string, 0, len(d.Compute))
	for n := range d.Compute {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []computed
	for _, n := range names {
		prog, err := env.compile(d, "compute."+n, d.Compute[n])
		if err != nil {
			refused = append(refused, err.Error())
			continue
		}
		out = append(out, computed{name: n, src: d.Compute[n], where: d.position("compute." + n), prog: prog})
	}
	return out, refused
}

// append adds the field's value for row i, or says why it cannot: the
// expression failed on the row, or gave a value with no exact BSON form.
// Values: nil is Null, bool Boolean, an integer Int64, a float Double, a
// string String, a time a Date when it has no sub-millisecond part.
func (c computed) append(doc []byte, key string, env *rowEnv, vals *rowVals, rec arrow.RecordBatch, i int, row int64) ([]byte, string) {
	v, err := expr.Run(c.prog, env.bind(vals, rec, i, row))
	if err != nil {
		return nil, fmt.Sprintf("computed field %s (%s) fails on this row: %v", c.name, c.where, err)
	}
	switch v := v.(type) {
	case nil:
		return bsoncore.AppendNullElement(doc, key), ""
	case bool:
		return bsoncore.AppendBooleanElement(doc, key, v), ""
	case int:
		return bsoncore.AppendInt64Element(doc, key, int64(v)), ""
	case int64:
		return bsoncore.AppendInt64Element(doc, key, v), ""
	case float64:
		return bsoncore.AppendDoubleElement(doc, key, v), ""
	case string:
		return bsoncore.AppendStringElement(doc, key, v), ""
	case time.Time:
		if v.Nanosecond()%int(time.Millisecond) != 0 {
			return nil, fmt.Sprintf("computed field %s (%s) is %s, finer than a BSON date's milliseconds", c.name, c.where, v.Format(time.RFC3339Nano))
		}
		return bsoncore.AppendDateTimeElement(doc, key, v.UnixMilli()), ""
	}
	return nil, fmt.Sprintf("computed field %s (%s) is a %T, which this mapping does not turn into BSON", c.name, c.where, v)
}
