package main

import (
	"io"
	"path/filepath"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/convert"
	"github.com/imbundle/imbundle/internal/mongotype"
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

// convertedDocs converts every dataset of the bundle at path to engine in
// process, as an import would (through each output of a conversion with
// several), and returns the documents. A reject fails the test.
func convertedDocs(t *testing.T, path, engine string) []bson.Raw {
	t.Helper()
	r, err := bundle.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	m := r.Manifest()
	var out []bson.Raw
	for i := range m.Datasets {
		ds := &m.Datasets[i]
		var conv *convert.Conversion
		for _, c := range convert.For(ds, &m.Sources[0]) {
			if c.To == engine {
				conv = c.Conversion
			}
		}
		if conv == nil && ds.Rows == 0 {
			continue // an empty stream state converts to nothing
		}
		if conv == nil || len(conv.Refused) > 0 {
			t.Fatalf("no conversion of %s to %s: %+v", ds.Name, engine, conv)
		}
		outputs := conv.Split
		if len(outputs) == 0 {
			outputs = []*convert.Conversion{conv}
		}
		for _, o := range outputs {
			for p := range ds.Parts {
				pr, err := r.OpenPart(ds, p)
				if err != nil {
					t.Fatal(err)
				}
				recs := o.Records(pr, p, func(rj convert.Reject) error { t.Errorf("reject %+v", rj); return nil })
				for {
					rec, err := recs.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					rows, err := mongotype.RowsOf(rec)
					if err != nil {
						t.Fatal(err)
					}
					for i := 0; i < rows.Len(); i++ {
						out = append(out, append(bson.Raw(nil), rows.Doc(i)...))
					}
				}
				pr.Close()
			}
		}
	}
	return out
}
