package convert

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/spec"
)

// A table going to MongoDB with a route (SPEC.md §11.6): each row into the
// collection its route names, one output per declared collection, each
// converted by §11.1 with the entry's other keys. The route reads the
// row's columns as the entry's filter does.

// routedCollections splits c, §11.1's conversion of the table ds by the
// entry d, into one output per declared collection.
func routedCollections(ds *spec.Dataset, d *DatasetRule, c *Conversion, t *tableToDocs) *Conversion {
	rc := &Conversion{Rule: c.Rule, Source: c.Source, Refused: c.Refused, routed: true, takesID: c.takesID, takesIndexes: c.takesIndexes} // each output is c's, id and indexes included
	objects, err := d.routeObjects()
	if err != nil {
		rc.Refused = append(rc.Refused, err.Error())
	}
	prog, err := t.env.compile(d, "route", d.Route)
	if err != nil {
		rc.Refused = append(rc.Refused, err.Error())
	}
	keyCols := make([]int, len(t.idCols))
	for j, k := range t.idCols {
		keyCols[j] = t.fields[k].col
	}
	rt := newRouter(d.position("route"), objects, func(rec arrow.RecordBatch) (routeRows, error) {
		return &rowRoute{env: t.env, prog: prog, rec: rec, key: keyCols}, nil
	})
	rc.Notes = append([]string{fmt.Sprintf("each row into the collection its route %q gives (%s), one of %d declared: %s; a route that fails, or gives no string or an undeclared name, makes the row a reject",
		d.Route, rt.where, len(objects), summarizeObjects(objects))}, c.Notes...)
	if len(t.idCols) == 0 {
		rc.Notes = append(rc.Notes, "with a route, a table without a primary key gives each document the row's ordinal among the rows routed to its collection")
	}
	for k, obj := range objects {
		od := *c.Dataset
		od.Name, od.Object = ds.Name+"/"+obj, obj
		rc.Split = append(rc.Split, &Conversion{Rule: c.Rule, Source: c.Source, Dataset: &od, routed: true,
			Notes: []string{fmt.Sprintf("the rows whose route (%s) gives %s", rt.where, obj)}, records: rt.records(k, c.records)})
	}
	rc.Dataset = c.Dataset
	if len(rc.Split) > 0 {
		rc.Dataset = rc.Split[0].Dataset
	}
	firstHoldsNotes(rc)
	return rc
}

// rowRoute evaluates a route over a batch of a table's rows.
type rowRoute struct {
	env  *rowEnv
	prog *vm.Program
	rec  arrow.RecordBatch
	key  []int // the primary key's columns
	vals rowVals
}

func (r *rowRoute) route(i int) (any, error) {
	if r.prog == nil {
		return nil, fmt.Errorf("the route does not compile")
	}
	return expr.Run(r.prog, r.env.bind(&r.vals, r.rec, i, int64(i)))
}

func (r *rowRoute) reject(i int, row int64, why string) Reject {
	var key []string
	for _, c := range r.key {
		key = append(key, bundle.KeyString(r.rec.Column(c), i))
	}
	return Reject{Row: row, Key: key, Reason: why, Values: rowValues(r.rec, i)}
}
