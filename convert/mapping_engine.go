package convert

import (
	"bytes"
	"fmt"

	"github.com/imbundle/imbundle/internal/mysqltype"
	"github.com/imbundle/imbundle/spec"
)

// An entry's engine (SPEC.md §11.6, "Sending datasets to another
// engine") sends the datasets it matches to the target of that engine,
// converted, even when the run also has a target of their own engine:
// a WildfireChat hybrid site keeps its message shards in MongoDB and
// every other table in MySQL, so an import into both (--target twice)
// must not load the shards into MySQL as they are.
//
// skip: empty (SkipRule) leaves out datasets that must hold no rows: a
// hybrid site's MySQL message shards, which Flyway made and the server
// never fills, are left out so that the rows routed back from MongoDB
// go into those tables; a dataset that does hold rows stops the import
// before anything is written, since leaving it out would drop them.

// engines a mapping entry may name.
var entryEngines = map[string]bool{mysqltype.Engine: true, mongoEngine: true, redisEngine: true}

func (d *DatasetRule) checkEngine() error {
	if d.Engine == "" || entryEngines[d.Engine] {
		return nil
	}
	return d.errorAt("engine", "engine %q: want mysql, mongodb or redis", d.Engine)
}

// SendsElsewhere reports whether the entry sends its datasets to a
// target of another engine than to: a target of engine to then leaves
// them out. nil sends nothing anywhere.
func (d *DatasetRule) SendsElsewhere(to string) bool {
	return d != nil && d.Engine != "" && d.Engine != to
}

// SentTo names the engine the entry sends its datasets to, "" for the
// default (a target of their own engine, else the one a rule leads to).
func (d *DatasetRule) SentTo() string {
	if d == nil {
		return ""
	}
	return d.Engine
}

// Elsewhere is why a target of engine to leaves out a dataset the entry
// sends to another engine.
func (d *DatasetRule) Elsewhere() string {
	return fmt.Sprintf("the mapping sends it to a %s target (%s)", d.Engine, d.position("engine"))
}

// SkipRule is an entry's skip: true leaves the matched datasets out;
// "empty" leaves them out only if they hold no rows, and refuses one that
// holds rows.
type SkipRule string

// UnmarshalYAML takes true, false and "empty".
func (s *SkipRule) UnmarshalYAML(b []byte) error {
	switch v := string(trimYAMLScalar(bytes.TrimSpace(b))); v {
	case "true":
		*s = "true"
	case "false":
		*s = ""
	case "empty":
		*s = "empty"
	default:
		return fmt.Errorf("skip %s: want true, false or empty", v)
	}
	return nil
}

// trimYAMLScalar strips the quotes of a quoted scalar.
func trimYAMLScalar(b []byte) []byte {
	if n := len(b); n >= 2 && (b[0] == '"' && b[n-1] == '"' || b[0] == '\'' && b[n-1] == '\'') {
		return b[1 : n-1]
	}
	return b
}

// Skips reports whether the entry leaves ds out, and refuses (an error
// naming the entry) a dataset of skip: empty that holds rows.
func (d *DatasetRule) Skips(ds *spec.Dataset) (bool, error) {
	if d == nil || d.Skip == "" {
		return false, nil
	}
	if d.Skip == "empty" && ds.Rows > 0 {
		return false, fmt.Errorf("%s: skip: empty leaves out datasets that hold no rows, and %s holds %d: leaving it out would drop them; nothing was written", d.position("skip"), ds.Name, ds.Rows)
	}
	return true, nil
}
