package mongo

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/mongotype"
)

// maxBatchBytes keeps an insert command well under the server's 48 MB
// message limit (the driver would split it anyway; this bounds memory).
const maxBatchBytes = 16 << 20

// LoadPart inserts one part's documents in unordered batches, t.workers
// commands in flight. Documents the server refuses go to the reject file
// with the server's reason. A part an earlier run finished is skipped; one
// it began is replayed with upserts by _id (see markers.go).
func (t *target) LoadPart(ctx context.Context, p *importer.Plan, it *importer.Item, part int, recs importer.RecordSource) (importer.PartResult, error) {
	st := t.item(it)
	db := st.coll.Database()
	upsert := p.Mode == importer.ModeAppend
	if st.markers {
		ms, err := markerState(ctx, db, p.BundleID, it.Object, part)
		if err != nil {
			return importer.PartResult{}, fmt.Errorf("read resume marker: %w", err)
		}
		switch ms {
		case stateDone:
			return importer.PartResult{Resumed: true}, nil
		case stateStarted:
			p.Log.Info("replaying a part an earlier run began, with upserts by _id", "collection", it.Namespace+"."+it.Object, "part", part)
			upsert = true
		}
		if err := setMarker(ctx, db, p.BundleID, it.Object, part, stateStarted, 0); err != nil {
			return importer.PartResult{}, fmt.Errorf("write resume marker: %w", err)
		}
	}

	l := &partLoader{t: t, p: p, it: it, part: part, coll: st.coll, upsert: upsert}
	res, err := l.run(ctx, recs)
	if err != nil {
		return res, err
	}
	if st.markers {
		if err := setMarker(ctx, db, p.BundleID, it.Object, part, stateDone, res.Rows); err != nil {
			return res, fmt.Errorf("write resume marker: %w", err)
		}
	}
	return res, nil
}

type partLoader struct {
	t      *target
	p      *importer.Plan
	it     *importer.Item
	part   int
	coll   *mongo.Collection
	upsert bool

	mu       sync.Mutex
	written  int64
	rejected int64
}

// batch is a run of documents copied out of a record batch, with their row
// numbers in the part for the reject file.
type batch struct {
	docs []bson.Raw
	rows []int64
}

func (l *partLoader) run(ctx context.Context, recs importer.RecordSource) (importer.PartResult, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg   sync.WaitGroup
		once sync.Once
		ferr error
	)
	sem := make(chan struct{}, l.t.workers)
	submit := func(b batch) {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := l.write(ctx, b, l.upsert); err != nil {
				once.Do(func() { ferr = err; cancel() })
			}
		}()
	}

	var cur batch
	var curBytes int
	var row int64
	err := importer.Drain(recs, func(rec arrow.RecordBatch) error {
		rows, err := mongotype.RowsOf(rec)
		if err != nil {
			return err
		}
		for i := 0; i < rows.Len(); i, row = i+1, row+1 {
			if err := rows.Check(i); err != nil {
				if err := l.reject(rows.IDJSON(i), rows.Doc(i), row, "bundle row is inconsistent: "+err.Error()); err != nil {
					return err
				}
				continue
			}
			doc := append(bson.Raw(nil), rows.Doc(i)...) // the record's buffers are not ours to keep
			cur.docs = append(cur.docs, doc)
			cur.rows = append(cur.rows, row)
			curBytes += len(doc)
			if len(cur.docs) >= l.t.batchDocs || curBytes >= maxBatchBytes {
				submit(cur)
				cur, curBytes = batch{}, 0
			}
		}
		return ctx.Err()
	})
	if err == nil && len(cur.docs) > 0 {
		submit(cur)
	}
	wg.Wait()
	if ferr != nil {
		err = ferr
	}
	return importer.PartResult{Rows: l.written, Rejected: l.rejected}, err
}

// write sends one batch. On a document-level refusal the server names the
// document (write errors carry its index); when the server instead drops
// the connection (FerretDB does, on a value it cannot decode) or fails the
// command as a whole, the batch is split in halves until the refused
// documents stand alone. Halves are retried with upserts, since a batch
// cut off by a dropped connection may be partly in.
func (l *partLoader) write(ctx context.Context, b batch, upsert bool) error {
	err := l.send(ctx, b, upsert)
	if err == nil {
		l.count(int64(len(b.docs)), 0)
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var bwe mongo.BulkWriteException
	if errors.As(err, &bwe) && len(bwe.WriteErrors) > 0 && bwe.WriteConcernError == nil {
		refused := map[int]bool{}
		for _, we := range bwe.WriteErrors {
			if we.Index < 0 || we.Index >= len(b.docs) || refused[we.Index] {
				return fmt.Errorf("server reported a write error for document %d of a batch of %d: %w", we.Index, len(b.docs), err)
			}
			refused[we.Index] = true
			reason := fmt.Sprintf("server refused the document (code %d): %s", we.Code, we.Message)
			if err := l.reject("", b.docs[we.Index], b.rows[we.Index], reason); err != nil {
				return err
			}
		}
		l.count(int64(len(b.docs)-len(refused)), 0)
		return nil
	}
	if fatal(err) {
		return fmt.Errorf("insert into %s.%s: %w", l.it.Namespace, l.it.Object, err)
	}
	if len(b.docs) > 1 {
		h := len(b.docs) / 2
		if err := l.write(ctx, batch{b.docs[:h], b.rows[:h]}, true); err != nil {
			return err
		}
		return l.write(ctx, batch{b.docs[h:], b.rows[h:]}, true)
	}
	// One document, refused as a whole command or with a dropped
	// connection. Is the server still there? Then it is this document.
	if perr := l.coll.Database().Client().Ping(ctx, nil); perr != nil {
		return fmt.Errorf("insert into %s.%s failed (%v) and the server no longer answers: %w", l.it.Namespace, l.it.Object, err, perr)
	}
	if err2 := l.send(ctx, b, true); err2 == nil {
		l.count(1, 0)
		return nil
	}
	reason := "server refused the document: " + err.Error()
	if mongo.IsNetworkError(err) {
		reason = "server closed the connection on this document alone (a server that cannot decode one of its values does this; FerretDB 1.x for NaN, ±Infinity, Decimal128, MinKey/MaxKey, JavaScript, Symbol, Undefined, DBPointer): " + err.Error()
	}
	return l.reject("", b.docs[0], b.rows[0], reason)
}

// send is one unordered insert (or upsert-by-_id) command. Validation is
// bypassed as mongorestore does: documents that predate a validator on the
// source must load (validators are applied after the data anyway).
func (l *partLoader) send(ctx context.Context, b batch, upsert bool) error {
	if !upsert {
		docs := make([]any, len(b.docs))
		for i, d := range b.docs {
			docs[i] = d
		}
		_, err := l.coll.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false).SetBypassDocumentValidation(true))
		return err
	}
	models := make([]mongo.WriteModel, len(b.docs))
	for i, d := range b.docs {
		id, err := d.LookupErr("_id")
		if err != nil {
			models[i] = mongo.NewInsertOneModel().SetDocument(d)
			continue
		}
		// $eq: an _id that is itself a document is matched as a value,
		// never read as query operators.
		models[i] = mongo.NewReplaceOneModel().
			SetFilter(bson.D{{Key: "_id", Value: bson.D{{Key: "$eq", Value: id}}}}).
			SetReplacement(d).
			SetUpsert(true)
	}
	_, err := l.coll.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false).SetBypassDocumentValidation(true))
	return err
}

// fatal errors end the import: they are about the connection's rights or
// the server's state, not about a document.
func fatal(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ce mongo.CommandError
	if errors.As(err, &ce) {
		switch ce.Code {
		case 13, 18, 8000, 10107, 11600, 11602, 13435, 189, 91: // Unauthorized, AuthenticationFailed, AtlasError, NotWritablePrimary, InterruptedAtShutdown, InterruptedDueToReplStateChange, NotPrimaryNoSecondaryOk, PrimarySteppedDown, ShutdownInProgress
			return true
		}
	}
	var bwe mongo.BulkWriteException
	if errors.As(err, &bwe) && bwe.WriteConcernError != nil {
		return true
	}
	return false
}

func (l *partLoader) count(written, rejected int64) {
	l.mu.Lock()
	l.written += written
	l.rejected += rejected
	l.mu.Unlock()
}

// reject records a refused document in the reject file with its _id and the
// whole document as canonical Extended JSON (exact for every BSON type).
func (l *partLoader) reject(idJSON string, doc bson.Raw, row int64, reason string) error {
	if l.p.Rejects == nil {
		return fmt.Errorf("row %d of part %d was refused (%s) and there is no reject file to record it in", row, l.part, reason)
	}
	if idJSON == "" {
		if id, err := doc.LookupErr("_id"); err == nil {
			idJSON, _ = mongotype.IDJSON(id)
		}
	}
	vals := map[string]any{}
	if js, err := bson.MarshalExtJSON(doc, true, false); err == nil {
		vals[mongotype.ColDoc] = string(js)
	} else {
		vals[mongotype.ColDoc+"_hex"] = fmt.Sprintf("%x", []byte(doc))
	}
	var key []string
	if idJSON != "" {
		key = []string{idJSON}
	}
	err := l.p.Rejects.Add(importer.Reject{Dataset: l.it.Dataset.Name, Part: l.part, Row: row, Key: key, Reason: reason, Values: vals})
	if err == nil {
		l.count(0, 1)
	}
	return err
}
