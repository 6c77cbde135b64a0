package mongo

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/internal/mongotype"
	"github.com/imbundle/imbundle/spec"
)

// diffBatch is the number of _ids looked up per query at most; a lookup
// also closes at mongotype.ReplyBudget bytes of the bundle's documents, since the
// target's reply holds documents of about their size.
const diffBatch = 1000

// maxDiffIDs bounds the bundle _id set kept to name documents only the
// target holds (8 bytes each: 400 MiB at the bound).
const maxDiffIDs = 50_000_000

// Diff names the documents that differ between the bundle and the target
// by looking each bundle document up by _id (in batches), then scanning
// the target's _ids for documents the bundle lacks. It needs no common
// order, so Read can use the server's natural order.
func (s *source) Diff(ctx context.Context, ds *spec.Dataset, bundleRows func(func(arrow.RecordBatch) error) error, limit int) ([]exporter.Difference, error) {
	coll := s.client.Database(s.databaseOf(ds)).Collection(ds.Object)
	var (
		diffs   []exporter.Difference
		ids     []uint64 // 8-byte hashes of the bundle's _ids, for the second pass
		idsFull bool
		row     int64
	)
	type pending struct {
		id   bson.RawValue
		json string
		sum  [32]byte
		row  int64
	}
	var batch []pending
	var batchBytes int
	lookup := func() error {
		if len(batch) == 0 {
			return nil
		}
		sizer := mongotype.NewCursorSizer(int32(len(batch)+1), batchBytes/len(batch))
		in := make(bson.A, len(batch))
		for i, p := range batch {
			in[i] = p.id
		}
		cur, err := coll.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: in}}}}, options.Find().SetBatchSize(sizer.First()))
		if err != nil {
			return err
		}
		have := map[string][32]byte{}
		for cur.Next(ctx) {
			have[string(mongotype.EncodeID(cur.Current.Lookup("_id")))] = sha256.Sum256(cur.Current)
			sizer.Saw(len(cur.Current))
			if cur.RemainingBatchLength() == 0 {
				cur.SetBatchSize(sizer.Next())
			}
		}
		err = cur.Err()
		cur.Close(ctx)
		if err != nil {
			return err
		}
		for _, p := range batch {
			sum, ok := have[string(mongotype.EncodeID(p.id))]
			switch {
			case !ok:
				diffs = append(diffs, exporter.Difference{Row: p.row, BundleKey: []string{p.json}})
			case sum != p.sum:
				diffs = append(diffs, exporter.Difference{Row: p.row, BundleKey: []string{p.json}, TargetKey: []string{p.json}})
			}
		}
		batch, batchBytes = batch[:0], 0
		return nil
	}
	errEnough := fmt.Errorf("enough differences")
	err := bundleRows(func(rec arrow.RecordBatch) error {
		rows, err := mongotype.RowsOf(rec)
		if err != nil {
			return err
		}
		for i := 0; i < rows.Len(); i, row = i+1, row+1 {
			id, ok := rows.ID(i)
			if !ok {
				continue // no _id to look it up by; the digest still counts it
			}
			id = bson.RawValue{Type: id.Type, Value: slices.Clone(id.Value)}
			batch = append(batch, pending{id: id, json: rows.IDJSON(i), sum: sha256.Sum256(rows.Doc(i)), row: row})
			batchBytes += len(rows.Doc(i))
			if !idsFull {
				if len(ids) >= maxDiffIDs {
					idsFull, ids = true, nil
				} else {
					ids = append(ids, idHash(mongotype.EncodeID(id)))
				}
			}
			if len(batch) == diffBatch || batchBytes >= mongotype.ReplyBudget {
				if err := lookup(); err != nil {
					return err
				}
				if len(diffs) >= limit {
					return errEnough
				}
			}
		}
		return nil
	})
	if err == nil {
		err = lookup()
	}
	if err != nil && err != errEnough {
		return diffs, mongotype.Step(s.redacted, "look up the bundle's _ids in "+s.Locate(ds), err)
	}
	if len(diffs) >= limit || idsFull {
		return truncate(diffs, limit), nil
	}

	// Documents only the target holds.
	slices.Sort(ids)
	cur, err := coll.Find(ctx, bson.D{}, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}).SetBatchSize(diffBatch))
	if err != nil {
		return diffs, mongotype.Step(s.redacted, "scan the _ids of "+s.Locate(ds), err)
	}
	defer cur.Close(ctx)
	var trow int64
	for cur.Next(ctx) && len(diffs) < limit {
		id, err := cur.Current.LookupErr("_id")
		if err == nil {
			if _, found := slices.BinarySearch(ids, idHash(mongotype.EncodeID(id))); !found {
				js, _ := mongotype.IDJSON(id)
				diffs = append(diffs, exporter.Difference{Row: trow, TargetKey: []string{js}})
			}
		}
		trow++
	}
	if err := cur.Err(); err != nil {
		return diffs, mongotype.Step(s.redacted, "scan the _ids of "+s.Locate(ds), err)
	}
	return truncate(diffs, limit), nil
}

func idHash(b []byte) uint64 {
	h := sha256.Sum256(b)
	return binary.BigEndian.Uint64(h[:8])
}

func truncate(d []exporter.Difference, n int) []exporter.Difference {
	if len(d) > n {
		return d[:n]
	}
	return d
}
