package mysql

import (
	"context"
	"fmt"
	"strings"

	"github.com/imbundle/imbundle/spec"
)

// Drop removes tables and schema objects an import created (a rollback):
// objects first, so that no view or trigger outlives what it reads, then
// tables, then databases that hold nothing any more (one that does was
// written to by someone else since, and is kept). One already gone is no
// error (IF EXISTS): a rollback may be run again.
func (t *Target) Drop(ctx context.Context, objs []spec.RollbackObject) error {
	pass := func(o spec.RollbackObject) int {
		switch o.Kind {
		case "table":
			return 1
		case "database":
			return 2
		}
		return 0
	}
	for p := range 3 {
		for _, o := range objs {
			if pass(o) != p {
				continue
			}
			if o.Kind == "database" {
				if err := t.dropEmptyDatabase(ctx, o.Namespace); err != nil {
					return err
				}
				continue
			}
			var kind string
			switch o.Kind {
			case "table", spec.ObjectView, spec.ObjectTrigger, spec.ObjectProcedure, spec.ObjectFunction, spec.ObjectEvent, spec.ObjectSequence:
				kind = strings.ToUpper(o.Kind)
			default:
				return fmt.Errorf("%s: cannot drop a %s (%s.%s)", t.url, o.Kind, o.Namespace, o.Name)
			}
			if _, err := t.db.ExecContext(ctx, "DROP "+kind+" IF EXISTS "+q(o.Namespace)+"."+q(o.Name)); err != nil {
				return fmt.Errorf("%s: drop %s %s.%s: %w", t.url, o.Kind, o.Namespace, o.Name, err)
			}
		}
	}
	return nil
}

// dropEmptyDatabase drops db if it holds no table, view or routine.
func (t *Target) dropEmptyDatabase(ctx context.Context, db string) error {
	var n int
	err := t.db.QueryRowContext(ctx, "SELECT (SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?) + (SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?) + (SELECT COUNT(*) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?)", db, db, db).Scan(&n)
	if err != nil {
		return fmt.Errorf("%s: drop database %s: %w", t.url, db, err)
	}
	if n > 0 {
		t.opts.Log.Warn("database kept: it holds objects the import did not create", "database", db, "objects", n)
		return nil
	}
	if _, err := t.db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+q(db)); err != nil {
		return fmt.Errorf("%s: drop database %s: %w", t.url, db, err)
	}
	return nil
}
