package convert

import (
	"crypto/sha256"

	"strings"
)

// A mapping entry's union: true (SPEC.md §11.6) lets the several datasets
// its match takes load into the one object its target names: an
// application's shard tables (WildfireChat's t_messages_0..35) become one
// collection. Without it two datasets placed on one object stay refused
// (importer/place.go), since their rows would mix by accident.

// checkUnion refuses union where it has no meaning: an entry that names
// no single object (no target, or a route) or skips its datasets.
func (d *DatasetRule) checkUnion() error {
	if !d.Union {
		return nil
	}
	switch {
	case d.Skip != "":
		return d.errorAt("union", "an entry that skips its datasets takes no union")
	case d.routes():
		return d.errorAt("union", "union and route in one entry: union loads several datasets into the one object a target names")
	case d.Target == "":
		return d.errorAt("union", "union needs a target: the one object the matched datasets load into")
	case !strings.ContainsAny(d.Match, `*?[\`):
		return d.errorAt("union", "union needs a match that is a glob: %q names one dataset", d.Match)
	}
	return nil
}

// Unites reports whether the entry's datasets load together into its
// target (union: true).
func (d *DatasetRule) Unites() bool { return d != nil && d.Union }

// unionSum is the SHA-256 from which id: objectid takes a united
// dataset's _id: the bundle dataset's name, a 0 byte, then the key's _id
// element, so that the same key in two shards (both have id 1) gives two
// ObjectIds, and each the same on every run.
func unionSum(dataset string, el []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte(dataset))
	h.Write([]byte{0})
	h.Write(el)
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}
