package convert

import (
	"fmt"
	"strings"
)

// Nest is a mapping entry's nest key (SPEC.md §11.1, nested rows): the
// table's rows are grouped by the value of the expression By, each group
// becomes one document whose array field Into holds the group's rows as
// sub-documents, ordered by the columns Order (then by the bundle's row
// order). OpenIM 3.5+ keeps 100 messages of a conversation per msg
// document where OpenIM 3.4 kept a chat_logs row per message.
type Nest struct {
	By    string   `yaml:"by"`    // an expression over the row's columns: the group key, the document's _id
	Into  string   `yaml:"into"`  // the array field holding the group's rows
	Order []string `yaml:"order"` // columns ordering the rows within a group
	Key   string   `yaml:"key"`   // a field that repeats the group key beside _id, or ""
}

// checkNest checks the nest key on its own; whether its names are the
// table's columns is the rule's to check.
func (d *DatasetRule) checkNest() error {
	n := d.Nest
	if n == nil {
		return nil
	}
	if d.Unnest != nil || len(d.Keys) > 0 {
		return d.errorAt("nest", "nest takes no unnest or keys beside it")
	}
	plain := func(at, what, name string) error {
		switch {
		case strings.Contains(name, "."):
			return d.errorAt(at, "nest %s %s: a top-level field, a plain name", what, name)
		case name == "_id":
			return d.errorAt(at, "nest %s _id: _id is the group key", what)
		}
		return nil
	}
	switch {
	case strings.TrimSpace(n.By) == "":
		return d.errorAt("nest", "nest needs by: an expression over the row's columns giving the group key")
	case n.Into == "":
		return d.errorAt("nest", "nest needs into: the array field that holds a group's rows")
	case n.Key != "" && n.Key == n.Into:
		return d.errorAt("nest.key", "nest key %s is also the into field", n.Key)
	}
	if err := plain("nest.into", "into", n.Into); err != nil {
		return err
	}
	if n.Key != "" {
		if err := plain("nest.key", "key", n.Key); err != nil {
			return err
		}
	}
	seen := map[string]bool{}
	for i, o := range n.Order {
		at := fmt.Sprintf("nest.order[%d]", i)
		if o == "" {
			return d.errorAt(at, "an empty column name in nest order")
		}
		if seen[o] {
			return d.errorAt(at, "nest order names %s twice", o)
		}
		seen[o] = true
	}
	return nil
}
