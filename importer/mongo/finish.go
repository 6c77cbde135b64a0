package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/mongotype"
)

// Finish builds each collection's indexes (after the data: one build over
// the loaded documents is faster than maintaining them per insert), TTL
// indexes last, then applies validators, then creates the bundle's views,
// then deletes this bundle's resume markers. Failures are collected and
// reported together: the documents are in by then, and the message says
// which definitions the server did not take.
func (t *target) Finish(ctx context.Context, p *importer.Plan) error {
	var errs []error
	built := map[string]bool{}
	for _, it := range p.Items {
		st := t.item(it)
		name := it.Namespace + "." + it.Object
		for _, ix := range OrderIndexes(st.info.Indexes) {
			if k := name + "\x00" + mongotype.IndexName(ix); built[k] {
				continue // the same index of another dataset of a union (importer.Item.United)
			} else {
				built[k] = true
			}
			if mongotype.IsTTL(ix) {
				if t.ttl == "skip" {
					p.Log.Warn("TTL index not built (--param ttl-indexes=skip); create it once the import is checked", "collection", name, "index", ix.String())
					continue
				}
				p.Log.Warn("building a TTL index: the server will now delete documents whose time has passed", "collection", name, "index", mongotype.IndexName(ix))
			}
			if err := createIndex(ctx, st.coll, ix); err != nil {
				err = mongotype.Step(t.redacted, "createIndexes", err)
				errs = append(errs, fmt.Errorf("%s: index %s %s: %w", name, mongotype.IndexName(ix), ix, err))
			}
		}
		_, validation, err := mongotype.SplitOptions(st.info.Options)
		if err == nil && len(validation) > 0 {
			err = applyValidation(ctx, st.coll, validation)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: validator %s: %w", name, validation, err))
		}
	}
	if err := t.createViews(ctx); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("documents are loaded, but the server did not take these definitions (create them by hand, or import into a server that supports them): %w", errors.Join(errs...))
	}
	var done [][2]string
	for _, it := range p.Items {
		if st := t.item(it); st.markers {
			done = append(done, [2]string{it.Namespace, it.Object})
		}
	}
	if err := t.marks.clearAll(ctx, p.BundleID, done); err != nil {
		return mongotype.Step(t.redacted, "clear the import's resume markers in "+t.marks.coll.Database().Name(), err)
	}
	return nil
}

// indexBuildWait bounds one index build, which the server answers only
// when it is done: hours on a collection of billions of documents.
const indexBuildWait = 24 * time.Hour

// OrderIndexes returns the indexes to build: every index but _id_ (which
// each collection has by itself), TTL indexes after all others, each group
// in its exported order.
func OrderIndexes(specs []bson.Raw) []bson.Raw {
	var plain, ttl []bson.Raw
	for _, ix := range specs {
		switch {
		case mongotype.IsIDIndex(ix):
		case mongotype.IsTTL(ix):
			ttl = append(ttl, ix)
		default:
			plain = append(plain, ix)
		}
	}
	return append(plain, ttl...)
}

// createIndex runs createIndexes with the exported spec as it is. Building
// an index that exists with the same definition is a no-op, so a resumed
// import may run this again.
//
// An index build answers only when it is done, which on a big collection
// takes far longer than the client's timeout for a silent server
// (timeoutMS): it gets its own deadline, indexBuildWait.
func createIndex(ctx context.Context, coll *mongo.Collection, ix bson.Raw) error {
	ctx, cancel := context.WithTimeout(ctx, indexBuildWait)
	defer cancel()
	idx, cmd := bsoncore.AppendDocumentStart(nil)
	cmd = bsoncore.AppendStringElement(cmd, "createIndexes", coll.Name())
	aidx, cmd := bsoncore.AppendArrayElementStart(cmd, "indexes")
	cmd = bsoncore.AppendDocumentElement(cmd, "0", ix)
	cmd, _ = bsoncore.AppendArrayEnd(cmd, aidx)
	cmd, _ = bsoncore.AppendDocumentEnd(cmd, idx)
	return coll.Database().RunCommand(ctx, bson.Raw(cmd)).Err()
}

func applyValidation(ctx context.Context, coll *mongo.Collection, validation bson.Raw) error {
	els, err := validation.Elements()
	if err != nil {
		return err
	}
	idx, cmd := bsoncore.AppendDocumentStart(nil)
	cmd = bsoncore.AppendStringElement(cmd, "collMod", coll.Name())
	for _, el := range els {
		cmd = append(cmd, el...)
	}
	cmd, _ = bsoncore.AppendDocumentEnd(cmd, idx)
	return coll.Database().RunCommand(ctx, bson.Raw(cmd)).Err()
}
