package mongo_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/exporter"
	_ "github.com/imbundle/imbundle/exporter/mongo"
	"github.com/imbundle/imbundle/internal/mongotype"
	"github.com/imbundle/imbundle/internal/testenv"
)

func TestDescribeAndRead(t *testing.T) {
	ctx := context.Background()
	url, db := testenv.MongoDatabase(t, "exp")
	docs := []any{
		bson.D{{Key: "_id", Value: "b"}}, bson.D{{Key: "_id", Value: int32(2)}}, bson.D{{Key: "_id", Value: nil}},
		bson.D{{Key: "_id", Value: bson.ObjectID{1}}}, bson.D{{Key: "_id", Value: "a"}}, bson.D{{Key: "_id", Value: 1.5}},
	}
	if _, err := db.Collection("c").InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	for _, other := range []string{"other", "imbundle_progress"} {
		if _, err := db.Collection(other).InsertOne(ctx, bson.D{{Key: "x", Value: 1}}); err != nil {
			t.Fatal(err)
		}
	}
	src, err := exporter.Open(ctx, url, exporter.Options{Filter: &exporter.Filter{Include: []string{"c", "other"}}, Params: map[string]string{"sort": "_id"}})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	desc, err := src.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range desc.Datasets {
		names = append(names, d.Spec.Name)
	}
	if got := strings.Join(names, ","); got != db.Name()+".c,"+db.Name()+".other" {
		t.Fatalf("datasets %s", got)
	}
	var ids []string
	err = src.Read(ctx, &desc.Datasets[0].Spec, func(rec arrow.RecordBatch) error {
		rows, err := mongotype.RowsOf(rec)
		if err != nil {
			return err
		}
		for i := 0; i < rows.Len(); i++ {
			ids = append(ids, rows.IDJSON(i))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// BSON comparison order: null, numbers, strings, ObjectId.
	want := `null {"$numberDouble":"1.5"} {"$numberInt":"2"} "a" "b" {"$oid":"010000000000000000000000"}`
	if got := strings.Join(ids, " "); got != want {
		t.Errorf("sort=_id read order %s, want %s", got, want)
	}

	// All collections: the progress collection is left out.
	src2, err := exporter.Open(ctx, url, exporter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src2.Close()
	desc, err = src2.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(desc.Datasets) != 2 {
		t.Errorf("%d datasets, want c and other (not imbundle_progress)", len(desc.Datasets))
	}

	// Every database: the importer's state database is left out.
	state := db.Client().Database("imbundle")
	if _, err := state.Collection("progress").InsertOne(ctx, bson.D{{Key: "state", Value: "started"}}); err != nil {
		t.Fatal(err)
	}
	defer state.Drop(ctx)
	all, err := exporter.Open(ctx, testenv.MongoURI(t), exporter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer all.Close()
	desc, err = all.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range desc.Datasets {
		if d.Spec.Namespace == "imbundle" {
			t.Errorf("dataset %s of the state database exported", d.Spec.Name)
		}
	}

	missing := &exporter.Filter{Include: []string{"missing"}}
	src3, err := exporter.Open(ctx, url, exporter.Options{Filter: missing})
	if err != nil {
		t.Fatal(err)
	}
	defer src3.Close()
	if _, err := src3.Describe(ctx); err != nil {
		t.Fatal(err)
	}
	if err := missing.Unmatched(); err == nil || !strings.Contains(err.Error(), "--tables missing") {
		t.Errorf("--collections missing: %v", err)
	}
}

func TestPasswordNeverInErrors(t *testing.T) {
	_, err := exporter.Open(context.Background(), "mongodb://user:s3cr3tpw@127.0.0.1:1/db?serverSelectionTimeoutMS=300&connectTimeoutMS=300", exporter.Options{})
	if err == nil {
		t.Fatal("connected to port 1")
	}
	if strings.Contains(err.Error(), "s3cr3tpw") {
		t.Errorf("error repeats the password: %v", err)
	}
}

// TestMistypedDatabase: a database the server does not hold is an error
// naming it and the databases there are, not an empty bundle.
func TestMistypedDatabase(t *testing.T) {
	ctx := context.Background()
	url, db := testenv.MongoDatabase(t, "typo")
	if _, err := db.Collection("c").InsertOne(ctx, bson.D{{Key: "x", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	src, err := exporter.Open(ctx, url+"x", exporter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	_, err = src.Describe(ctx)
	listed := err != nil && regexp.MustCompile(`the server holds: .*\b`+regexp.QuoteMeta(db.Name())+`[,)]`).MatchString(err.Error())
	if err == nil || !strings.Contains(err.Error(), `"`+db.Name()+`x" does not exist`) || !listed {
		t.Errorf("export of a mistyped database: %v; want an error naming it and listing %s", err, db.Name())
	}
}
