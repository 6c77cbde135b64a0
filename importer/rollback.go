package importer

import (
	"context"

	"github.com/imbundle/imbundle/spec"
)

// Dropper is implemented by targets that can remove objects an import
// created, for a rollback (package rollback): tables, collections, schema
// objects, or the keys of a Redis database (kind "database" empties it).
// An object already gone is no error.
type Dropper interface {
	Drop(ctx context.Context, objs []spec.RollbackObject) error
}
