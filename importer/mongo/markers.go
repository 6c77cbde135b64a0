package mongo

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	mongoexp "github.com/imbundle/imbundle/exporter/mongo"
)

// Resume markers live in the target database's imbundle_progress
// collection (the exporter skips it). MongoDB has no transaction that could
// cover a part's documents and its marker on every deployment (FerretDB and
// standalone servers have none at all), so a part is made replay-safe
// instead: it is marked "started" before its first insert and "done" after
// its last; a part found "started" by a later run is loaded again with
// upserts by _id, which cannot duplicate a document. Markers of a bundle
// are deleted when its import finishes.

const (
	stateStarted = "started"
	stateDone    = "done"
	// collectionPart marks the collection itself: this bundle began loading
	// it, so a non-empty collection is a resumable one, not a conflict.
	collectionPart = -1
)

func markerID(bundle, coll string, part int) bson.D {
	return bson.D{{Key: "bundle", Value: bundle}, {Key: "collection", Value: coll}, {Key: "part", Value: part}}
}

func markers(db *mongo.Database) *mongo.Collection {
	return db.Collection(mongoexp.ProgressCollection)
}

// markerState returns the state recorded for a part ("" if none).
func markerState(ctx context.Context, db *mongo.Database, bundle, coll string, part int) (string, error) {
	var m struct {
		State string `bson:"state"`
	}
	err := markers(db).FindOne(ctx, bson.D{{Key: "_id", Value: markerID(bundle, coll, part)}}).Decode(&m)
	if err == mongo.ErrNoDocuments {
		return "", nil
	}
	return m.State, err
}

func setMarker(ctx context.Context, db *mongo.Database, bundle, coll string, part int, state string, rows int64) error {
	id := markerID(bundle, coll, part)
	_, err := markers(db).ReplaceOne(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$eq", Value: id}}}},
		bson.D{{Key: "_id", Value: id}, {Key: "state", Value: state}, {Key: "rows", Value: rows}, {Key: "at", Value: time.Now().UTC()}},
		options.Replace().SetUpsert(true))
	return err
}

// clearMarkers deletes the markers of a collection: of one bundle, or of
// every bundle when bundle is "" (the collection was dropped). The
// progress collection goes when it is empty.
func clearMarkers(ctx context.Context, db *mongo.Database, bundle, coll string) error {
	f := bson.D{{Key: "_id.collection", Value: coll}}
	if bundle != "" {
		f = append(f, bson.E{Key: "_id.bundle", Value: bundle})
	}
	if _, err := markers(db).DeleteMany(ctx, f); err != nil {
		return err
	}
	n, err := markers(db).CountDocuments(ctx, bson.D{}, options.Count().SetLimit(1))
	if err == nil && n == 0 {
		err = markers(db).Drop(ctx)
	}
	return err
}
