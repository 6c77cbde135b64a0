package main

import (
	"path/filepath"
	"testing"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/convert"
	"github.com/imbundle/imbundle/internal/testenv"
	"github.com/imbundle/imbundle/spec"
)

// exportedMySQL makes a MySQL database with queries and exports it with
// the CLI; it returns the database's URL and the bundle's path.
func exportedMySQL(t *testing.T, prefix string, queries []string) (srcURL, path string) {
	t.Helper()
	srcURL, src := testenv.MySQLDatabase(t, prefix)
	for _, q := range queries {
		if _, err := src.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	path = filepath.Join(t.TempDir(), "b.imb")
	if out, err := runCLI(t, "-q", "export", "--source", srcURL, "-o", path, "--param", "lock-wait=2"); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	return srcURL, path
}

// exportedConversion is exportedMySQL returning the open bundle (closed
// with the test), its first dataset and that dataset's default conversion
// to engine, for the values a test server cannot store and that are
// therefore converted in-process.
func exportedConversion(t *testing.T, prefix string, queries []string, engine string) (*bundle.Reader, *spec.Dataset, *convert.Conversion) {
	t.Helper()
	_, path := exportedMySQL(t, prefix, queries)
	r, err := bundle.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	m := r.Manifest()
	ds := &m.Datasets[0]
	for _, c := range convert.For(ds, &m.Sources[0]) {
		if c.To == engine && c.Conversion != nil && len(c.Conversion.Refused) == 0 {
			return r, ds, c.Conversion
		}
	}
	t.Fatalf("no conversion of %s to %s", ds.Name, engine)
	return nil, nil, nil
}
