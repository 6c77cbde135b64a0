package bundle

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/imbundle/imbundle/spec"
)

// The container must stay readable by standard tools (SPEC.md §2): Go's
// archive/zip and Info-ZIP's unzip, in the classic and the zip64 encoding.
func TestContainerReadableByStandardZip(t *testing.T) {
	for _, tc := range []struct {
		name  string
		limit uint64
	}{{"classic", 0xFFFFFFFF}, {"zip64", 0}} {
		t.Run(tc.name, func(t *testing.T) {
			old := zip64Limit
			zip64Limit = tc.limit
			defer func() { zip64Limit = old }()
			path := writeTestBundle(t, 5000, 16<<10)
			r, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
			if err != nil {
				t.Fatalf("archive/zip: %v", err)
			}
			if len(zr.File) != len(r.order) {
				t.Fatalf("archive/zip sees %d entries, bundle reader %d", len(zr.File), len(r.order))
			}
			for i, zf := range zr.File {
				e := r.order[i]
				if zf.Name != e.name || zf.Method != zip.Store || zf.UncompressedSize64 != e.size || zf.Mode() != 0o644 {
					t.Fatalf("entry %d: archive/zip sees %s method %d size %d mode %v; want %s stored %d 0644", i, zf.Name, zf.Method, zf.UncompressedSize64, zf.Mode(), e.name, e.size)
				}
				if !zf.Modified.Equal(r.manifest.CreatedAt.Truncate(2 * time.Second)) {
					t.Fatalf("entry %s: modified %v, manifest created_at %v", zf.Name, zf.Modified, r.manifest.CreatedAt)
				}
				rc, err := zf.Open()
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(rc) // checks the CRC-32
				rc.Close()
				if err != nil {
					t.Fatalf("entry %s: %v", zf.Name, err)
				}
				want := make([]byte, e.size)
				if _, err := r.ra.ReadAt(want, int64(e.dataOffset())); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("entry %s: archive/zip reads other bytes", zf.Name)
				}
			}
			unzip, err := exec.LookPath("unzip")
			if err != nil {
				t.Skip("unzip not installed; archive/zip check passed")
			}
			out, err := exec.Command(unzip, "-t", path).CombinedOutput()
			if err != nil || !strings.Contains(string(out), "No errors detected") {
				t.Fatalf("unzip -t: %v\n%s", err, out)
			}
			out, err = exec.Command(unzip, "-p", path, MarkerEntry).Output()
			if err != nil || string(out) != "imbundle/"+spec.FormatVersion+"\n" {
				t.Fatalf("unzip -p %s: %q %v", MarkerEntry, out, err)
			}
		})
	}
}
