package enginetest

import (
	"context"
	"os"
	"testing"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/internal/bundletest"
	"github.com/imbundle/imbundle/spec"
)

// suitePartBytes is the part size of the suite's bundle: with the
// harness's BatchRows every part holds a batch or two, so datasets span
// several parts and big records straddle them.
const suitePartBytes = 16 << 10

// ExportSmallParts exports source to path as the export command does
// (exporter.Open, bundle.Create, exporter.Export, Close), but with parts
// and batches far smaller than the CLI allows.
func ExportSmallParts(t *testing.T, source, path string, batchRows int) *spec.Manifest {
	t.Helper()
	ctx := context.Background()
	src, err := exporter.Open(ctx, source, exporter.Options{BatchRows: batchRows, Jobs: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	w, err := bundle.Create(path, bundle.Options{PartBytes: suitePartBytes, Tool: spec.Tool{Name: "imbundle", Version: "enginetest"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := exporter.Export(ctx, []exporter.Source{src}, w, 2); err != nil {
		w.Abort()
		t.Fatalf("export %s: %v", source, err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.Manifest()
}

// damageCopy writes a copy of the bundle at src to dst with one byte
// flipped in the middle of one part (of the dataset with the most parts,
// its middle one), and returns that part's entry name.
func damageCopy(t *testing.T, m *spec.Manifest, src, dst string) string {
	t.Helper()
	raw, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var ds *spec.Dataset
	for i := range m.Datasets {
		if ds == nil || len(m.Datasets[i].Parts) > len(ds.Parts) {
			ds = &m.Datasets[i]
		}
	}
	p := ds.Parts[len(ds.Parts)/2]
	off, n := bundletest.EntryAt(t, raw, p.Path)
	raw[off+n/2] ^= 0x01
	if err := os.WriteFile(dst, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return p.Path
}

func countParts(m *spec.Manifest) int {
	n := 0
	for _, ds := range m.Datasets {
		n += len(ds.Parts)
	}
	return n
}
