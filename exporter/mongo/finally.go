package mongo

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/imbundle/imbundle/internal/mongotype"
)

// ReadDocument reads one document by _id, for verify --against's check of
// a mapping's finally documents (verify.Finally); nil when there is none.
// namespace "" is the URL's database.
func (s *source) ReadDocument(ctx context.Context, namespace, collection string, id bson.RawValue) (bson.Raw, error) {
	db := namespace
	if db == "" {
		db = s.database
	}
	raw, err := s.client.Database(db).Collection(collection).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Raw()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	return raw, mongotype.Step(s.redacted, "find in "+db+"."+collection, err)
}
