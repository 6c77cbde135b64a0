package mongo_test

import (
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/internal/testenv"
)

// The check of a collection is equal while it is unchanged and differs
// after an insert or a delete; an empty collection has one too.
func TestResumeCheckSeesInsertsAndDeletes(t *testing.T) {
	ctx := context.Background()
	url, db := testenv.MongoDatabase(t, "exprc")
	c := db.Collection("c")
	if _, err := c.InsertMany(ctx, []any{bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "_id", Value: "b"}}}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateCollection(ctx, "empty"); err != nil {
		t.Fatal(err)
	}
	src, err := exporter.Open(ctx, url, exporter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	desc, err := src.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	check := func(object string) string {
		t.Helper()
		for _, d := range desc.Datasets {
			if d.Spec.Object == object {
				s, err := src.(exporter.ResumeChecker).ResumeCheck(ctx, &d.Spec)
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
		}
		t.Fatalf("no dataset %s", object)
		return ""
	}
	first := check("c")
	if first == "" || check("empty") == "" || check("c") != first {
		t.Fatalf("checks %q, %q, %q", first, check("empty"), check("c"))
	}
	if _, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: 0}}); err != nil {
		t.Fatal(err)
	}
	second := check("c")
	if second == first {
		t.Fatalf("an insert left the check %q", first)
	}
	if _, err := c.DeleteOne(ctx, bson.D{{Key: "_id", Value: "b"}}); err != nil {
		t.Fatal(err)
	}
	if third := check("c"); third == second || third == first {
		t.Fatalf("a delete left the check %q (then %q, %q)", third, second, first)
	}
}
