package mongo

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/imbundle/imbundle/importer"
)

// Resume markers live in a database of their own on the target server
// (default "imbundle", --param state-db=NAME), collection "progress", never
// in the user's databases: after a successful import nothing of imbundle's
// remains there, and the state of an interrupted one is where a user looks
// for it. MongoDB has no transaction that could cover a part's documents
// and its marker on every deployment (FerretDB and standalone servers have
// none at all), so a part is made replay-safe instead: it is marked
// "started" before its first insert and "done" after its last; a part found
// "started" by a later run is loaded again inserting only the documents
// not yet in (load.go). Markers of a bundle are deleted when its import
// finishes, and the state database is dropped when nothing is left in it.

const (
	// DefaultStateDB is the database holding resume markers.
	DefaultStateDB = "imbundle"
	// progressCollection is the markers' collection in the state database.
	progressCollection = "progress"

	stateStarted = "started"
	stateDone    = "done"
	// collectionPart marks the collection itself: this bundle began loading
	// it, so a non-empty collection is a resumable one, not a conflict.
	collectionPart = -1
)

// markers is the progress collection of one state database.
type markers struct{ coll *mongo.Collection }

func newMarkers(c *mongo.Client, stateDB string) markers {
	return markers{coll: c.Database(stateDB).Collection(progressCollection)}
}

// markerID keys a marker by bundle and target namespace, so that one state
// database serves imports of several bundles into several databases.
// part is a part's index, collectionPart, or for a united item
// (importer.Item.United) a partOf document naming its dataset too.
func markerID(bundle, db, coll string, part any) bson.D {
	return bson.D{{Key: "bundle", Value: bundle}, {Key: "database", Value: db}, {Key: "collection", Value: coll}, {Key: "part", Value: part}}
}

// state returns the state recorded for a part ("" if none).
func (m markers) state(ctx context.Context, bundle, db, coll string, part any) (string, error) {
	var r struct {
		State string `bson:"state"`
	}
	err := m.coll.FindOne(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$eq", Value: markerID(bundle, db, coll, part)}}}}).Decode(&r)
	if err == mongo.ErrNoDocuments {
		return "", nil
	}
	return r.State, err
}

func (m markers) set(ctx context.Context, bundle, db, coll string, part any, state string, rows int64) error {
	id := markerID(bundle, db, coll, part)
	_, err := m.coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$eq", Value: id}}}},
		bson.D{{Key: "_id", Value: id}, {Key: "state", Value: state}, {Key: "rows", Value: rows}, {Key: "at", Value: time.Now().UTC()}},
		options.Replace().SetUpsert(true))
	return err
}

// clear deletes the markers of a target collection: of one bundle, or of
// every bundle when bundle is "" (the collection was dropped). The progress
// collection goes when it is empty, and the state database when it holds
// nothing else.
func (m markers) clear(ctx context.Context, bundle, db, coll string) error {
	f := bson.D{{Key: "_id.database", Value: db}, {Key: "_id.collection", Value: coll}}
	if bundle != "" {
		f = append(f, bson.E{Key: "_id.bundle", Value: bundle})
	}
	if _, err := m.coll.DeleteMany(ctx, f); err != nil {
		return err
	}
	return m.dropIfEmpty(ctx)
}

// clearAll deletes this bundle's markers of every target collection in one
// command, at the end of a successful import: deleting them collection by
// collection, a client killed in between left some collections without
// markers, and the re-run refused them as not its own.
func (m markers) clearAll(ctx context.Context, bundle string, targets [][2]string) error {
	if len(targets) == 0 {
		return nil
	}
	or := make(bson.A, len(targets))
	for i, t := range targets {
		or[i] = bson.D{{Key: "_id.database", Value: t[0]}, {Key: "_id.collection", Value: t[1]}}
	}
	if _, err := m.coll.DeleteMany(ctx, bson.D{{Key: "_id.bundle", Value: bundle}, {Key: "$or", Value: or}}); err != nil {
		return err
	}
	return m.dropIfEmpty(ctx)
}

// dropIfEmpty drops the markers collection and the state database once
// no import has markers in them.
func (m markers) dropIfEmpty(ctx context.Context) error {
	n, err := m.coll.CountDocuments(ctx, bson.D{}, options.Count().SetLimit(1))
	if err != nil || n > 0 {
		return err
	}
	if err := m.coll.Drop(ctx); err != nil {
		return err
	}
	names, err := m.coll.Database().ListCollectionNames(ctx, bson.D{})
	if err != nil || len(names) > 0 {
		return err
	}
	return m.coll.Database().Drop(ctx)
}

// partOf is the marker key of an item's part: its index, or for an item
// that shares its collection with others (a union) the dataset's name and
// the index, since each of them has a part 0.
func partOf(it *importer.Item, part int) any {
	if it.United {
		return bson.D{{Key: "dataset", Value: it.Dataset.Name}, {Key: "part", Value: part}}
	}
	return part
}
