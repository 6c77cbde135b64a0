package convert

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"github.com/imbundle/imbundle/internal/mongotype"
	"github.com/imbundle/imbundle/spec"
)

// A collection going into existing MySQL tables with a route (SPEC.md
// §11.6): each document into the table its route names, one output per
// declared table, each converted by §11.3 onto its own table with the
// entry's other keys. The WildfireChat case: a hybrid site's message
// collection into the 36 month shards t_messages_0..35.

// routedIntoTables is the conversion of a collection by an entry with a
// route; c is §11.2's conversion of it, whose source it keeps.
func routedIntoTables(ds *spec.Dataset, src *spec.Source, d *DatasetRule, c *Conversion) *Conversion {
	rc := &Conversion{Rule: ruleMongoIntoMySQL, Source: c.Source, Refused: c.Refused, routed: true}
	objects, err := d.routeObjects()
	if err != nil {
		rc.Refused = append(rc.Refused, err.Error())
	}
	prog, names, err := compileNamed(d, "route", d.Route, func(string) bool { return true }, "", docOptions()...)
	if err != nil {
		rc.Refused = append(rc.Refused, err.Error())
	}
	rc.Refused = append(rc.Refused, entryRefused(d)...)
	rt := newRouter(d.position("route"), objects, func(rec arrow.RecordBatch) (routeRows, error) {
		rows, err := mongotype.RowsOf(rec)
		return &docRoute{rows: rows, prog: prog, names: names, env: map[string]any{}}, err
	})
	rc.Notes = append([]string{fmt.Sprintf("each document into the table its route %q gives (%s), one of %d declared: %s; a route that fails, or gives no string or an undeclared name, makes the document a reject; each table must exist (read by import and verify, §11.3)",
		d.Route, rt.where, len(objects), summarizeObjects(objects))}, entryNotes(d)...)
	for k, obj := range objects {
		od := *c.Dataset
		od.Name, od.Object, od.DDL = ds.Name+"/"+obj, obj, documentsDDL(obj)
		out := &Conversion{Rule: ruleMongoIntoMySQL, Source: c.Source, Dataset: &od, routed: true,
			Notes: []string{fmt.Sprintf("the documents whose route gives %s", obj)}}
		k, obj, name := k, obj, od.Name
		out.onto = func(into *spec.Dataset) (*Conversion, error) {
			if into == nil {
				return nil, fmt.Errorf("there is no table %s: the route at %s gives tables that must exist on the target; create them first", obj, rt.where)
			}
			conv, err := mongoIntoTable(ds, src, into, d)
			if conv == nil || err != nil {
				return conv, err
			}
			cd := *conv.Dataset
			cd.Name, cd.Object = name, obj
			conv.Dataset, conv.routed = &cd, true
			conv.records = rt.records(k, conv.records)
			conv.Notes = append([]string{fmt.Sprintf("the documents whose route (%s) gives %s", rt.where, obj)}, conv.Notes...)
			return conv, nil
		}
		rc.Split = append(rc.Split, out)
	}
	if len(rc.Split) > 0 {
		rc.Dataset = rc.Split[0].Dataset
	} else {
		rc.Dataset = c.Dataset
	}
	firstHoldsNotes(rc)
	return rc
}

// summarizeObjects names the first and last objects of a long list.
func summarizeObjects(objects []string) string {
	if len(objects) <= 4 {
		return fmt.Sprint(objects)
	}
	return fmt.Sprintf("[%s %s ... %s]", objects[0], objects[1], objects[len(objects)-1])
}

// docRoute evaluates a route over a batch of collection rows: the names
// the expression reads are the document's top-level fields, as §11.6's
// expressions see them (a missing field is nil).
type docRoute struct {
	rows  *mongotype.Rows
	prog  *vm.Program
	names []string
	env   map[string]any
}

func (r *docRoute) route(i int) (any, error) {
	if err := r.rows.Check(i); err != nil {
		return nil, err
	}
	doc := r.rows.Doc(i)
	for _, n := range r.names {
		v, err := doc.LookupErr(n)
		if err != nil {
			r.env[n] = nil
			continue
		}
		r.env[n] = bsonAny(v)
	}
	if r.prog == nil {
		return nil, fmt.Errorf("the route does not compile")
	}
	return expr.Run(r.prog, r.env)
}

func (r *docRoute) reject(i int, row int64, why string) Reject {
	return Reject{Row: row, Key: []string{r.rows.IDJSON(i)}, Reason: why, Values: documentValues(r.rows.Doc(i))}
}
