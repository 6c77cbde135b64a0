package convert

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/spec"
)

// A table going into tables of its own engine with a route (SPEC.md
// §11.6, "Routing rows to objects"): each row, as it is, into the table
// its route names, one output per declared table. The WildfireChat case:
// the logical dataset t_messages of export --profile wildfirechat
// re-sharded into t_messages_0..35 by the month in each _mid.

// RuleRouteTables names the conversion of a table routed into tables of
// its own engine.
const RuleRouteTables = "table rows routed to tables v1"

// SameEngineRoute is the conversion of the table ds by the entry d with a
// route into tables of its own engine, or nil when d has no route. An
// output named as a member of ds (a logical dataset) takes that member's
// DDL, so that a target without the table can make it.
func SameEngineRoute(ds *spec.Dataset, src *spec.Source, d *DatasetRule) *Conversion {
	if !d.routes() {
		return nil
	}
	c := &Conversion{Rule: RuleRouteTables, Source: src, routed: true}
	if d.changesFields() || d.Target != "" || d.ID != "" || len(d.Indexes) > 0 || d.Union || d.Nest != nil || len(d.Embed) > 0 || d.HasKeys() {
		c.Refused = append(c.Refused, fmt.Sprintf("%s: a route into tables of the dataset's own engine moves the rows as they are: the entry takes no other key (rename, drop, filter, compute, cast, defaults, target, id, indexes, ...)", d.Where()))
	}
	objects, err := d.routeObjects()
	if err != nil {
		c.Refused = append(c.Refused, err.Error())
	}
	env := newRowEnv(ds)
	prog, err := env.compile(d, "route", d.Route)
	if err != nil {
		c.Refused = append(c.Refused, err.Error())
	}
	var keyCols []int
	for _, k := range ds.PrimaryKey {
		for i, col := range ds.Columns {
			if col.Name == k {
				keyCols = append(keyCols, i)
			}
		}
	}
	rt := newRouter(d.position("route"), objects, func(rec arrow.RecordBatch) (routeRows, error) {
		return &rowRoute{env: env, prog: prog, rec: rec, key: keyCols}, nil
	})
	ddl := map[string]string{}
	for _, m := range ds.Members {
		ddl[m.Object] = m.DDL
	}
	c.Notes = []string{fmt.Sprintf("each row, as it is, into the table its route %q gives (%s), one of %d declared: %s; a route that fails, or gives no string or an undeclared name, makes the row a reject",
		d.Route, rt.where, len(objects), summarizeObjects(objects))}
	asItIs := func(in Records, _ int, _ func(Reject) error) Records { return in }
	for k, obj := range objects {
		od := *ds
		od.Name, od.Object, od.DDL, od.Members = ds.Name+"/"+obj, obj, ddl[obj], nil
		c.Split = append(c.Split, &Conversion{Rule: RuleRouteTables, Source: src, Dataset: &od, routed: true,
			Notes: []string{fmt.Sprintf("the rows whose route (%s) gives %s", rt.where, obj)}, records: rt.records(k, asItIs)})
	}
	if len(c.Split) == 0 {
		c.Dataset = ds
		return c
	}
	c.Dataset = c.Split[0].Dataset
	firstHoldsNotes(c)
	return c
}

// Routes reports whether the entry routes rows to objects (a nil entry
// does not).
func (d *DatasetRule) Routes() bool { return d.routes() }
