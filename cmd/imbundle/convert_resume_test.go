package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/internal/enginetest"
	"github.com/imbundle/imbundle/internal/testenv"
)

// TestConvertedImportResumes: an import that converts (a MySQL bundle of
// several parts into MongoDB) and fails after some parts, one of them
// half-written, run again with the same command, ends with every row once,
// exit 0, no reject, and verify --against green: the conversion is
// deterministic, so the resumed parts are the same documents.
func TestConvertedImportResumes(t *testing.T) {
	srcURL, src := testenv.MySQLDatabase(t, "cr_src")
	if _, err := src.Exec("CREATE TABLE msgs (id BIGINT PRIMARY KEY, body VARCHAR(200), at DATETIME(3))"); err != nil {
		t.Fatal(err)
	}
	var vals []string
	for i := 1; i <= 3000; i++ {
		vals = append(vals, fmt.Sprintf("(%d, 'message %d %s', '2024-01-01 00:00:00.%03d')", i, i, strings.Repeat("x", i%50), i%1000))
	}
	if _, err := src.Exec("INSERT INTO msgs VALUES " + strings.Join(vals, ",")); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "b.imb")
	m := enginetest.ExportSmallParts(t, srcURL, path, 200)
	if n := len(m.Datasets[0].Parts); n < 4 {
		t.Fatalf("%d parts, want several", n)
	}
	srcDB := srcURL[strings.LastIndexByte(srcURL, '/')+1:]
	dstURL, db := testenv.MongoDatabase(t, "cr_dst")
	dstDB := dstURL[strings.LastIndexByte(dstURL, '/')+1:]
	rename := map[string]string{srcDB: dstDB}
	enginetest.ImportFailing(t, path, dstURL, rename, len(m.Datasets[0].Parts)/2)

	rejects := filepath.Join(dir, "rejects.jsonl")
	out, err := runCLI(t, "-q", "import", path, "--target", dstURL, "--map", srcDB+"="+dstDB, "--rejects", rejects)
	if err != nil || strings.Contains(out, "rejects:") {
		t.Fatalf("the re-run: %v\n%s", err, out)
	}
	ctx := context.Background()
	if n, err := db.Collection("msgs").CountDocuments(ctx, bson.D{}); err != nil || n != 3000 {
		t.Errorf("%d documents (%v) after the re-run, want 3000", n, err)
	}
	if out, err := runCLI(t, "verify", path, "--against", dstURL, "--map", srcDB+"="+dstDB); err != nil {
		t.Errorf("verify --against after the resumed import: %v\n%s", err, out)
	}
}
