// Package convert is the conversion stage between a bundle and a target of
// another engine (SPEC.md §11). The bundle stays the source's faithful
// backup; a dataset whose engine the target does not take is turned, batch
// by batch, into the target engine's own layout, so that importers only ever
// see their own engine's records, and verify --against runs the same
// conversion over the bundle before it digests.
//
// A Rule is the default mapping of one ordered engine pair, registered by
// the file that implements it (mysql_mongo.go: a table becomes a collection
// of one document per row; redis_mongo.go and redis_mysql.go: a Redis
// database becomes a collection or table of one document or row per layout
// row, and such a collection or table becomes the database again;
// mysql_redis_hashes.go and mongo_redis_strings.go: a table or collection
// becomes a hash or string per row or document in Redis with a schema key
// describing it; redis_hashes_mysql.go and mongo_redis_strings.go: a
// keyspace holding them becomes those tables and collections again, one
// target dataset each, Conversion.Split). A
// conversion is exact or loud: a value the
// target layout cannot hold exactly is never changed silently; the rule
// either maps it by a documented lossless rule or rejects the record with
// its reason (Reject), and a column type it cannot carry at all is refused
// before anything is written (Conversion.Refused).
package convert

import (
	"fmt"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/spec"
)

// Records yields record batches until io.EOF (importer.RecordSource and the
// bundle's part readers have this method set).
type Records interface {
	Next() (arrow.RecordBatch, error)
}

// Reject is one record the conversion cannot carry exactly.
type Reject struct {
	Row    int64    // row number within the part
	Key    []string // the source record's key, rendered as text
	Reason string
	Values map[string]any // the source record's columns, rendered as text (nil for NULL)
	// Filtered marks a record a mapping's filter leaves out: counted, not
	// a reject.
	Filtered bool
	// Dataset names the bundle dataset the record is of when it is not
	// the converted one (a row of an embedded dataset); "" otherwise.
	Dataset string
}

// Conversion is one dataset of a bundle converted to another engine's
// layout.
type Conversion struct {
	// Rule names the mapping, with its version ("mysql-table to
	// mongodb-collection v1").
	Rule string
	// Dataset is the converted dataset as a target of the other engine
	// expects it: its kind, columns, keys and options in that engine's
	// layout, the bundle's name, namespace and object, and the bundle's
	// parts (the same entries, read through Records). Rows and Digest are
	// the bundle's; the converted rows' digest is what verify computes.
	Dataset *spec.Dataset
	// Source is the converted dataset's source descriptor: the bundle's,
	// with the other engine's name.
	Source *spec.Source
	// Notes say, column by column, what becomes what (for plan and logs).
	Notes []string
	// Refused lists what the rule cannot carry at all (a column type with
	// no exact counterpart): an import must stop before writing.
	Refused []string
	// Warnings are what the conversion leaves behind that is not a
	// record (an empty table that writes no Redis key, so the way back
	// cannot recreate it): imports say them at WARN level, above notes.
	Warnings []string
	// Split, when set, makes the conversion several datasets: one bundle
	// dataset becomes one target dataset per output (a Redis keyspace
	// holding tables becomes those tables, §11.7). Each output has its own
	// Dataset (a distinct name: "<bundle dataset>/<object>") and reads all
	// of the bundle dataset's parts, keeping its own rows (a routed one,
	// route.go, reads most from a spool the first output wrote). The conversion's
	// own Dataset is then the first output's, and its Records are not
	// used.
	Split []*Conversion
	// Whole marks a conversion that reads the whole dataset as one input
	// (records merged by key across parts, SPEC.md §11.9): Dataset.Parts
	// is then one part, and Records(in, 0, reject) must be given every
	// stored part's records in order (bundle.Reader.OpenParts). Rejects
	// count rows from 0 across the dataset.
	Whole bool
	// Spill is where and with how much memory a Whole conversion sorts;
	// the importer sets it from its options.
	Spill Spill
	// Inputs are other datasets of the bundle that a Whole conversion
	// reads besides its own, each whole (a mapping entry's embed, SPEC.md
	// §11.1): give their records to RecordsWith, in this order. Each is
	// checked against its manifest digest as it is read; their rows are
	// loaded only within this conversion's records (Mapping.EmbeddedIn).
	Inputs []*spec.Dataset

	// routed marks a conversion that takes a mapping entry's route
	// (route.go); any other refuses an entry with one.
	routed bool

	records func(in Records, part int, reject func(Reject) error) Records
	joined  func(in Records, inputs []Records, reject func(Reject) error) Records // a conversion with Inputs
	keys    bool                                                                  // the rule takes a mapping entry's keys
	// takesID and takesIndexes: the rule applies a mapping entry's id and
	// indexes (mapping_indexes.go).
	takesID, takesIndexes bool
	// onto converts the same dataset onto an existing object of the
	// target (Onto), for rules that need one or may use one.
	onto func(into *spec.Dataset) (*Conversion, error)
}

// Spill configures the external sort of a Whole conversion.
type Spill struct {
	Dir    string // temp files go here; "" is os.TempDir()
	Memory int64  // bytes of records held before a sorted run is written; 0 is DefaultSpillMemory
}

// DefaultSpillMemory is the sort budget of a Whole conversion unless set:
// with Go's heap doubling the live records, the process stays well under
// 300 MiB (bench/results/merge-2026-12-01.md).
const DefaultSpillMemory = 32 << 20

// Records converts one part's records. reject is called for each record the
// conversion cannot carry exactly; its error stops the part.
func (c *Conversion) Records(in Records, part int, reject func(Reject) error) Records {
	return c.RecordsWith(in, nil, part, reject)
}

// RecordsWith is Records of a conversion with Inputs: inputs[i] reads all
// of Inputs[i]'s stored parts in order.
func (c *Conversion) RecordsWith(in Records, inputs []Records, part int, reject func(Reject) error) Records {
	if c.joined != nil {
		return c.joined(in, inputs, reject)
	}
	return c.records(in, part, reject)
}

// Rule builds the conversion of one dataset to the rule's target engine.
type Rule func(ds *spec.Dataset, src *spec.Source) (*Conversion, error)

// MappedRule is a Rule that also takes a mapping file's entry for the
// dataset (nil without one): renamed and dropped fields, a row filter.
type MappedRule func(ds *spec.Dataset, src *spec.Source, d *DatasetRule) (*Conversion, error)

type pair struct{ from, to string }

var rules = map[pair]MappedRule{}

// Register makes r the default mapping from one engine (a manifest source's
// engine name) to another. It panics on a duplicate, as database/sql's
// Register does.
func Register(from, to string, r Rule) { RegisterMapped(from, to, unmapped(r)) }

// unmapped is r as a MappedRule that refuses entries changing fields.
func unmapped(r Rule) MappedRule {
	return func(ds *spec.Dataset, src *spec.Source, d *DatasetRule) (*Conversion, error) {
		c, err := r(ds, src)
		if !d.HasKeys() { // keys: refused by ForMapped
			refuseFieldChanges(c, d)
		}
		return c, err
	}
}

// keysOr is the rule of a pair from or to Redis: an entry with keys
// (§11.9) converts by keys, any other dataset by r.
func keysOr(keys MappedRule, r Rule) MappedRule { return keysOrMapped(keys, unmapped(r)) }

// keysOrMapped is keysOr for a rule that takes mapping entries.
func keysOrMapped(keys, r MappedRule) MappedRule {
	return func(ds *spec.Dataset, src *spec.Source, d *DatasetRule) (*Conversion, error) {
		if d.HasKeys() {
			return keys(ds, src, d)
		}
		return r(ds, src, d)
	}
}

// refuseFieldChanges refuses c when d changes fields: c's rule takes no
// mapping entries.
func refuseFieldChanges(c *Conversion, d *DatasetRule) {
	if c != nil && d.changesFields() {
		c.Refused = append(c.Refused, fmt.Sprintf("%s: the %s rule takes no rename, drop, filter, compute, cast or defaults yet", d.Where(), c.Rule))
	}
}

// RegisterMapped is Register for a rule that takes mapping entries.
func RegisterMapped(from, to string, r MappedRule) {
	p := pair{from, to}
	if _, dup := rules[p]; dup {
		panic(fmt.Sprintf("convert: %s to %s registered twice", from, to))
	}
	rules[p] = r
}

// Candidate is the conversion of a dataset to one engine, or why the rule
// could not build it.
type Candidate struct {
	To         string
	Conversion *Conversion
	Err        error
}

// For returns the conversions of ds (from src) to every engine a default
// mapping leads to from src's engine, in engine-name order.
func For(ds *spec.Dataset, src *spec.Source) []Candidate { return ForMapped(ds, src, nil) }

// ForMapped is For with a mapping file's entry for ds (nil: none): the
// rules apply its field changes, and its target renames the converted
// dataset's object (and namespace).
func ForMapped(ds *spec.Dataset, src *spec.Source, d *DatasetRule) []Candidate {
	var out []Candidate
	for p, r := range rules {
		if p.from != src.Engine {
			continue
		}
		c, err := r(ds, src, d)
		if c != nil && d.routes() && !c.routed {
			c.Refused = append(c.Refused, fmt.Sprintf("%s: the %s rule takes no route yet", d.position("route"), c.Rule))
		}
		refuseIDAndIndexes(c, d)
		refuseMoreKeys(c, d)
		if c != nil && d.HasKeys() && !c.keys {
			c.Refused = append(c.Refused, fmt.Sprintf("%s: keys apply to a Redis keyspace, or to a collection or table imported into Redis (the %s rule takes none)", d.position("keys"), c.Rule))
		}
		if c != nil && d.Embeds() && c.Rule != ruleEmbed {
			c.Refused = append(c.Refused, fmt.Sprintf("%s: embed puts the rows of MySQL tables into the documents of a MySQL table going to MongoDB (the %s rule takes none)", d.position("embed"), c.Rule))
		}
		if c != nil && d != nil && d.Nest != nil && c.Rule != ruleNest {
			c.Refused = append(c.Refused, fmt.Sprintf("%s: nest groups the rows of a MySQL table going to MongoDB (the %s rule takes none)", d.position("nest"), c.Rule))
		}
		// Into Redis by keys (§11.9) the target is the database number,
		// which the rule has set.
		if c != nil && d != nil && d.Target != "" && namesOwnKeys(c) {
			c.Refused = append(c.Refused, fmt.Sprintf("%s: the %s rule names its keys or datasets after the source's own names; it takes no target yet", d.position("target"), c.Rule))
		} else if c != nil && c.Dataset != nil && d != nil && d.Target != "" && !(c.keys && (c.Dataset.Kind == spec.KindKeyspace || len(c.Split) > 0)) {
			cd := *c.Dataset
			if ns, obj, ok := strings.Cut(d.Target, "."); ok {
				cd.Namespace, cd.Object = ns, obj
			} else {
				cd.Object = d.Target
			}
			c.Dataset = &cd
			c.Notes = append(c.Notes, fmt.Sprintf("target %s (%s)", d.Target, d.position("target")))
		}
		out = append(out, Candidate{To: p.to, Conversion: c, Err: err})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].To < out[j].To })
	return out
}

// Pairs lists the registered engine pairs as "from to to", sorted.
func Pairs() []string {
	var out []string
	for p := range rules {
		out = append(out, p.from+" to "+p.to)
	}
	sort.Strings(out)
	return out
}

// convertedSource is src with another engine's name.
func convertedSource(src *spec.Source, engine string) *spec.Source {
	s := *src
	s.Engine = engine
	return &s
}
