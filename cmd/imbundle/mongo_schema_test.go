package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/imbundle/imbundle/internal/testenv"
)

// TestVerifyMongoIndexDrift: export, import, then drop an index on the
// target: verify --against exits 3 and names the index, although every
// document matches.
func TestVerifyMongoIndexDrift(t *testing.T) {
	ctx := context.Background()
	surl, sdb := testenv.MongoDatabase(t, "cli_drift_src")
	c := sdb.Collection("people")
	if _, err := c.InsertMany(ctx, []any{bson.D{{Key: "_id", Value: 1}, {Key: "name", Value: "a"}}, bson.D{{Key: "_id", Value: 2}, {Key: "name", Value: "b"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "name", Value: 1}}, Options: options.Index().SetName("by_name")}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.imb")
	if out, err := runCLI(t, "export", "--source", surl, "-o", path); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	url, db := testenv.MongoDatabase(t, "cli_drift_dst")
	if out, err := runCLI(t, "import", path, "--target", url); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "verify", path, "--against", url); err != nil {
		t.Fatalf("verify right after the import: %v\n%s", err, out)
	}
	if err := db.Collection("people").Indexes().DropOne(ctx, "by_name"); err != nil {
		t.Fatal(err)
	}
	out, err := runCLI(t, "verify", path, "--against", url)
	if code := exitCodeOf(err); code != exitMismatch || !strings.Contains(out, "MISMATCH schema: collection "+db.Name()+".people: index by_name not on the target") {
		t.Errorf("verify after dropping an index: exit %d (%v), want %d naming it:\n%s", code, err, exitMismatch, out)
	}
}
