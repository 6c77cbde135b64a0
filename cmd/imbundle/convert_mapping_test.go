package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/internal/testenv"
)

// TestMappingFileIntoMongo: a mapping file skips a table, renames a
// collection and a field, drops a field and filters rows, the same way in
// plan, import (the filtered rows counted, not rejected) and verify
// --against; a mistake in the file is a usage error naming its line, with
// nothing written.
func TestMappingFileIntoMongo(t *testing.T) {
	srcURL, path := exportedMySQL(t, "cm_src", []string{
		"CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR(20), secret VARBINARY(8), status INT, KEY k_name (name), KEY k_secret (secret))",
		"INSERT INTO users VALUES (1, 'ann', x'01', 1), (2, 'bob', x'02', 4), (3, 'cy', NULL, 1), (4, 'di', x'04', NULL)",
		"CREATE TABLE audit (id INT PRIMARY KEY, what TEXT)",
		"INSERT INTO audit VALUES (1, 'x')",
	})
	dir := t.TempDir()
	srcDB := srcURL[strings.LastIndexByte(srcURL, '/')+1:]
	dstURL, db := testenv.MongoDatabase(t, "cm_dst")
	dstDB := dstURL[strings.LastIndexByte(dstURL, '/')+1:]
	mapFile := filepath.Join(dir, "m.yaml")
	os.WriteFile(mapFile, []byte("version: 1\ndatasets:\n  - match: \"*.audit\"\n    skip: true\n  - match: \"*.users\"\n    target: "+dstDB+".people\n    rename: {name: profile.displayName}\n    drop: [secret]\n    filter: \"status == 1\"\n    compute: {label: \"name + '/' + string(id)\", ok: \"status == 1\", profile.src: \"'mysql'\"}\n"), 0o644)

	out, err := runCLI(t, "plan", path, "--target", dstURL, "--map", mapFile)
	if err != nil || !strings.Contains(out, "-> collection "+dstDB+".people") || !strings.Contains(out, "name becomes profile.displayName") ||
		!strings.Contains(out, "skipped by the mapping ("+mapFile+":3:") {
		t.Errorf("plan: %v\n%s", err, out)
	}
	out, err = runCLI(t, "-q", "import", path, "--target", dstURL, "--map", mapFile, "--rejects", filepath.Join(dir, "r.jsonl"))
	if err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	// Row 4's status is NULL: "status == 1" is false for it, as for row 2.
	if !strings.Contains(out, srcDB+".users") || !strings.Contains(out, "people") {
		t.Errorf("import report:\n%s", out)
	}
	ctx := context.Background()
	if n, _ := db.Collection("audit").CountDocuments(ctx, bson.D{}); n != 0 {
		t.Errorf("the skipped table was imported: %d documents", n)
	}
	cur, err := db.Collection("people").Find(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for cur.Next(ctx) {
		d := cur.Current
		if _, err := d.LookupErr("secret"); err == nil {
			t.Errorf("dropped field present: %s", d)
		}
		got = append(got, d.Lookup("profile", "displayName").StringValue())
		if d.Lookup("profile", "src").StringValue() != "mysql" {
			t.Errorf("nested computed field: %s", d)
		}
		if label := d.Lookup("label").StringValue(); label != fmt.Sprintf("%s/%d", d.Lookup("profile", "displayName").StringValue(), d.Lookup("_id").Int32()) || !d.Lookup("ok").Boolean() {
			t.Errorf("computed fields: label %q, ok %v in %s", label, d.Lookup("ok"), d)
		}
	}
	ixs, err := db.Collection("people").Indexes().List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for ixs.Next(ctx) {
		keys = append(keys, ixs.Current.Lookup("key").String())
	}
	if ks := strings.Join(keys, " "); !strings.Contains(ks, `"profile.displayName"`) || strings.Contains(ks, "secret") {
		t.Errorf("indexes %s: want k_name on profile.displayName and no index on the dropped secret", ks)
	}
	if strings.Join(got, ",") != "ann,cy" {
		t.Errorf("people: %v, want ann,cy (status 1 only, name as displayName)", got)
	}
	out, err = runCLI(t, "verify", path, "--against", dstURL, "--map", mapFile)
	if err != nil || !strings.Contains(out, "2 left out by the mapping's filter") {
		t.Fatalf("verify --against with the mapping: %v\n%s", err, out)
	}
	db.Collection("people").UpdateOne(ctx, bson.D{{Key: "_id", Value: int32(3)}}, bson.D{{Key: "$set", Value: bson.D{{Key: "profile.displayName", Value: "cyd"}}}})
	if out, err := runCLI(t, "verify", path, "--against", dstURL, "--map", mapFile); exitCodeOf(err) != exitMismatch {
		t.Errorf("verify after a changed field: exit %d, want %d\n%s", exitCodeOf(err), exitMismatch, out)
	}

	os.WriteFile(mapFile, []byte("version: 1\ndatasets:\n  - match: \"*.users\"\n    rename: {nope: x}\n"), 0o644)
	other, odb := testenv.MongoDatabase(t, "cm_bad")
	out, err = runCLI(t, "-q", "import", path, "--target", other, "--map", srcDB+"="+odb.Name(), "--map", mapFile)
	if err == nil || !strings.Contains(err.Error(), mapFile+":4:") || !strings.Contains(err.Error(), "nothing was written") {
		t.Errorf("import with a rename of no column: %v\n%s", err, out)
	}
	if names, _ := odb.ListCollectionNames(ctx, bson.D{}); len(names) != 0 {
		t.Errorf("a refused mapping wrote %v", names)
	}
	os.WriteFile(mapFile, []byte("version: 1\ndatasets:\n  - match: \"*.users\"\n    renam: {name: x}\n"), 0o644)
	if _, err := runCLI(t, "plan", path, "--target", dstURL, "--map", mapFile); exitCodeOf(err) != exitBadInput || !strings.Contains(err.Error(), mapFile+":4:5") {
		t.Errorf("a misspelt key: exit %d %v, want %d naming %s:4:5", exitCodeOf(err), err, exitBadInput, mapFile)
	}
}
