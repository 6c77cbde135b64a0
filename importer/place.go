package importer

import "fmt"

// place puts every item where the target says, then applies the rules
// every engine shares: no two datasets load
// into one object (their rows would mix, and the second would find the
// first's rows in --mode fail), unless one mapping entry unites them
// (union.go).
func place(t Target, items []*Item) error {
	if err := t.Place(items); err != nil {
		return err
	}
	seen := map[[2]string]*Item{}
	for _, it := range items {
		k := [2]string{it.Namespace, it.Object}
		if other, dup := seen[k]; dup {
			if err := unite(t, other, it); err != nil {
				return err
			}
			continue
		}
		seen[k] = it
	}
	return nil
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
