package redis_test

import (
	"strings"
	"testing"

	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/redistype/redistest"
	"github.com/imbundle/imbundle/internal/scheme"
)

// TestURLDatabaseIsWhereDataGoes imports a bundle of db 9 into
// redis://host/10 without --db-map: the data must land in db 10, and
// --mode replace must not touch db 9, which the bundle came from.
func TestURLDatabaseIsWhereDataGoes(t *testing.T) {
	path := source(t)
	src := redistest.Conn(t, server+"/9") // source flushed and filled it
	redistest.Do(t, src, "SET", "s", "changed after the export")
	redistest.Do(t, src, "SET", "only-in-9", "x")
	target, dst := redistest.Redis(t, 10)

	rep := redistest.MustImport(t, path, target, importer.Options{})
	if got := rep.Datasets[0].Target; !strings.HasPrefix(got, "10.") {
		t.Fatalf("report names target %q, want db 10", got)
	}
	if v := redistest.Do(t, dst, "GET", "s"); string(v.Str) != "v" {
		t.Fatalf("db 10 key s = %q, want the bundle's v", v.Str)
	}
	redistest.MustImport(t, path, target, importer.Options{Mode: importer.ModeReplace})
	if v := redistest.Do(t, src, "GET", "s"); string(v.Str) != "changed after the export" {
		t.Fatalf("--mode replace into db 10 rewrote db 9's key s: %q", v.Str)
	}
	if n := redistest.Do(t, src, "DBSIZE").Int; n != 8 {
		t.Fatalf("db 9 holds %d keys after imports into db 10, want its 8", n)
	}
	redistest.RequireMatch(t, path, server, map[string]string{"9": "10"})
	// verify --against the same URL reads where the import wrote.
	redistest.RequireMatch(t, path, target, nil)

	// An explicit --db-map still wins over the URL's database.
	_, other := redistest.Redis(t, 11)
	redistest.MustImport(t, path, target, importer.Options{Map: map[string]string{"9": "11"}})
	if n := redistest.UserKeys(t, other); n != 7 {
		t.Fatalf("--db-map 9:11 with a URL naming db 10: db 11 holds %d keys, want 7", n)
	}
}

// TestURLDatabaseWithSeveralBundleDatabases needs --db-map: two databases
// cannot both go to the one the URL names.
func TestURLDatabaseWithSeveralBundleDatabases(t *testing.T) {
	u, c := redistest.Redis(t, 9)
	redistest.Do(t, c, "SET", "a", "1")
	_, c11 := redistest.Redis(t, 11)
	redistest.Do(t, c11, "SET", "b", "2")
	path, m := redistest.MustExport(t, strings.TrimSuffix(u, "/9"), redistest.ExportOptions{Params: map[string]string{"db": "9,11"}})
	if len(m.Datasets) != 4 { // two keyspaces and their stream state
		t.Fatalf("want 4 datasets, got %d", len(m.Datasets))
	}
	target, dst := redistest.Redis(t, 10)
	_, err := redistest.Import(t, path, target, importer.Options{}, nil)
	if err == nil || !scheme.IsUsage(err) || !strings.Contains(err.Error(), "--db-map 9:N --db-map 11:N") {
		t.Fatalf("want a usage error naming --db-map 9:N --db-map 11:N, got %v", err)
	}
	if n := redistest.Do(t, dst, "DBSIZE").Int; n != 0 {
		t.Fatalf("the refused import wrote %d keys", n)
	}
	redistest.Do(t, c, "FLUSHDB")
	redistest.Do(t, c11, "FLUSHDB")
	_, c12 := redistest.Redis(t, 12)
	redistest.MustImport(t, path, target, importer.Options{Map: map[string]string{"9": "10", "11": "12"}})
	if redistest.Do(t, dst, "EXISTS", "a").Int != 1 || redistest.Do(t, c12, "EXISTS", "b").Int != 1 {
		t.Fatal("with --db-map for every database, the keys did not land where mapped")
	}
	// verify with the same URL and maps reads where the import wrote;
	// without the maps it refuses, as the import did.
	redistest.RequireMatch(t, path, target, map[string]string{"9": "10", "11": "12"})
	res := redistest.Verify(t, path, target, nil, nil)
	var refused bool
	for _, d := range res {
		refused = refused || (d.Err != nil && strings.Contains(d.Err.Error(), "--db-map"))
	}
	if !refused {
		t.Fatalf("verify of two unmapped databases against a URL database: %+v", res)
	}
}
