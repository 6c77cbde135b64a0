package convert

import (
	"fmt"
	"regexp"
	"strconv"
)

// An entry's route (SPEC.md §11.6, "Routing rows to objects") gives each
// row's target object by an expression, so that one dataset fills many
// objects: WildfireChat keeps messages in 36 shard tables t_messages_0..35
// by the month encoded in a message id, and user messages in 128 by a
// hash of the user id. Objects declares the objects the route may give
// before any row is read, so that plan, import and verify know every
// output: a name, or a name with one integer range {A..B} that stands for
// each number from A to B (t_messages_{0..35}).
var objectRange = regexp.MustCompile(`\{(\d+)\.\.(\d+)\}`)

// maxRouteObjects bounds the objects an entry declares: each is an output
// of its own (a dataset of the import, a table read before writing), and
// routing a part holds a spool file and its buffer open per output.
const maxRouteObjects = 1024

func (d *DatasetRule) routes() bool { return d != nil && d.Route != "" }

// checkRoute checks route and objects on their own; the route's names and
// the objects' existence are the rule's to check.
func (d *DatasetRule) checkRoute() error {
	switch {
	case d.Route == "" && len(d.Objects) > 0:
		return d.errorAt("objects", "objects declares the objects a route gives: this entry has no route")
	case d.Route == "":
		return nil
	case len(d.Objects) == 0:
		return d.errorAt("route", "a route needs objects: the list of the objects it may give (t_messages_{0..35})")
	case d.Target != "":
		return d.errorAt("target", "an entry with a route names each row's object by it: it takes no target")
	}
	_, err := d.routeObjects()
	return err
}

// routeObjects expands Objects into the object names, in order.
func (d *DatasetRule) routeObjects() ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for i, o := range d.Objects {
		key := fmt.Sprintf("objects[%d]", i)
		names := []string{o}
		if m := objectRange.FindAllStringSubmatchIndex(o, -1); len(m) > 1 {
			return nil, d.errorAt(key, "object %q: at most one {A..B} range", o)
		} else if len(m) == 1 {
			a, errA := strconv.Atoi(o[m[0][2]:m[0][3]])
			b, errB := strconv.Atoi(o[m[0][4]:m[0][5]])
			if errA != nil || errB != nil || a > b || b-a >= maxRouteObjects {
				return nil, d.errorAt(key, "object %q: the range {A..B} needs A <= B, at most %d numbers", o, maxRouteObjects)
			}
			names = names[:0]
			for n := a; n <= b; n++ {
				names = append(names, o[:m[0][0]]+strconv.Itoa(n)+o[m[0][1]:])
			}
		}
		for _, n := range names {
			if n == "" {
				return nil, d.errorAt(key, "an empty object name")
			}
			if seen[n] {
				return nil, d.errorAt(key, "object %s is declared twice", n)
			}
			seen[n] = true
			out = append(out, n)
		}
		if len(out) > maxRouteObjects {
			return nil, d.errorAt(key, "more than %d objects", maxRouteObjects)
		}
	}
	return out, nil
}
