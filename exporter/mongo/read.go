package mongo

import (
	"context"
	"fmt"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/mongotype"
	"github.com/imbundle/imbundle/spec"
)

// defaultCursorBatch bounds the documents per reply: large enough that
// round trips do not dominate for small documents. Within it each reply is
// sized by bytes (batchsize.go).
const defaultCursorBatch = 1000

// Read streams a collection through one cursor, in record batches of about
// bundle.DefaultBatchBytes. Each reply is sized from the documents seen so
// far to about replyBudget bytes (batchsize.go), so memory holds one reply
// and one record batch, whatever the collection's or the documents' size.
//
// Order: the server's natural order (a collection scan, the fastest read a
// server offers: FerretDB 1.24, for one, sorts by _id in memory, at a third
// of the speed). Nothing depends on the order: the content digest is
// order-independent and verify locates differing documents by _id lookups
// (diff.go). --param sort=_id reads in _id order instead (BSON comparison
// order, served by the _id index on MongoDB), for parts whose key ranges
// are _id ranges.
//
// The database read is the URL's when it names one, else ds.Namespace: so
// verify --against mongodb://host/copy reads the copy, whatever database the
// bundle came from.
func (s *source) Read(ctx context.Context, ds *spec.Dataset, emit func(arrow.RecordBatch) error) error {
	db := s.databaseOf(ds)
	batch := int32(defaultCursorBatch)
	if v := s.opts.Param("cursor-batch"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fmt.Errorf("--param cursor-batch=%q: want a positive number of documents", v)
		}
		batch = int32(n)
	}
	coll := s.client.Database(db).Collection(ds.Object)
	sizer := mongotype.NewCursorSizer(batch, 0)
	fo := options.Find().SetBatchSize(sizer.First())
	switch v := s.opts.Param("sort"); v {
	case "", "natural":
	case "_id":
		// allowDiskUse: time-series collections have no _id index, and
		// their sort may exceed the server's in-memory sort limit.
		fo.SetSort(bson.D{{Key: "_id", Value: 1}}).SetAllowDiskUse(true)
	default:
		return fmt.Errorf("--param sort=%q: want natural or _id", v)
	}
	query, err := queryOf(ds)
	if err != nil {
		return err
	}
	cur, err := coll.Find(ctx, query, fo)
	if err != nil {
		return mongotype.Step(s.redacted, "find on "+db+"."+ds.Object, err)
	}
	defer cur.Close(context.Background())

	b := mongotype.NewBuilder(nil)
	defer b.Release()
	var n int64
	flush := func() error {
		if b.Len() == 0 {
			return nil
		}
		// exporter counts the documents emitted (Options.Progress).
		rec := b.NewRecord()
		defer rec.Release()
		return emit(rec)
	}
	for cur.Next(ctx) {
		if err := b.Append(cur.Current); err != nil {
			return fmt.Errorf("%s.%s: document #%d: %w", db, ds.Object, n, err)
		}
		n++
		sizer.Saw(len(cur.Current))
		if cur.RemainingBatchLength() == 0 {
			cur.SetBatchSize(sizer.Next())
		}
		if b.Bytes() >= bundle.DefaultBatchBytes || (s.opts.BatchRows > 0 && b.Len() >= s.opts.BatchRows) {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := cur.Err(); err != nil {
		return mongotype.Step(s.redacted, fmt.Sprintf("cursor on %s.%s, after %d documents", db, ds.Object, n), err)
	}
	return flush()
}

// Locate names the collection Read reads for ds (exporter.Locator).
func (s *source) Locate(ds *spec.Dataset) string { return s.databaseOf(ds) + "." + ds.Object }

func (s *source) databaseOf(ds *spec.Dataset) string {
	if s.database != "" {
		return s.database
	}
	return ds.Namespace
}
