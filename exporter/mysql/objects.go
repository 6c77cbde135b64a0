package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"

	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/internal/mysqltype"
	"github.com/imbundle/imbundle/internal/scheme"
	"github.com/imbundle/imbundle/spec"
)

// checkObjectParams refuses a bad value of the --param keys of schema
// objects (users, history), before anything is read.
func checkObjectParams(opts exporter.Options) error {
	for _, k := range []string{"users", "history"} {
		switch v := opts.Param(k); v {
		case "", "true", "false":
		default:
			return scheme.Usagef("--param %s=%q: want true or false", k, v)
		}
	}
	return nil
}

// maxUncarriedNames bounds the names an Uncarried entry lists.
const maxUncarriedNames = 10

// describeObjects adds the schema objects of the exported databases to desc
// (SPEC.md §7.7), and counts in desc.Uncarried what the bundle leaves
// behind, each also logged as a warning so that it shows at export time.
// With --tables only the triggers of the listed tables travel: the views
// and routines of a database may read any of its tables.
func (s *Source) describeObjects(ctx context.Context, q *sql.Conn, desc *exporter.Description) error {
	whole := s.opts.Filter.Whole()
	dbSet := map[string]bool{}
	exported := map[string]bool{}
	for _, d := range desc.Datasets {
		dbSet[d.Spec.Namespace] = true
		exported[d.Spec.Namespace+"."+d.Spec.Object] = true
	}
	if whole && s.dbName != "" {
		dbSet[s.dbName] = true
	}
	dbs := make([]string, 0, len(dbSet))
	for db := range dbSet {
		dbs = append(dbs, db)
	}
	sort.Strings(dbs)

	left := map[string][]string{} // kind -> names left out by --tables
	for _, db := range dbs {
		objs, err := mysqltype.ListObjects(ctx, q, db)
		if err != nil {
			return fmt.Errorf("%s: %w", s.url, err)
		}
		for _, o := range objs {
			if !whole && !(o.Kind == spec.ObjectTrigger && exported[db+"."+o.Table]) {
				left[o.Kind] = append(left[o.Kind], db+"."+o.Name)
				continue
			}
			desc.Objects = append(desc.Objects, o)
		}
		packages, err := mysqltype.StringRows(ctx, q, "SELECT ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? AND ROUTINE_TYPE NOT IN ('FUNCTION', 'PROCEDURE') ORDER BY ROUTINE_NAME", db)
		if err != nil {
			return fmt.Errorf("%s: list packages of %s: %w", s.url, db, err)
		}
		for _, p := range packages {
			left["package"] = append(left["package"], db+"."+p[0])
		}
	}
	mysqltype.SortObjects(desc.Objects)

	kinds := make([]string, 0, len(left))
	for k := range left {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		reason := "--tables was given: only the listed tables' triggers travel; export the whole database (no --tables) to carry it"
		if k == "package" {
			reason = "Oracle-mode packages are not carried; recreate them on the target from SHOW CREATE PACKAGE"
		}
		desc.Uncarried = append(desc.Uncarried, uncarried(k, left[k], reason))
	}

	// History rows travel with --param history=true (markHistory).
	var history []string
	var historyRows int64
	for _, d := range desc.Datasets {
		if !strings.Contains(d.Spec.DDL, "WITH SYSTEM VERSIONING") || d.Spec.Options[optHistory] == "true" {
			continue
		}
		t := mysqltype.QuoteIdent(d.Spec.Namespace) + "." + mysqltype.QuoteIdent(d.Spec.Object)
		var n int64
		if err := q.QueryRowContext(ctx, "SELECT (SELECT COUNT(*) FROM "+t+" FOR SYSTEM_TIME ALL) - (SELECT COUNT(*) FROM "+t+")").Scan(&n); err != nil {
			return fmt.Errorf("%s: count history rows of %s.%s: %w", s.url, d.Spec.Namespace, d.Spec.Object, err)
		}
		if n > 0 {
			history = append(history, d.Spec.Name)
			historyRows += n
		}
	}
	if historyRows > 0 {
		u := uncarried("history rows", history, "system-versioned tables travel with their current rows and system time; --param history=true carries their history rows too")
		u.Count = historyRows
		desc.Uncarried = append(desc.Uncarried, u)
	}

	if err := s.describeUsers(ctx, q, desc); err != nil {
		return err
	}
	for _, u := range desc.Uncarried {
		s.opts.Log.Warn("not carried by the bundle", "kind", u.Kind, "count", u.Count, "names", strings.Join(u.Names, ", "), "reason", u.Reason)
	}
	return nil
}

// uncarried counts names and keeps the first few.
func uncarried(kind string, all []string, reason string) spec.Uncarried {
	u := spec.Uncarried{Kind: kind, Count: int64(len(all)), Reason: reason}
	u.Names = all
	if len(u.Names) > maxUncarriedNames {
		u.Names = u.Names[:maxUncarriedNames]
	}
	return u
}
