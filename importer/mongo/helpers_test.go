package mongo_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/exporter"
	_ "github.com/imbundle/imbundle/exporter/mongo"
	"github.com/imbundle/imbundle/importer"
	_ "github.com/imbundle/imbundle/importer/mongo"
	"github.com/imbundle/imbundle/internal/bundletest"
	"github.com/imbundle/imbundle/internal/mongotype"
	"github.com/imbundle/imbundle/internal/testenv"
	"github.com/imbundle/imbundle/spec"
	"github.com/imbundle/imbundle/verify"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.StopMongo()
	os.Exit(code)
}

func testLog(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) { w.t.Log(string(b)); return len(b), nil }

// exportBundle exports url (a database URL) into a new bundle file.
func exportBundle(t testing.TB, url string, opts exporter.Options) string {
	t.Helper()
	ctx := context.Background()
	if opts.Log == nil {
		opts.Log = testLog(t)
	}
	src, err := exporter.Open(ctx, url, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	path := filepath.Join(t.TempDir(), "mongo.imb")
	w, err := bundle.Create(path, bundle.Options{PartBytes: 256 << 10, Tool: spec.Tool{Name: "test", Version: "0"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := exporter.Export(ctx, []exporter.Source{src}, w, 2); err != nil {
		w.Abort()
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// importBundle loads path into url; the reject file lands in the test's
// temporary directory.
func importBundle(t testing.TB, path, url string, opts importer.Options) (*importer.Report, *importer.Rejects, error) {
	t.Helper()
	ctx := context.Background()
	r, err := bundle.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if opts.Log == nil {
		opts.Log = testLog(t)
	}
	if opts.Rejects == nil {
		opts.Rejects = importer.NewRejects(filepath.Join(t.TempDir(), "rejects.jsonl"))
	}
	tg, err := importer.Open(ctx, url, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	rep, err := importer.Import(ctx, r, tg, opts)
	opts.Rejects.Close()
	return rep, opts.Rejects, err
}

// verifyAgainst compares the bundle with the database at url.
func verifyAgainst(t testing.TB, path, url string, o verify.AgainstOptions) []verify.DatasetResult {
	t.Helper()
	ctx := context.Background()
	r, err := bundle.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	src, err := exporter.Open(ctx, url, exporter.Options{Log: testLog(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	res, err := verify.Against(ctx, r, src, o)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func requireMatch(t testing.TB, res []verify.DatasetResult, want int) {
	t.Helper()
	if len(res) != want {
		t.Errorf("verify compared %d datasets, want %d", len(res), want)
	}
	for _, d := range res {
		if !d.Match || d.Err != nil {
			t.Errorf("verify: %s -> %s: bundle %d rows %s, target %d rows %s, err %v, differences %+v", d.Dataset, d.Target, d.BundleRows, d.BundleSum, d.TargetRows, d.TargetSum, d.Err, d.Differences)
		}
	}
}

// indexNames lists a collection's index names with their specs.
func indexSpecs(t testing.TB, c *mongo.Collection) map[string]bson.Raw {
	t.Helper()
	ctx := context.Background()
	cur, err := c.Indexes().List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close(ctx)
	out := map[string]bson.Raw{}
	for cur.Next(ctx) {
		ix, _ := mongotype.CleanIndexSpec(cur.Current)
		out[mongotype.IndexName(ix)] = ix
	}
	return out
}

// writeBundle writes a bundle of one collection dataset db.coll holding
// docs, with collection options as the exporter records them. It stands in
// for an export from a real MongoDB where FerretDB cannot hold the source
// (values or index kinds it lacks).
func writeBundle(t testing.TB, db, coll string, docs []bson.Raw, info mongotype.Collection) string {
	t.Helper()
	return writeBundleObjects(t, db, coll, docs, info, nil)
}

// writeBundleObjects is writeBundle with manifest objects (views) of the
// source.
func writeBundleObjects(t testing.TB, db, coll string, docs []bson.Raw, info mongotype.Collection, objs []spec.Object) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "made.imb")
	opts, err := info.ToOptions()
	if err != nil {
		t.Fatal(err)
	}
	b := mongotype.NewBuilder(nil)
	defer b.Release()
	for _, d := range docs {
		if err := b.Append(d); err != nil {
			t.Fatal(err)
		}
	}
	bundletest.WriteObjects(t, path, bundle.Options{}, spec.Source{Engine: "mongodb", URL: "mongodb://mongo.example:27017/" + db, Database: db},
		spec.Dataset{Name: db + "." + coll, Kind: spec.KindCollection, Namespace: db, Object: coll, PrimaryKey: mongotype.PrimaryKey, Options: opts},
		mongotype.Schema(), objs, b.NewRecord())
	return path
}

func exporterOptions() exporter.Options { return exporter.Options{} }

func mongoIndex(name string) mongo.IndexModel {
	return mongo.IndexModel{Keys: bson.D{{Key: "stale", Value: 1}}, Options: options.Index().SetName(name)}
}
