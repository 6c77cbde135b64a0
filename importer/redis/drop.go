package redis

import (
	"context"
	"fmt"
	"strconv"

	"github.com/imbundle/imbundle/spec"
)

// Drop empties the logical databases a rollback restores (kind
// "database"): a rollback bundle holds each one's whole prior content,
// so emptying it first removes every key the import added.
func (t *Target) Drop(ctx context.Context, objs []spec.RollbackObject) error {
	for _, o := range objs {
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
