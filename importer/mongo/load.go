package mongo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/mongotype"
)

// maxBatchBytes keeps an insert command well under the server's 48 MB
// message limit: a batch closes before a document that would take it past
// this, so only a single document of up to 16 MiB can make one bigger (the
// driver would split a command anyway; this bounds memory). Each batch in
// flight is held about four times over (our copies of the documents, the
// driver's marshalled command, its wire message, the batch being filled
// behind it): at 16 MiB an import of 24,000 documents of 19 KB peaked at
// 510-560 MB RSS, at 4 MiB at 250-275 MB in the same wall time (FerretDB,
// 2 jobs, 2 insert workers).
const maxBatchBytes = 4 << 20

// How a batch is written.
type writeMode int

const (
	// insertAll: one unordered insert; the target holds none of the batch.
	insertAll writeMode = iota
	// insertMissing: insert the documents whose _id the target lacks. For
	// a replayed part (an earlier run of the same bundle may have loaded
	// some of it, with these very bytes) and for retries of a batch whose
	// insert may be partly in.
	insertMissing
	// replaceExisting: insert the missing ones, replace the others by _id
	// (mode append: the bundle's version wins).
	replaceExisting
)

// LoadPart inserts one part's documents in unordered batches, at most
// t.workers commands in flight across all parts. Documents the server refuses go to the reject file
// with the server's reason. A part an earlier run finished is skipped; one
// it began is replayed inserting only the documents not yet in (see
// markers.go).
func (t *target) LoadPart(ctx context.Context, p *importer.Plan, it *importer.Item, part int, recs importer.RecordSource) (importer.PartResult, error) {
	st := t.item(it)
	mode := insertAll
	if p.ModeOf(it) == importer.ModeAppend {
		mode = replaceExisting
	}
	if st.markers {
		ms, err := t.marks.state(ctx, p.BundleID, it.Namespace, it.Object, partOf(it, part))
		if err != nil {
			return importer.PartResult{}, mongotype.Step(t.redacted, "read resume marker in "+t.marks.coll.Database().Name(), err)
		}
		switch ms {
		case stateDone:
			return importer.PartResult{Resumed: true}, nil
		case stateStarted:
			p.Log.Info("replaying a part an earlier run began: inserting the documents not yet in", "collection", it.Namespace+"."+it.Object, "part", part)
			mode = insertMissing
		}
		if err := t.marks.set(ctx, p.BundleID, it.Namespace, it.Object, partOf(it, part), stateStarted, 0); err != nil {
			return importer.PartResult{}, mongotype.Step(t.redacted, "write resume marker in "+t.marks.coll.Database().Name(), err)
		}
	}

	l := &partLoader{t: t, p: p, it: it, part: part, coll: st.coll, mode: mode}
	res, err := l.run(ctx, recs)
	if err != nil {
		return res, err
	}
	if st.markers {
		if err := t.marks.set(ctx, p.BundleID, it.Namespace, it.Object, partOf(it, part), stateDone, res.Rows); err != nil {
			return res, mongotype.Step(t.redacted, "write resume marker in "+t.marks.coll.Database().Name(), err)
		}
	}
	return res, nil
}

type partLoader struct {
	t    *target
	p    *importer.Plan
	it   *importer.Item
	part int
	coll *mongo.Collection
	mode writeMode

	mu       sync.Mutex
	written  int64
	rejected int64
}

// batch is a run of documents copied out of a record batch, with their row
// numbers in the part for the reject file.
type batch struct {
	docs []bson.Raw
	rows []int64
	// replaced: these documents were already sent again as replacements
	// after a duplicate key; a second duplicate key is not an _id of
	// another numeric type but another unique index, and is refused.
	replaced bool
}

func (b batch) slice(from, to int) batch {
	return batch{docs: b.docs[from:to], rows: b.rows[from:to], replaced: b.replaced}
}

func (l *partLoader) run(ctx context.Context, recs importer.RecordSource) (importer.PartResult, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg   sync.WaitGroup
		once sync.Once
		ferr error
	)
	sem := l.t.inflight
	submit := func(b batch) {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := l.write(ctx, b, l.mode); err != nil {
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
			var doc bson.Raw
			if _, has := rows.ID(i); has {
				doc = append(bson.Raw(nil), rows.Doc(i)...) // the record's buffers are not ours to keep
			} else {
				doc = withObjectID(rows.Doc(i))
			}
			if len(cur.docs) > 0 && curBytes+len(doc) > maxBatchBytes {
				submit(cur)
				cur, curBytes = batch{}, 0
			}
			cur.docs = append(cur.docs, doc)
			cur.rows = append(cur.rows, row)
			curBytes += len(doc)
			if len(cur.docs) >= l.t.batchDocs {
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

// withObjectID prepends a new ObjectId _id to a document that has none, as
// the driver and the server would on insert; doing it once, here, makes
// every retry of the document idempotent.
func withObjectID(doc bson.Raw) bson.Raw {
	idx, out := bsoncore.AppendDocumentStart(make([]byte, 0, len(doc)+17))
	out = bsoncore.AppendObjectIDElement(out, "_id", bson.NewObjectID())
	out = append(out, doc[4:len(doc)-1]...)
	out, _ = bsoncore.AppendDocumentEnd(out, idx)
	return bson.Raw(out)
}

// write sends one batch and accounts for every document: written, or in
// the reject file with the server's reason.
//
// A document-level refusal names the document (write errors carry its
// index). The documents after the first refused one are then sent again
// with insertMissing: a server that stops at the first error although the
// command is unordered (FerretDB 1.24 does, for updates) would otherwise
// lose them silently; on a server that went on, the resend finds them all
// present and writes nothing.
//
// When the server drops the connection instead (FerretDB does, on a value
// it cannot decode) or fails the command as a whole, the batch is split in
// halves, retried with insertMissing (a cut-off batch may be partly in),
// until the refused documents stand alone.
func (l *partLoader) write(ctx context.Context, b batch, mode writeMode) error {
	err := l.send(ctx, b, mode)
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
		first := len(b.docs)
		var dups, present []int
		for _, we := range bwe.WriteErrors {
			if we.Index < 0 || we.Index >= len(b.docs) || refused[we.Index] {
				return fmt.Errorf("server reported a write error for document %d of a batch of %d: %w", we.Index, len(b.docs), err)
			}
			refused[we.Index] = true
			first = min(first, we.Index)
			switch {
			case we.Code == duplicateKey && l.mode == replaceExisting && !b.replaced:
				// Append: the _id is there under a numerically equal value
				// of another type (1 vs 1.0); replace it.
				dups = append(dups, we.Index)
				continue
			case we.Code == duplicateKey:
				// The document may be in already, written by an earlier
				// run whose insert reached the server after this run
				// looked the _ids up (a client killed mid-command).
				present = append(present, we.Index)
				continue
			}
			reason := fmt.Sprintf("server refused the document (code %d): %s", we.Code, we.Message)
			if err := l.reject("", b.docs[we.Index], b.rows[we.Index], reason); err != nil {
				return err
			}
		}
		l.count(int64(first), 0) // before the first error every server went through
		if err := l.settleDuplicates(ctx, b, present, bwe); err != nil {
			return err
		}
		again := batch{replaced: true}
		for _, i := range dups {
			again.docs, again.rows = append(again.docs, b.docs[i]), append(again.rows, b.rows[i])
		}
		if len(again.docs) > 0 {
			if err := l.write(ctx, again, replaceExisting); err != nil {
				return err
			}
		}
		var rest batch
		for i := first + 1; i < len(b.docs); i++ {
			if !refused[i] {
				rest.docs, rest.rows = append(rest.docs, b.docs[i]), append(rest.rows, b.rows[i])
			}
		}
		if len(rest.docs) == 0 {
			return nil
		}
		return l.write(ctx, rest, max(mode, insertMissing))
	}
	if fatal(err) {
		return mongotype.Step(l.t.redacted, "insert into "+l.it.Namespace+"."+l.it.Object, err)
	}
	retry := max(mode, insertMissing)
	if len(b.docs) > 1 {
		h := len(b.docs) / 2
		if err := l.write(ctx, b.slice(0, h), retry); err != nil {
			return err
		}
		return l.write(ctx, b.slice(h, len(b.docs)), retry)
	}
	// One document, refused as a whole command or with a dropped
	// connection. Is the server still there? Then it is this document.
	if perr := l.coll.Database().Client().Ping(ctx, nil); perr != nil {
		return fmt.Errorf("insert into %s.%s failed (%v) and the server no longer answers: %w", l.it.Namespace, l.it.Object, err, perr)
	}
	if err2 := l.send(ctx, b, retry); err2 == nil {
		l.count(1, 0)
		return nil
	}
	reason := "server refused the document: " + err.Error()
	if mongo.IsNetworkError(err) {
		reason = "server closed the connection on this document alone (a server that cannot decode one of its values does this; FerretDB 1.x for NaN, ±Infinity, Decimal128, MinKey/MaxKey, JavaScript, Symbol, Undefined, DBPointer): " + err.Error()
	}
	return l.reject("", b.docs[0], b.rows[0], reason)
}

// duplicateKey is the server's E11000 (DuplicateKey).
const duplicateKey = 11000

// settleDuplicates accounts for the documents of b at idx that the server
// refused as duplicate keys: one whose _id holds a byte-identical document
// is already loaded (an earlier run of this bundle wrote it) and counts as
// written; any other is a reject naming the difference. A unique index
// other than _id refuses with E11000 too, with no document of this _id
// present: that is a reject as well.
func (l *partLoader) settleDuplicates(ctx context.Context, b batch, idx []int, bwe mongo.BulkWriteException) error {
	if len(idx) == 0 {
		return nil
	}
	docs := make([]bson.Raw, len(idx))
	for k, i := range idx {
		docs[k] = b.docs[i]
	}
	have, err := l.existing(ctx, docs)
	if err != nil {
		return fmt.Errorf("insert into %s.%s: look up documents refused as duplicate keys: %w", l.it.Namespace, l.it.Object, err)
	}
	messages := map[int]string{}
	for _, we := range bwe.WriteErrors {
		messages[we.Index] = we.Message
	}
	for _, i := range idx {
		d := b.docs[i]
		got, ok := have[string(mongotype.EncodeID(d.Lookup("_id")))]
		switch {
		case ok && bytes.Equal(got, d):
			l.count(1, 0)
			continue
		case ok:
			err = l.reject("", d, b.rows[i], fmt.Sprintf("server refused the document (code %d): %s; the collection holds another document with this _id (mode append replaces it)", duplicateKey, messages[i]))
		default:
			err = l.reject("", d, b.rows[i], fmt.Sprintf("server refused the document (code %d): %s", duplicateKey, messages[i]))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// existing returns the target's documents with the _ids of docs, keyed by
// their EncodeID bytes.
func (l *partLoader) existing(ctx context.Context, docs []bson.Raw) (map[string]bson.Raw, error) {
	ids := make(bson.A, len(docs))
	size := 0
	for i, d := range docs {
		ids[i] = d.Lookup("_id")
		size += len(d)
	}
	sizer := mongotype.NewCursorSizer(int32(len(docs)+1), size/len(docs))
	cur, err := l.coll.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}, options.Find().SetBatchSize(sizer.First()))
	if err != nil {
		return nil, err
	}
	defer cur.Close(ctx)
	out := map[string]bson.Raw{}
	for cur.Next(ctx) {
		out[string(mongotype.EncodeID(cur.Current.Lookup("_id")))] = append(bson.Raw(nil), cur.Current...)
		sizer.Saw(len(cur.Current))
		if cur.RemainingBatchLength() == 0 {
			cur.SetBatchSize(sizer.Next())
		}
	}
	return out, cur.Err()
}

// beforeInsert, when set (by tests), runs before each insert command with
// the documents it will send: it stands in for another client's write that
// lands between the lookup of present _ids and the insert.
var beforeInsert func(ctx context.Context, coll *mongo.Collection, docs []bson.Raw) error

// send writes a batch in one or two commands. Validation is bypassed as
// mongorestore does: documents that predate a validator on the source must
// load (validators are applied after the data anyway).
func (l *partLoader) send(ctx context.Context, b batch, mode writeMode) error {
	docs := b.docs
	var existing []bson.Raw
	if mode != insertAll {
		have, err := l.present(ctx, b.docs)
		if err != nil {
			return err
		}
		docs = nil
		for _, d := range b.docs {
			id := d.Lookup("_id")
			if have[string(mongotype.EncodeID(id))] {
				existing = append(existing, d)
			} else {
				docs = append(docs, d)
			}
		}
	}
	if len(docs) > 0 {
		if beforeInsert != nil {
			if err := beforeInsert(ctx, l.coll, docs); err != nil {
				return err
			}
		}
		anyDocs := make([]any, len(docs))
		for i, d := range docs {
			anyDocs[i] = d
		}
		if _, err := l.coll.InsertMany(ctx, anyDocs, options.InsertMany().SetOrdered(false).SetBypassDocumentValidation(true)); err != nil {
			return remapIndexes(err, b.docs, docs)
		}
	}
	if mode != replaceExisting || len(existing) == 0 {
		return nil
	}
	// Upserts are slow on some servers (FerretDB: one transaction each), so
	// only the documents already present are replaced.
	models := make([]mongo.WriteModel, len(existing))
	for i, d := range existing {
		// $eq: an _id that is itself a document is matched as a value,
		// never read as query operators.
		models[i] = mongo.NewReplaceOneModel().
			SetFilter(bson.D{{Key: "_id", Value: bson.D{{Key: "$eq", Value: d.Lookup("_id")}}}}).
			SetReplacement(d).
			SetUpsert(true)
	}
	_, err := l.coll.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false).SetBypassDocumentValidation(true))
	return remapIndexes(err, b.docs, existing)
}

// present returns the _ids (as EncodeID bytes) of docs the target holds.
func (l *partLoader) present(ctx context.Context, docs []bson.Raw) (map[string]bool, error) {
	ids := make(bson.A, len(docs))
	for i, d := range docs {
		ids[i] = d.Lookup("_id")
	}
	cur, err := l.coll.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}).SetBatchSize(int32(len(docs)+1)))
	if err != nil {
		return nil, err
	}
	defer cur.Close(ctx)
	have := map[string]bool{}
	for cur.Next(ctx) {
		have[string(mongotype.EncodeID(cur.Current.Lookup("_id")))] = true
	}
	return have, cur.Err()
}

// remapIndexes turns write-error indexes into sub (a subset of all, in
// order) into indexes into all.
func remapIndexes(err error, all, sub []bson.Raw) error {
	var bwe mongo.BulkWriteException
	if err == nil || len(sub) == len(all) || !errors.As(err, &bwe) {
		return err
	}
	pos := make([]int, 0, len(sub))
	j := 0
	for i := range all {
		if j < len(sub) && &all[i][0] == &sub[j][0] {
			pos = append(pos, i)
			j++
		}
	}
	out := bwe
	out.WriteErrors = append([]mongo.BulkWriteError(nil), bwe.WriteErrors...)
	for k := range out.WriteErrors {
		if ix := out.WriteErrors[k].Index; ix >= 0 && ix < len(pos) {
			out.WriteErrors[k].Index = pos[ix]
		}
	}
	return out
}

// fatal errors end the import: they are about the connection's rights or
// the server's state, not about a document.
func fatal(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || mongo.IsTimeout(err) {
		return true // a server that does not answer in time is not a document's fault
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
