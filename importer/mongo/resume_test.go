package mongo_test

import (
	"bytes"
	"context"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/imbundle/imbundle/importer"
	mongoimp "github.com/imbundle/imbundle/importer/mongo"
	"github.com/imbundle/imbundle/internal/testenv"
	"github.com/imbundle/imbundle/verify"
)

// interruptedImport imports path into url with the state in stateDB, and
// makes the fifth insert command fail as a killed client's would: the
// import stops with parts marked started.
func interruptedImport(t *testing.T, path, url, stateDB string) {
	t.Helper()
	var calls atomic.Int32
	mongoimp.SetBeforeInsert(func(context.Context, *mongo.Collection, []bson.Raw) error {
		if calls.Add(1) >= 5 {
			return context.Canceled
		}
		return nil
	})
	defer mongoimp.SetBeforeInsert(nil)
	if _, _, err := importBundle(t, path, url, importParams(stateDB)); err == nil {
		t.Fatal("the interrupted import succeeded")
	}
}

func importParams(stateDB string) importer.Options {
	return importer.Options{Mode: importer.ModeFail, Jobs: 1, Params: map[string]string{mongoimp.ParamInsertBatch: "100", mongoimp.ParamStateDB: stateDB}}
}

func databaseNames(t *testing.T, c *mongo.Client) []string {
	t.Helper()
	names, err := c.ListDatabaseNames(context.Background(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func collectionNames(t *testing.T, db *mongo.Database) []string {
	t.Helper()
	names, err := db.ListCollectionNames(context.Background(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	return names
}

// TestResumeAfterKill: the in-flight insert of a killed client lands on the
// server after the resumed run looked up which _ids exist. The resumed run
// gets E11000 for those documents, finds them byte-identical to the
// bundle's, and counts them as loaded: no reject, exit 0. Resume state
// lives in the state database, never in the user's, and is gone after the
// import (but for the last-applied record); the same import again is then
// refused (a finished import leaves no resume state).
func TestResumeAfterKill(t *testing.T) {
	ctx := context.Background()
	path := smallBundle(t, 3000)
	url, db := testenv.MongoDatabase(t, "kill_dst")
	stateDB := testenv.Name("kill_state")
	c := db.Collection("people")

	interruptedImport(t, path, url, stateDB)
	if got := collectionNames(t, db); !slices.Equal(got, []string{"people"}) {
		t.Errorf("target database holds %v after the interrupted import, want only people", got)
	}
	if !slices.Contains(databaseNames(t, db.Client()), stateDB) {
		t.Fatalf("no state database %s after an interrupted import", stateDB)
	}
	loaded, _ := c.CountDocuments(ctx, bson.D{})
	if loaded == 0 || loaded >= 3000 {
		t.Fatalf("%d documents after the interrupted import, want some", loaded)
	}

	// The resumed run: before its first insert, the killed client's last
	// command lands (the first 10 documents it is about to send).
	var landed int
	mongoimp.SetBeforeInsert(func(ctx context.Context, coll *mongo.Collection, docs []bson.Raw) error {
		if landed > 0 {
			return nil
		}
		late := make([]any, 10)
		for i := range late {
			late[i] = docs[i]
		}
		landed = len(late)
		_, err := coll.InsertMany(ctx, late)
		return err
	})
	rep, rejects, err := importBundle(t, path, url, importParams(stateDB))
	mongoimp.SetBeforeInsert(nil)
	if err != nil {
		t.Fatal(err)
	}
	if landed != 10 {
		t.Fatal("the resumed run sent no insert: the test simulated nothing")
	}
	if rejects.Total() != 0 {
		t.Errorf("%d rejects on resume after a late insert of identical documents, want 0", rejects.Total())
	}
	if rep.Datasets[0].Written != 3000 {
		t.Errorf("written %d, want 3000", rep.Datasets[0].Written)
	}
	requireMatch(t, verifyAgainst(t, path, url, verify.AgainstOptions{}), 1)
	if got := collectionNames(t, db); !slices.Equal(got, []string{"people"}) {
		t.Errorf("target database holds %v after the import, want only people", got)
	}
	// Only the last-applied record outlives the import (SPEC.md §14.3).
	t.Cleanup(func() { db.Client().Database(stateDB).Drop(context.Background()) })
	if got := collectionNames(t, db.Client().Database(stateDB)); !slices.Equal(got, []string{"applied"}) {
		t.Errorf("state database %s holds %v after a successful import, want only applied", stateDB, got)
	}

	// The same command again: a finished import leaves no state, so it is
	// refused, naming the collection and the way out.
	_, _, err = importBundle(t, path, url, importParams(stateDB))
	if err == nil || !strings.Contains(err.Error(), db.Name()+".people") || !strings.Contains(err.Error(), "--mode replace") {
		t.Errorf("importing a finished bundle again: %v; want a refusal naming %s.people and --mode replace", err, db.Name())
	}
}

// TestResumeDuplicateDiffers: a document of another client with one of the
// bundle's _ids lands between the lookup and the insert; it differs from
// the bundle's, so it is a reject with that reason, and the rest loads.
func TestResumeDuplicateDiffers(t *testing.T) {
	ctx := context.Background()
	path := smallBundle(t, 600)
	url, db := testenv.MongoDatabase(t, "dupdiff_dst")
	stateDB := testenv.Name("dupdiff_state")
	interruptedImport(t, path, url, stateDB)

	// The insert workers run the hook concurrently; the first batch whose
	// first _id is not in yet gets the other client's document (a batch
	// of documents an earlier run already inserted would make the hook's
	// own insert fail, and the test pass by accident or fail by chance).
	var (
		mu    sync.Mutex
		taken bson.RawValue
	)
	mongoimp.SetBeforeInsert(func(ctx context.Context, coll *mongo.Collection, docs []bson.Raw) error {
		mu.Lock()
		defer mu.Unlock()
		if taken.Type != 0 {
			return nil
		}
		id := docs[0].Lookup("_id")
		if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "name", Value: "someone else"}}); err != nil {
			return nil // already in: the next batch
		}
		taken = id
		return nil
	})
	_, rejects, err := importBundle(t, path, url, importParams(stateDB))
	mongoimp.SetBeforeInsert(nil)
	if err != nil {
		t.Fatal(err)
	}
	if rejects.Total() != 1 {
		t.Fatalf("%d rejects, want the one differing document", rejects.Total())
	}
	body, err := os.ReadFile(rejects.Path())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(body, []byte("another document with this _id")) {
		t.Errorf("reject reason: %s", body)
	}
	if n, _ := db.Collection("people").CountDocuments(ctx, bson.D{}); n != 600 {
		t.Errorf("%d documents, want 600 (599 of the bundle and the other one)", n)
	}
}

// TestStateDatabaseIsNotATarget: resume state never shares a database with
// the data.
func TestStateDatabaseIsNotATarget(t *testing.T) {
	path := smallBundle(t, 5)
	url, db := testenv.MongoDatabase(t, "state_clash")
	_, _, err := importBundle(t, path, url, importParams(db.Name()))
	if err == nil || !strings.Contains(err.Error(), "--param state-db") {
		t.Errorf("state database = target database: %v", err)
	}
}

// TestSilentTarget: an import into a server that accepts TCP and never
// answers fails within the URL's timeouts, naming the server.
func TestSilentTarget(t *testing.T) {
	addr := testenv.SilentServer(t)
	_, err := importer.Open(context.Background(), "mongodb://"+addr+"/db?connectTimeoutMS=300&serverSelectionTimeoutMS=300&timeoutMS=300", importer.Options{})
	if err == nil || !strings.Contains(err.Error(), addr) || !strings.Contains(err.Error(), "does not answer") {
		t.Errorf("import into a server that never answers: %v; want an error naming %s", err, addr)
	}
}
