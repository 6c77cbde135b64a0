package mongo_test

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/imbundle/imbundle/internal/enginetest"
	"github.com/imbundle/imbundle/internal/testenv"
)

// TestConformance runs the engine conformance suite against the test
// MongoDB (FerretDB, or IMBUNDLE_TEST_MONGO).
func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("the conformance suite builds the CLI and runs many imports")
	}
	base := testenv.MongoURI(t)
	client := confClient(t, base)
	enginetest.Run(t, enginetest.Harness{
		Name: "mongodb",
		NewTarget: func(t *testing.T) string {
			name := testenv.Name("enginetest")
			t.Cleanup(func() { client.Database(name).Drop(context.Background()) })
			return base + name
		},
		Seed: func(t *testing.T, cli *enginetest.CLI, u string) {
			// The OpenIM world (msg documents of 100 slots, unique indexes)
			// and bson_edge: documents of every BSON type FerretDB keeps.
			cli.MustRun(t, "fixtures", "mongo", "--target", u, "--users", "100", "--groups", "10", "--messages", "3000", "-q")
		},
		BatchRows: 40,
		Map: func(source, target string) map[string]string {
			return map[string]string{confDB(source): confDB(target)}
		},
		Dump: func(t *testing.T, u string) enginetest.State { return confDump(t, client.Database(confDB(u))) },
		Exists: func(t *testing.T, u string) bool {
			names, err := client.ListDatabaseNames(context.Background(), bson.D{{Key: "name", Value: confDB(u)}})
			if err != nil {
				t.Fatal(err)
			}
			return len(names) > 0
		},
		Residue: func(t *testing.T, u string) []string { return confResidue(t, client, confDB(u)) },
		AddForeign: func(t *testing.T, source, target string) {
			users := confUsers(t, client, source, target)
			confInsert(t, users, bson.D{{Key: "_id", Value: "enginetest-foreign"}, {Key: "user_id", Value: "enginetest-foreign"}})
		},
		Collide: func(t *testing.T, source, target string) string {
			first := confFirstUser(t, client.Database(confDB(source)))
			users := confUsers(t, client, source, target)
			confInsert(t, users, bson.D{{Key: "_id", Value: first.Lookup("_id")}, {Key: "user_id", Value: "enginetest-collide"}})
			return "user"
		},
		Change: func(t *testing.T, target string) string {
			users := client.Database(confDB(target)).Collection("user")
			first := confFirstUser(t, client.Database(confDB(target)))
			id := first.Lookup("_id")
			if _, err := users.UpdateOne(context.Background(), bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: bson.D{{Key: "nickname", Value: "enginetest-changed"}}}}); err != nil {
				t.Fatal(err)
			}
			return id.ObjectID().Hex()
		},
		Refuse: func(t *testing.T, source, target string) (string, []string) {
			// users holds a unique index on user_id: a document of another
			// _id holding the first user's user_id makes the bundle's
			// document of that user a duplicate the server refuses.
			first := confFirstUser(t, client.Database(confDB(source)))
			users := confUsers(t, client, source, target)
			confInsert(t, users, bson.D{{Key: "_id", Value: "enginetest-refuse"}, {Key: "user_id", Value: first.Lookup("user_id")}})
			return "append", []string{"user/" + confIDKey(t, first.Lookup("_id"))}
		},
		SilentURL: func(addr string) string {
			return "mongodb://" + addr + "/enginetest_silent?serverSelectionTimeoutMS=1000&connectTimeoutMS=1000"
		},
	})
}

func confClient(t *testing.T, uri string) *mongo.Client {
	c, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Disconnect(context.Background()) })
	return c
}

func confDB(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		panic(err)
	}
	return strings.TrimPrefix(u.Path, "/")
}

func confInsert(t *testing.T, c *mongo.Collection, doc bson.D) {
	t.Helper()
	if _, err := c.InsertOne(context.Background(), doc); err != nil {
		t.Fatal(err)
	}
}

// confFirstUser is the user document of the smallest _id.
func confFirstUser(t *testing.T, db *mongo.Database) bson.Raw {
	t.Helper()
	raw, err := db.Collection("user").FindOne(context.Background(), bson.D{}, options.FindOne().SetSort(bson.D{{Key: "_id", Value: 1}})).Raw()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// confUsers creates the target's user collection with the source's
// indexes (so that it differs from the source only by the documents the
// caller writes) and returns it.
func confUsers(t *testing.T, client *mongo.Client, source, target string) *mongo.Collection {
	t.Helper()
	ctx := context.Background()
	specs := confIndexSpecs(t, client.Database(confDB(source)).Collection("user"))
	db := client.Database(confDB(target))
	var models bson.A
	for _, s := range specs {
		if s.Lookup("name").StringValue() == "_id_" {
			continue
		}
		var d bson.D
		if err := bson.Unmarshal(s, &d); err != nil {
			t.Fatal(err)
		}
		var keep bson.D
		for _, e := range d {
			if e.Key != "v" && e.Key != "ns" {
				keep = append(keep, e)
			}
		}
		models = append(models, keep)
	}
	if err := db.CreateCollection(ctx, "user"); err != nil {
		t.Fatal(err)
	}
	if len(models) > 0 {
		if err := db.RunCommand(ctx, bson.D{{Key: "createIndexes", Value: "user"}, {Key: "indexes", Value: models}}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	return db.Collection("user")
}

func confIndexSpecs(t *testing.T, c *mongo.Collection) []bson.Raw {
	t.Helper()
	cur, err := c.Indexes().List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close(context.Background())
	var out []bson.Raw
	for cur.Next(context.Background()) {
		out = append(out, append(bson.Raw(nil), cur.Current...))
	}
	if err := cur.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func confIDKey(t *testing.T, id bson.RawValue) string {
	t.Helper()
	b, err := bson.MarshalExtJSON(bson.D{{Key: "_id", Value: id}}, true, false)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// confDump reads every collection of db but imbundle's: one record for
// each collection's indexes (without v and ns) and one per document, keyed
// by collection and _id, holding the document's raw BSON bytes: equal
// dumps mean byte-equal documents.
func confDump(t *testing.T, db *mongo.Database) enginetest.State {
	t.Helper()
	ctx := context.Background()
	st := enginetest.State{}
	names, err := db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	for _, coll := range names {
		if strings.HasPrefix(coll, "imbundle") {
			continue
		}
		c := db.Collection(coll)
		var idx []string
		for _, s := range confIndexSpecs(t, c) {
			var d bson.D
			if err := bson.Unmarshal(s, &d); err != nil {
				t.Fatal(err)
			}
			var keep bson.D
			for _, e := range d {
				if e.Key != "v" && e.Key != "ns" {
					keep = append(keep, e)
				}
			}
			b, err := bson.MarshalExtJSON(keep, true, false)
			if err != nil {
				t.Fatal(err)
			}
			idx = append(idx, string(b))
		}
		sort.Strings(idx)
		st["indexes "+coll] = enginetest.Record{Value: strings.Join(idx, " ")}
		cur, err := c.Find(ctx, bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		for cur.Next(ctx) {
			key := coll + "/" + confIDKey(t, cur.Current.Lookup("_id"))
			st[key] = enginetest.Record{Value: string(cur.Current)}
		}
		if err := cur.Err(); err != nil {
			t.Fatal(err)
		}
		cur.Close(ctx)
	}
	return st
}

// confResidue lists imbundle's collections in the database, and documents
// of the separate imbundle database (resume state) that name it.
func confResidue(t *testing.T, client *mongo.Client, name string) []string {
	t.Helper()
	ctx := context.Background()
	var left []string
	names, err := client.Database(name).ListCollectionNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range names {
		if strings.HasPrefix(c, "imbundle") {
			left = append(left, name+"."+c)
		}
	}
	state := client.Database("imbundle")
	names, err = state.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range names {
		if c == "applied" {
			continue // the last-applied record outlives the import (SPEC.md §14.3)
		}
		cur, err := state.Collection(c).Find(ctx, bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for cur.Next(ctx) {
			if strings.Contains(cur.Current.String(), name) {
				n++
			}
		}
		cur.Close(ctx)
		if n > 0 {
			left = append(left, fmt.Sprintf("%d document(s) of imbundle.%s naming %s", n, c, name))
		}
	}
	return left
}
