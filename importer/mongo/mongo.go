// Package mongo loads a bundle's collection datasets into MongoDB (or a
// server speaking its wire protocol): the raw BSON documents go back
// byte for byte, in unordered bulk inserts; indexes and validators follow
// the data (SPEC.md §9).
package mongo

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"sync"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/mongotype"
	"github.com/imbundle/imbundle/internal/scheme"
	"github.com/imbundle/imbundle/spec"
)

func init() {
	importer.Register(open, "mongodb", "mongodb+srv")
}

// Parameters (--param KEY=VALUE).
const (
	// ParamTTLIndexes: "last" (default) builds TTL indexes after every other
	// index, with a warning, since the server starts deleting expired
	// documents at once; "skip" leaves them out (listed in the log) so they
	// can be created by hand once the import is checked.
	ParamTTLIndexes = "ttl-indexes"
	// ParamInsertBatch: documents per insert command (default 1000).
	ParamInsertBatch = "insert-batch"
	// ParamInsertWorkers: insert commands in flight on the target, across
	// all parts loading at once (default 2). More only queue up on a
	// single-writer backend (FerretDB's SQLite: 4 in flight measured slower
	// than 2); a MongoDB replica set may take more.
	ParamInsertWorkers = "insert-workers"
	// ParamStateDB: the database on the target server that holds resume
	// markers while an import runs (default "imbundle"); dropped when a
	// successful import leaves it empty.
	ParamStateDB = "state-db"
)

type target struct {
	client   *mongo.Client
	redacted string
	database string // from the URL path; "" = each dataset's (mapped) namespace
	opts     importer.Options

	batchDocs int
	workers   int
	inflight  chan struct{} // one token per insert command in flight
	ttl       string
	marks     markers

	views []plannedView // set by Prepare, created by Finish

	mu    sync.Mutex
	state map[*importer.Item]*itemState
	colls map[[2]string]*mongo.Collection // set by Prepare (union.go)
}

// itemState is what Prepare learned about one collection.
type itemState struct {
	coll    *mongo.Collection
	info    mongotype.Collection
	markers bool // resume markers are kept (modes fail and replace)
}

func open(ctx context.Context, u *url.URL, opts importer.Options) (importer.Target, error) {
	t := &target{redacted: scheme.RedactURL(u), database: mongotype.Database(u), opts: opts, state: map[*importer.Item]*itemState{}}
	var err error
	if t.batchDocs, err = intParam(opts, ParamInsertBatch, 1000); err != nil {
		return nil, err
	}
	if t.workers, err = intParam(opts, ParamInsertWorkers, 2); err != nil {
		return nil, err
	}
	t.inflight = make(chan struct{}, t.workers)
	switch t.ttl = opts.Param(ParamTTLIndexes); t.ttl {
	case "":
		t.ttl = "last"
	case "last", "skip":
	default:
		return nil, fmt.Errorf("--param %s=%q: want last or skip", ParamTTLIndexes, t.ttl)
	}
	stateDB := opts.Param(ParamStateDB)
	if stateDB == "" {
		stateDB = DefaultStateDB
	}
	if t.client, err = mongotype.Connect(ctx, u, noDriverRetries); err != nil {
		return nil, err
	}
	t.marks = newMarkers(t.client, stateDB)
	return t, nil
}

// noDriverRetries turns the driver's retries off unless the URL asks for
// them: with timeoutMS set the driver retries a retryable command until the
// timeout is spent, 30 s for each command a server answers by closing the
// connection (FerretDB does, on values it cannot decode, in an insert or in
// the $in lookup of a replay). The importer replays writes itself,
// idempotently, and isolates such documents (load.go).
func noDriverRetries(co *options.ClientOptions) {
	if co.RetryWrites == nil {
		co.SetRetryWrites(false)
	}
	if co.RetryReads == nil {
		co.SetRetryReads(false)
	}
}

func intParam(opts importer.Options, k string, def int) (int, error) {
	v := opts.Param(k)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("--param %s=%q: want a positive number", k, v)
	}
	return n, nil
}

// Accepts takes collection datasets exported from MongoDB in this
// package's layout.
func (t *target) Accepts(ds *spec.Dataset, src *spec.Source) bool {
	return src.Engine == "mongodb" && ds.Kind == spec.KindCollection && mongotype.CheckColumns(ds.Columns) == nil
}

func (t *target) Close() error {
	return t.client.Disconnect(context.Background())
}

func (t *target) item(it *importer.Item) *itemState {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.state[it]
}
