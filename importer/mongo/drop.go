package mongo

import (
	"context"
	"fmt"

	"github.com/imbundle/imbundle/spec"
)

// Drop removes collections and views an import created (a rollback); one
// already gone is no error.
func (t *target) Drop(ctx context.Context, objs []spec.RollbackObject) error {
	for _, o := range objs {
		if o.Kind != "collection" && o.Kind != spec.ObjectView {
			return fmt.Errorf("%s: cannot drop a %s (%s.%s)", t.redacted, o.Kind, o.Namespace, o.Name)
		}
		if err := t.client.Database(o.Namespace).Collection(o.Name).Drop(ctx); err != nil {
			return fmt.Errorf("%s: drop %s %s.%s: %w", t.redacted, o.Kind, o.Namespace, o.Name, err)
		}
	}
	return nil
}
