package mongo

import (
	"context"
	"errors"
	"strconv"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/imbundle/imbundle/internal/mongotype"
	"github.com/imbundle/imbundle/spec"
)

// ResumeCheck summarises a collection's documents (exporter.ResumeChecker)
// for a resumed export: their count under the dataset's filter and the
// largest _id (BSON order). It sees inserts and deletes, not an update in
// place (SPEC.md §2.5). MongoDB exports have no snapshot: the exporter
// checks before and after the read and records nothing if they differ.
func (s *source) ResumeCheck(ctx context.Context, ds *spec.Dataset) (string, error) {
	db := s.databaseOf(ds)
	query, err := queryOf(ds)
	if err != nil {
		return "", err
	}
	coll := s.client.Database(db).Collection(ds.Object)
	n, err := coll.CountDocuments(ctx, query)
	if err != nil {
		return "", mongotype.Step(s.redacted, "count on "+db+"."+ds.Object, err)
	}
	fo := options.FindOne().SetSort(bson.D{{Key: "_id", Value: -1}}).SetProjection(bson.D{{Key: "_id", Value: 1}})
	raw, err := coll.FindOne(ctx, query, fo).Raw()
	last := ""
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
	case err != nil:
		return "", mongotype.Step(s.redacted, "largest _id on "+db+"."+ds.Object, err)
	default:
		last = raw.Lookup("_id").String()
	}
	return "docs=" + strconv.FormatInt(n, 10) + " last_id=" + last, nil
}
