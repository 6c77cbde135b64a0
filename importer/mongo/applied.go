package mongo

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/mongotype"
)

// The last-applied record (SPEC.md §14.3): one document per target
// database, _id the database's name, in the collection applied of the
// state database. It outlives the import, and keeps the state database
// (markers.dropIfEmpty drops it only when nothing is left in it).
const appliedCollection = "applied"

func (t *target) applied() *mongo.Collection {
	return t.marks.coll.Database().Collection(appliedCollection)
}

// LastApplied reads the record of p's namespaces (importer.Applied).
func (t *target) LastApplied(ctx context.Context, p *importer.Plan) (map[string]string, error) {
	out := map[string]string{}
	if len(p.Namespaces) == 0 {
		return out, nil
	}
	cur, err := t.applied().Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: p.Namespaces}}}})
	if err != nil {
		return nil, mongotype.Step(t.redacted, "read "+t.marks.coll.Database().Name()+"."+appliedCollection, err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var d struct {
			DB       string `bson:"_id"`
			BundleID string `bson:"bundle_id"`
		}
		if err := cur.Decode(&d); err != nil {
			return nil, err
		}
		out[d.DB] = d.BundleID
	}
	return out, cur.Err()
}

// RecordApplied records p's bundle as the last applied to each of its
// namespaces (importer.Applied).
func (t *target) RecordApplied(ctx context.Context, p *importer.Plan) error {
	base, depth := p.Lineage()
	now := time.Now().UTC()
	for _, ns := range p.Namespaces {
		doc := bson.D{{Key: "_id", Value: ns}, {Key: "bundle_id", Value: p.BundleID}, {Key: "base_id", Value: base}, {Key: "depth", Value: depth}, {Key: "applied_at", Value: now}}
		if _, err := t.applied().ReplaceOne(ctx, bson.D{{Key: "_id", Value: ns}}, doc, options.Replace().SetUpsert(true)); err != nil {
			return mongotype.Step(t.redacted, "write "+t.marks.coll.Database().Name()+"."+appliedCollection, err)
		}
	}
	return nil
}

// ForgetApplied deletes the record of p's namespaces (importer.Applied).
func (t *target) ForgetApplied(ctx context.Context, p *importer.Plan) error {
	if len(p.Namespaces) == 0 {
		return nil
	}
	if _, err := t.applied().DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: p.Namespaces}}}}); err != nil {
		return mongotype.Step(t.redacted, "clear "+t.marks.coll.Database().Name()+"."+appliedCollection, err)
	}
	return nil
}
