package importer

import (
	"fmt"

	"github.com/imbundle/imbundle/spec"
)

// place puts every item where the target says, then applies the rules
// every engine shares: no two datasets load
// into one object (their rows would mix, and the second would find the
// first's rows in --mode fail), unless one mapping entry unites them
// (union.go).
func place(t Target, items []*Item) ([]*Item, error) {
	if err := t.Place(items); err != nil {
		return nil, err
	}
	items = dropEmptyMembers(items)
	seen := map[[2]string]*Item{}
	for _, it := range items {
		k := [2]string{it.Namespace, it.Object}
		if other, dup := seen[k]; dup {
			if err := unite(t, other, it); err != nil {
				return nil, err
			}
			continue
		}
		seen[k] = it
	}
	return items, nil
}

// dropEmptyMembers leaves out the empty member tables of a logical dataset
// (convert.Members) that another dataset of the import loads: a hybrid
// WildfireChat site's bundle holds its unused, empty message shards and
// the message collection that a route sends into those same tables. They
// add no row, and the other dataset's load creates or fills the table.
func dropEmptyMembers(items []*Item) []*Item {
	other := map[[2]string]bool{}
	for _, it := range items {
		if !it.isMember() {
			other[[2]string{it.Namespace, it.Object}] = true
		}
	}
	out := items[:0]
	digester := map[*spec.Dataset]bool{} // the dropped output digested its dataset's parts: the next one kept does
	for _, it := range items {
		if it.isMember() && it.Dataset.Rows == 0 && other[[2]string{it.Namespace, it.Object}] {
			if !it.sharedDigest {
				digester[it.Original] = true
			}
			continue
		}
		if digester[it.Original] {
			it.sharedDigest, digester[it.Original] = false, false
		}
		out = append(out, it)
	}
	return out
}

// NonEmptyError is a --mode fail refusal: target objects already hold data
// that this bundle's unfinished import did not write. Every engine refuses
// with it, so the message and the advice are the same everywhere.
type NonEmptyError struct {
	Kind    string   // "table", "collection", ...
	Objects []string // namespace.object, or an engine's own names
	Detail  string   // optional: what else the engine found
}

func (e *NonEmptyError) Error() string {
	msg := fmt.Sprintf("--mode fail: %d target %s(s) already hold data: %s", len(e.Objects), e.Kind, joinNames(e.Objects, 20))
	if e.Detail != "" {
		msg += " (" + e.Detail + ")"
	}
	return msg + "; nothing was written. Use --mode replace to empty and reload them, --mode append to add to them, or import elsewhere (a finished import leaves no resume state: imbundle import then compares the target with the bundle, and one that holds exactly the bundle is reported as already imported)"
}

// joinNames lists at most max names, then how many more.
func joinNames(names []string, max int) string {
	s := ""
	for i, n := range names {
		if i == max {
			return s + fmt.Sprintf(" and %d more", len(names)-max)
		}
		if i > 0 {
			s += ", "
		}
		s += n
	}
	return s
}
