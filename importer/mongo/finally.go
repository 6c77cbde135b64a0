package mongo

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/imbundle/imbundle/internal/mongotype"
)

// WriteDocuments writes a mapping's finally documents (importer.
// DocumentWriter): each replaces the document of its _id, or is inserted,
// so that an import run again leaves one of each.
func (t *target) WriteDocuments(ctx context.Context, namespace, collection string, docs []bson.Raw) error {
	db := namespace
	if db == "" {
		db = t.database
	}
	if db == "" {
		return fmt.Errorf("the finally documents for %s name no database, and neither does the target URL: give the target as database.collection", collection)
	}
	coll := t.client.Database(db).Collection(collection)
	for _, d := range docs {
		_, err := coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: d.Lookup("_id")}}, d, options.Replace().SetUpsert(true))
		if err != nil {
			return mongotype.Step(t.redacted, "replace "+db+"."+collection, err)
		}
	}
	return nil
}
