// Package rollback writes, before an import's first write, a bundle of the
// prior state of everything the import will overwrite or delete, and puts
// a target back from such a bundle (SPEC.md §13).
package rollback

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/spec"
)

// Object kinds of a rollback that are not schema object kinds.
const (
	KindTable      = "table"
	KindCollection = "collection"
	KindDatabase   = "database" // a Redis logical database, or a MySQL database
)

// touched lists the target objects an import of plan changes: for MySQL
// the tables and the schema objects it creates or replaces, for MongoDB
// the collections and views, for Redis the logical databases it writes
// keys into (whole: a database's prior content is small next to knowing
// exactly which keys a conversion writes, and restores exactly).
func touched(engine string, plan *importer.Plan) ([]spec.RollbackObject, error) {
	seen := map[spec.RollbackObject]bool{}
	var out []spec.RollbackObject
	add := func(o spec.RollbackObject) {
		if !seen[o] {
			seen[o] = true
			out = append(out, o)
		}
	}
	renames := map[string]string{}
	tables := map[string]bool{}
	for _, it := range plan.Items {
		renames[it.Dataset.Namespace] = it.Namespace
		tables[it.Dataset.Namespace+"."+it.Dataset.Object] = true
		switch engine {
		case "mysql":
			add(spec.RollbackObject{Kind: KindTable, Namespace: it.Namespace, Name: it.Object})
		case "mongodb":
			add(spec.RollbackObject{Kind: KindCollection, Namespace: it.Namespace, Name: it.Object})
		case "redis":
			if _, err := strconv.Atoi(it.Namespace); err != nil {
				return nil, fmt.Errorf("dataset %q: Redis database %q is not a number", it.Dataset.Name, it.Namespace)
			}
			add(spec.RollbackObject{Kind: KindDatabase, Namespace: it.Namespace})
		default:
			return nil, refuse("a %s target has no rollback capture", engine)
		}
	}
	// The tables and collections a delta drops (importer/delta.go) are
	// captured whole, as those it loads.
	for _, it := range plan.Dropped {
		switch engine {
		case "mysql":
			add(spec.RollbackObject{Kind: KindTable, Namespace: it.Namespace, Name: it.Object})
		case "mongodb":
			add(spec.RollbackObject{Kind: KindCollection, Namespace: it.Namespace, Name: it.Object})
		}
	}
	engines := map[string]string{}
	for _, s := range plan.Manifest.Sources {
		engines[s.ID] = s.Engine
	}
	for _, o := range plan.Manifest.Objects {
		if engines[o.Source] != engine {
			continue // another engine's objects: convertedObjects refused or hid them
		}
		ns, ok := renames[o.Namespace]
		switch {
		case engine == "redis":
			// Server-wide: every export of the server carries the prior
			// ones; a library the import creates is deleted by a rollback.
			add(spec.RollbackObject{Kind: o.Kind, Name: o.Name})
			continue
		case o.Kind == spec.ObjectUser:
			return nil, refuse("the bundle holds MySQL accounts (%s), which a rollback does not remove", o.Name)
		case !ok || o.Kind == spec.ObjectTrigger && !tables[o.Namespace+"."+o.Table]:
			continue // the import does not restore it (importer/mysql planObjects)
		}
		add(spec.RollbackObject{Kind: o.Kind, Namespace: ns, Name: o.Name, Table: o.Table})
	}
	sort.SliceStable(out, func(i, j int) bool { return key(out[i]) < key(out[j]) })
	return out, nil
}

func key(o spec.RollbackObject) string { return o.Kind + "/" + o.Namespace + "/" + o.Name }

// RefusedError is a case the rollback capture cannot make exact: the
// import stops before it writes, naming --no-rollback.
type RefusedError struct{ Reason string }

func (e *RefusedError) Error() string {
	return e.Reason + "; nothing was written. Import with --no-rollback to go on without a rollback bundle (restoring an earlier export with --mode replace is then the way back)"
}

func refuse(format string, args ...any) error {
	return importer.Refused(&RefusedError{Reason: fmt.Sprintf(format, args...)})
}

// pattern is a --tables pattern that matches ns.name literally.
func pattern(ns, name string) string {
	var b strings.Builder
	for _, s := range []string{ns, ".", name} {
		if s == "." {
			b.WriteByte('.')
			continue
		}
		for _, c := range s {
			if strings.ContainsRune(`*?[]\`, c) {
				b.WriteByte('\\')
			}
			b.WriteRune(c)
		}
	}
	return b.String()
}
