package redis_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/redistype/redistest"
	"github.com/imbundle/imbundle/internal/redistype/resp"
	"github.com/imbundle/imbundle/spec"
	"github.com/imbundle/imbundle/verify"
)

const (
	libName  = "imbundle_test_lib"
	libCode  = "#!lua name=imbundle_test_lib\nredis.register_function('imbundle_test_f', function(keys, args) return 1 end)"
	libOther = "#!lua name=imbundle_test_lib\nredis.register_function('imbundle_test_f', function(keys, args) return 2 end)"
)

func libraryCode(t *testing.T, c *resp.Conn, name string) string {
	t.Helper()
	v := redistest.Do(t, c, "FUNCTION", "LIST", "LIBRARYNAME", name, "WITHCODE")
	for _, lib := range v.Elems {
		for i := 0; i+1 < len(lib.Elems); i += 2 {
			if string(lib.Elems[i].Str) == "library_code" {
				return string(lib.Elems[i+1].Str)
			}
		}
	}
	return ""
}

func schemaDiffs(t *testing.T, path, target string, dbMap map[string]string) []string {
	t.Helper()
	ctx := context.Background()
	r, err := bundle.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	src, err := exporter.Open(ctx, target, exporter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	diffs, ok, err := verify.Schema(ctx, r, src, verify.AgainstOptions{Map: dbMap, Engine: "redis"})
	if err != nil || !ok {
		t.Fatalf("verify.Schema: ok %v, err %v", ok, err)
	}
	return diffs
}

// TestFunctionLibrariesTravel exports a function library, restores it
// with FUNCTION LOAD after the data, honours the mode, and has verify
// --against name a library that drifted. Libraries are server-wide, so the
// one server is source and target: the library is deleted in between.
func TestFunctionLibrariesTravel(t *testing.T) {
	u, c := redistest.Redis(t, 9)
	redistest.Do(t, c, "FUNCTION", "LOAD", "REPLACE", libCode)
	t.Cleanup(func() { c.Do(context.Background(), "FUNCTION", "DELETE", libName) })
	redistest.Do(t, c, "SET", "k", "v")
	path, m := redistest.MustExport(t, u, redistest.ExportOptions{})
	var lib *spec.Object
	for i := range m.Objects {
		if m.Objects[i].Kind == spec.ObjectLibrary && m.Objects[i].Name == libName {
			lib = &m.Objects[i]
		}
	}
	if lib == nil || lib.Definition != libCode || lib.Options["engine"] != "LUA" || lib.Source != m.Sources[0].ID {
		t.Fatalf("manifest objects lack the library as exported: %+v", m.Objects)
	}
	// Left out on request: counted and named as not carried.
	_, m2 := redistest.MustExport(t, u, redistest.ExportOptions{Params: map[string]string{"functions": "false"}})
	if len(m2.Objects) != 0 || len(m2.Uncarried) != 1 || m2.Uncarried[0].Kind != "function library" || m2.Uncarried[0].Count < 1 || !slices.Contains(m2.Uncarried[0].Names, libName) {
		t.Fatalf("functions=false: objects %v, uncarried %+v", m2.Objects, m2.Uncarried)
	}

	redistest.Do(t, c, "FUNCTION", "DELETE", libName)
	toTen := map[string]string{"9": "10"}
	if d := schemaDiffs(t, path, server, toTen); len(d) != 1 || !strings.Contains(d[0], libName) || !strings.Contains(d[0], "missing") {
		t.Fatalf("verify of a target without the library: %v", d)
	}
	redistest.Redis(t, 10)
	redistest.MustImport(t, path, server, importer.Options{Map: toTen})
	if got := libraryCode(t, c, libName); got != libCode {
		t.Fatalf("after import the library's code is %q", got)
	}
	if d := schemaDiffs(t, path, server, toTen); len(d) != 0 {
		t.Fatalf("verify after import: %v", d)
	}

	// Other code under the same name: verify names it, --mode fail refuses
	// before writing anything, --mode replace puts the bundle's back.
	redistest.Do(t, c, "FUNCTION", "LOAD", "REPLACE", libOther)
	if d := schemaDiffs(t, path, server, toTen); len(d) != 1 || !strings.Contains(d[0], libName) || !strings.Contains(d[0], "other code") {
		t.Fatalf("verify of changed code: %v", d)
	}
	_, c11 := redistest.Redis(t, 11)
	_, err := redistest.Import(t, path, server, importer.Options{Map: map[string]string{"9": "11"}}, nil)
	if err == nil || !strings.Contains(err.Error(), libName) || !strings.Contains(err.Error(), "--mode replace") {
		t.Fatalf("want a refusal naming the library, got %v", err)
	}
	if n := redistest.Do(t, c11, "DBSIZE").Int; n != 0 {
		t.Fatalf("the refused import wrote %d keys", n)
	}
	redistest.MustImport(t, path, server, importer.Options{Map: toTen, Mode: importer.ModeReplace})
	if got := libraryCode(t, c, libName); got != libCode {
		t.Fatalf("--mode replace left code %q", got)
	}

	// A target with no FUNCTION command cannot hold it: refused, unless
	// the user leaves libraries out.
	mini, _ := redistest.Miniredis(t)
	_, err = redistest.Import(t, path, mini, importer.Options{Map: map[string]string{"9": "0"}}, nil)
	if err == nil || !strings.Contains(err.Error(), libName) || !strings.Contains(err.Error(), "functions=false") {
		t.Fatalf("miniredis target: want a refusal naming the library, got %v", err)
	}
	redistest.MustImport(t, path, mini, importer.Options{Map: map[string]string{"9": "0"}, Params: map[string]string{"functions": "false"}})
}

// TestNoFunctionsIsANote exports a server without FUNCTION: no library, a
// note, no error.
func TestNoFunctionsIsANote(t *testing.T) {
	mini, mr := redistest.Miniredis(t)
	mr.Set("k", "v")
	_, m := redistest.MustExport(t, mini, redistest.ExportOptions{})
	if len(m.Objects) != 0 || !strings.Contains(strings.Join(m.Notes, "\n"), "no FUNCTION command") {
		t.Fatalf("objects %v, notes %v", m.Objects, m.Notes)
	}
}
