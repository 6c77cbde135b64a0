package mongo

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// SetBeforeInsert installs a hook that runs before each insert command
// (nil removes it), for tests that simulate another client's late write.
func SetBeforeInsert(f func(ctx context.Context, coll *mongo.Collection, docs []bson.Raw) error) {
	beforeInsert = f
}
