package redis

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/imbundle/imbundle/spec"
)

// Drop empties the logical databases a rollback restores (kind
// "database"): a rollback bundle holds each one's whole prior content,
// so emptying it first removes every key the import added. A function
// library (the import created it) is deleted.
func (t *Target) Drop(ctx context.Context, objs []spec.RollbackObject) error {
	for _, o := range objs {
		if o.Kind == spec.ObjectLibrary {
			if err := t.deleteLibrary(ctx, o.Name); err != nil {
				return err
			}
			continue
		}
		db, err := strconv.Atoi(o.Namespace)
		if o.Kind != "database" || err != nil || db < 0 {
			return fmt.Errorf("%s: cannot drop a %s (%s)", t.redacted, o.Kind, o.Namespace)
		}
		pl, err := t.pool(ctx, db)
		if err != nil {
			return err
		}
		v, err := pl.conns[0].Do(ctx, "FLUSHDB")
		if err == nil {
			err = v.Err()
		}
		if err != nil {
			return fmt.Errorf("%s: FLUSHDB in db %d: %w", t.redacted, db, err)
		}
	}
	return nil
}

// deleteLibrary is FUNCTION DELETE; a library already gone is no error.
func (t *Target) deleteLibrary(ctx context.Context, name string) error {
	pl, err := t.pool(ctx, 0)
	if t.urlDB > 0 {
		pl, err = t.pool(ctx, t.urlDB)
	}
	if err != nil {
		return err
	}
	v, err := pl.conns[0].Do(ctx, "FUNCTION", "DELETE", name)
	if err == nil {
		if err = v.Err(); err != nil && strings.Contains(err.Error(), "not found") {
			err = nil
		}
	}
	if err != nil {
		return fmt.Errorf("%s: FUNCTION DELETE %s: %w", t.redacted, name, err)
	}
	return nil
}
