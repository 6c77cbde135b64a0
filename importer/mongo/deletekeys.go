package mongo

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/mongotype"
)

// deleteBatch is how many _ids one deleteMany names.
const deleteBatch = 1000

// DeleteKeys removes the documents of a delta's deleted keys by _id
// (importer.KeyDeleter): deleteMany({_id: {$in: [...]}}), each _id the
// BSON value the _id column's bytes hold (SPEC.md §9.2). A collection a
// delta changes by rows is loaded in append mode, which keeps no resume
// markers: there is nothing of an earlier run to forget.
func (t *target) DeleteKeys(ctx context.Context, p *importer.Plan, it *importer.Item, keys importer.RecordSource) (int64, error) {
	coll := t.item(it).coll
	var (
		ids     bson.A
		deleted int64
	)
	send := func() error {
		if len(ids) == 0 {
			return nil
		}
		res, err := coll.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
		if err != nil {
			return mongotype.Step(t.redacted, "delete from "+it.Namespace+"."+it.Object, err)
		}
		deleted += res.DeletedCount
		ids = ids[:0]
		return nil
	}
	for {
		rec, err := keys.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return deleted, err
		}
		idx := rec.Schema().FieldIndices("_id")
		if len(idx) != 1 {
			return deleted, fmt.Errorf("deleted keys of dataset %q have no _id column", it.Dataset.Name)
		}
		col, ok := bundle.AsVarLen(rec.Column(idx[0]))
		if !ok {
			return deleted, fmt.Errorf("deleted keys of dataset %q: the _id column is %s, not binary", it.Dataset.Name, rec.Column(idx[0]).DataType())
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			if col.IsNull(i) {
				return deleted, fmt.Errorf("deleted keys of dataset %q: row %d has no _id", it.Dataset.Name, i)
			}
			id, err := mongotype.DecodeID(bytes.Clone(col.Value(i))) // the batch is released after it
			if err != nil {
				return deleted, fmt.Errorf("deleted keys of dataset %q row %d: %w", it.Dataset.Name, i, err)
			}
			ids = append(ids, id)
			if len(ids) == deleteBatch {
				if err := send(); err != nil {
					return deleted, err
				}
			}
		}
	}
	return deleted, send()
}
