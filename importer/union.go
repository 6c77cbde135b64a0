package importer

import (
	"fmt"

	"github.com/imbundle/imbundle/convert"
)

// A union (a mapping entry's union: true, SPEC.md §11.6) loads the several
// datasets its match takes into the one object its target names. Each
// dataset stays an item of its own (its parts, digest, report and resume
// state); the target sees that they share the object (Item.United) and
// empties or checks it once, and keeps their resume markers apart.

// Uniter is implemented by targets that load several items into one
// object: their resume state tells the items' parts apart, and modes fail
// and replace treat the object once. Other targets refuse a union.
type Uniter interface {
	Unites() bool
}

// unite accepts it on the object other already takes when both come from
// one union entry and the target takes unions; else it is place's refusal.
func unite(t Target, other, it *Item) error {
	if other.union == nil || other.union != it.union {
		hint := ""
		if other.union != nil || it.union != nil || (other.Conversion != nil && it.Conversion != nil) {
			hint = ", or load them together with one mapping entry that matches both and has union: true"
		}
		return fmt.Errorf("datasets %q and %q would both load into %s.%s; map their namespaces apart (--map OLD=NEW) or import them in separate runs%s", other.Dataset.Name, it.Dataset.Name, it.Namespace, it.Object, hint)
	}
	if u, ok := t.(Uniter); !ok || !u.Unites() {
		return Refused(fmt.Errorf("datasets %q and %q: the union of %s loads several datasets into %s.%s, and this target loads no union yet (MongoDB does); nothing was written", other.Dataset.Name, it.Dataset.Name, it.union.Where(), it.Namespace, it.Object))
	}
	other.United, it.United = true, true
	return nil
}

// unionOf is the entry an item's dataset is united by, or nil.
func unionOf(rule *convert.DatasetRule) *convert.DatasetRule {
	if rule.Unites() {
		return rule
	}
	return nil
}
