package testenv

import (
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestMongoDatabase proves the test server starts (or IMBUNDLE_TEST_MONGO
// answers) and that a throwaway database takes a write and reads it back.
func TestMongoDatabase(t *testing.T) {
	url, db := MongoDatabase(t, "testenv")
	if url == "" {
		t.Fatal("empty URL")
	}
	ctx := context.Background()
	if _, err := db.Collection("c").InsertOne(ctx, bson.D{{Key: "_id", Value: 1}, {Key: "v", Value: "x"}}); err != nil {
		t.Fatal(err)
	}
	var got bson.D
	if err := db.Collection("c").FindOne(ctx, bson.D{}).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1].Value != "x" {
		t.Fatalf("read back %v", got)
	}
}
