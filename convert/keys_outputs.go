package convert

import (
	"fmt"
	"strings"

	"github.com/imbundle/imbundle/spec"
)

// One Redis keyspace may hold several kinds of records: OpenIM 3.4 keeps a
// conversation's counters (MAX_SEQ:<conv>) beside each user's
// (HAS_READ_SEQ:<user>:<conv>), which OpenIM 3.8 keeps in two collections,
// seq and seq_user. Several entries with keys and the same match (SPEC.md
// §11.9, several outputs) make one output each: each reads the whole
// keyspace, keeps the keys its own patterns match and counts the others as
// filtered, and goes into its own collection.

// joinKeysEntries gives the first keys entry of each match the later ones
// of the same match, which For never returns.
func joinKeysEntries(m *Mapping) {
	first := map[string]*DatasetRule{}
	for i := range m.Datasets {
		d := &m.Datasets[i]
		if len(d.Keys) == 0 {
			continue
		}
		if f, ok := first[d.Match]; ok {
			f.more = append(f.more, d)
			continue
		}
		first[d.Match] = d
	}
}

// keysOutputs is rule redis-keys to mongodb-collection v1 for several
// entries: one output per entry, named <dataset>/<collection>.
func keysOutputs(ds *spec.Dataset, src *spec.Source, d *DatasetRule) (*Conversion, error) {
	c := &Conversion{Rule: ruleKeysMongo, Source: convertedSource(src, mongoEngine), keys: true, takesIndexes: true}
	objects := map[string]string{}
	for _, e := range append([]*DatasetRule{d}, d.more...) {
		out, err := keysToMongoOne(ds, src, e)
		if err != nil || out == nil {
			return out, err
		}
		refuseIDAndIndexes(out, e)
		od := *out.Dataset
		if e.Target == "" {
			out.Refused = append(out.Refused, fmt.Sprintf("%s: several entries with keys for %s: each needs a target", e.Where(), e.Match))
		} else if ns, obj, ok := strings.Cut(e.Target, "."); ok {
			od.Namespace, od.Object = ns, obj
		} else {
			od.Object = e.Target
		}
		if prev, dup := objects[od.Namespace+"."+od.Object]; dup {
			out.Refused = append(out.Refused, fmt.Sprintf("%s: the entry at %s writes into %s too", e.position("target"), prev, od.Object))
		}
		objects[od.Namespace+"."+od.Object] = e.Where()
		od.Name = ds.Name + "/" + od.Object
		out.Dataset = &od
		out.Notes = append(out.Notes, fmt.Sprintf("output %s of the keyspace (%s)", od.Object, e.Where()))
		// The whole conversion's refusals are each output's (plan lists
		// them per output): an import checks them before it splits.
		c.Refused, out.Refused = append(c.Refused, out.Refused...), nil
		c.Whole = c.Whole || out.Whole
		c.Split = append(c.Split, out)
	}
	c.Dataset = c.Split[0].Dataset
	c.Notes = []string{fmt.Sprintf("%d entries with keys for %s: %d collection(s) of the target, each reading the whole keyspace", len(c.Split), d.Match, len(c.Split))}
	return c, nil
}

// refuseMoreKeys refuses several keys entries for one dataset where the
// rule does not make several outputs of them (only into MongoDB, in this
// version): the later entries would be ignored.
func refuseMoreKeys(c *Conversion, d *DatasetRule) {
	if c != nil && d != nil && len(d.more) > 0 && len(c.Split) == 0 {
		c.Refused = append(c.Refused, fmt.Sprintf("%s: several entries with keys for %s make several collections, into MongoDB only (the %s rule takes one)", d.more[0].Where(), d.Match, c.Rule))
	}
}
