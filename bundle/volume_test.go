package bundle

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/imbundle/imbundle/spec"
)

// writeVolumeBundle writes 20000 rows in parts of about 16 KiB into
// volumes of 40 KiB: several parts per volume, several volumes.
func writeVolumeBundle(t *testing.T, opts Options) string {
	t.Helper()
	opts.PartBytes, opts.VolumeBytes = 16<<10, 40<<10
	return writeTestBundleWith(t, 20000, opts)
}

// readAllIDs reads every part of the bundle's one dataset in order and
// checks the ids run 0, 1, ...
func readAllIDs(t *testing.T, r *Reader) int {
	t.Helper()
	ds, _ := r.Dataset("db.users")
	next := 0
	for i := range ds.Parts {
		if err := r.VerifyPart(ds.Parts[i]); err != nil {
			t.Fatal(err)
		}
		pr, err := r.OpenPart(ds, i)
		if err != nil {
			t.Fatal(err)
		}
		for {
			rec, err := pr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			ids := rec.Column(0).(*array.Uint64)
			for j := 0; j < ids.Len(); j++ {
				if int(ids.Value(j)) != next {
					t.Fatalf("row %d has id %d", next, ids.Value(j))
				}
				next++
			}
		}
		pr.Close()
	}
	return next
}

func TestVolumesRoundTrip(t *testing.T) {
	path := writeVolumeBundle(t, Options{})
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	vols := r.Volumes()
	if len(vols) < 3 {
		t.Fatalf("%d volumes, want several", len(vols))
	}
	var total int64
	for i, v := range vols {
		st, err := os.Stat(filepath.Join(filepath.Dir(path), v.File))
		if err != nil {
			t.Fatal(err)
		}
		if v.Number != i+1 || v.File != VolumeName(path, i+1) || st.Size() != v.Bytes {
			t.Fatalf("volume %d = %+v, file is %d bytes", i+1, v, st.Size())
		}
		if v.Bytes > 40<<10 {
			t.Fatalf("volume %d is %d bytes, over the 40 KiB volume size", v.Number, v.Bytes)
		}
		total += v.Bytes
	}
	st, _ := os.Stat(path)
	if r.Size() != total+st.Size() {
		t.Fatalf("Size %d, files hold %d", r.Size(), total+st.Size())
	}
	if n := readAllIDs(t, r); n != 20000 {
		t.Fatalf("read %d rows", n)
	}
	if r.Manifest().Version != VolumeVersion {
		t.Fatalf("version %s", r.Manifest().Version)
	}
	// No partial file is left, and a volume alone is not a bundle.
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "*.partial")); len(left) > 0 {
		t.Fatalf("left %v", left)
	}
	if _, err := Open(filepath.Join(filepath.Dir(path), vols[0].File)); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "open its index") {
		t.Fatalf("open a volume: %v", err)
	}
}

func TestVolumesEncrypted(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	path := writeVolumeBundle(t, Options{EncryptTo: []age.Recipient{id.Recipient()}})
	// Without the identity: what the index and volume files show in clear.
	_, err = Open(path)
	var ee *EncryptedError
	if !errors.As(err, &ee) || ee.Err != nil {
		t.Fatalf("open without identity: %v", err)
	}
	r, err := OpenWith(path, ReadOptions{Identities: []age.Identity{id}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if len(r.Volumes()) < 2 || !r.Encrypted() {
		t.Fatalf("%d volumes, encrypted %v", len(r.Volumes()), r.Encrypted())
	}
	if n := readAllIDs(t, r); n != 20000 {
		t.Fatalf("read %d rows", n)
	}
	ds, _ := r.Dataset("db.users")
	sum := ee.Summary
	if sum.ID != r.ID() || sum.Volumes != len(r.Volumes()) || len(sum.Datasets) != 1 || sum.Datasets[0].Parts != len(ds.Parts) || sum.Size != r.Size() {
		t.Fatalf("summary without identity %+v; bundle %s, %d volumes, %d parts, %d bytes", sum, r.ID(), len(r.Volumes()), len(ds.Parts), r.Size())
	}
}

// TestVolumesDamaged: each way a volume set can be wrong gives its own
// error, naming the volume by number and file name.
func TestVolumesDamaged(t *testing.T) {
	other := writeVolumeBundle(t, Options{})
	cases := []struct {
		name   string
		damage func(t *testing.T, dir string)
		want   string
		atOpen bool
	}{
		{"missing", func(t *testing.T, dir string) { rm(t, dir, "t.imb.002") }, "are missing: volume 2 (t.imb.002)", true},
		{"extra", func(t *testing.T, dir string) { cp(t, dir, "t.imb.001", "t.imb.099") }, "extra volume file(s) beside the index, which lists volumes 1 to ", true},
		{"reordered", func(t *testing.T, dir string) {
			mv(t, dir, "t.imb.002", "x")
			mv(t, dir, "t.imb.003", "t.imb.002")
			mv(t, dir, "x", "t.imb.003")
		}, "volume 2 (t.imb.002) is volume 3 of this set, not volume 2: volume files were renamed or put in the wrong order", true},
		{"another set's", func(t *testing.T, dir string) {
			b, err := os.ReadFile(filepath.Join(filepath.Dir(other), "t.imb.002"))
			if err != nil {
				t.Fatal(err)
			}
			write(t, dir, "t.imb.002", b)
		}, "volume 2 (t.imb.002) belongs to another bundle", true},
		{"truncated", func(t *testing.T, dir string) {
			if err := os.Truncate(filepath.Join(dir, "t.imb.002"), 20000); err != nil {
				t.Fatal(err)
			}
		}, "volume 2 (t.imb.002) is 20000 bytes, the index says ", true},
		{"bit flip in a part", func(t *testing.T, dir string) {
			b := read(t, dir, "t.imb.002")
			b[len(b)/2] ^= 0x10
			write(t, dir, "t.imb.002", b)
		}, "volume 2 (t.imb.002): entry \"data/00000/", false},
		{"bit flip in a header", func(t *testing.T, dir string) {
			b := read(t, dir, "t.imb.002")
			b[len(b)-30] ^= 0x01
			write(t, dir, "t.imb.002", b)
		}, "volume 2 (t.imb.002): ", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeVolumeBundle(t, Options{})
			c.damage(t, filepath.Dir(path))
			r, err := Open(path)
			if !c.atOpen {
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				ds, _ := r.Dataset("db.users")
				for _, p := range ds.Parts {
					if err = r.VerifyPart(p); err != nil {
						break
					}
				}
			}
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want ErrCorrupt with %q", err, c.want)
			}
		})
	}
}

func TestVolumeBigPartHasItsOwn(t *testing.T) {
	path := writeTestBundleWith(t, 20000, Options{PartBytes: 1 << 20, VolumeBytes: MinVolumeBytes})
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ds, _ := r.Dataset("db.users")
	if len(r.Volumes()) != len(ds.Parts) {
		t.Fatalf("%d volumes for %d parts larger than a volume", len(r.Volumes()), len(ds.Parts))
	}
	if n := readAllIDs(t, r); n != 20000 {
		t.Fatalf("read %d rows", n)
	}
}

func read(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func write(t *testing.T, dir, name string, b []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func rm(t *testing.T, dir, name string) {
	t.Helper()
	if err := os.Remove(filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

func mv(t *testing.T, dir, from, to string) {
	t.Helper()
	if err := os.Rename(filepath.Join(dir, from), filepath.Join(dir, to)); err != nil {
		t.Fatal(err)
	}
}

func cp(t *testing.T, dir, from, to string) { t.Helper(); write(t, dir, to, read(t, dir, from)) }

// An aborted volume export leaves no file: no volume, partial or not, and
// no index; a killed one's volume partials are removed by the next run.
func TestVolumeExportAborted(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "t.imb")
	os.WriteFile(PartialPath(filepath.Join(dir, VolumeName(path, 7))), []byte("stale"), 0o644)
	w, err := Create(path, Options{PartBytes: 16 << 10, VolumeBytes: 40 << 10})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddSource(spec.Source{ID: "s0", Engine: "mysql", URL: "mysql://127.0.0.1:3306/db"}); err != nil {
		t.Fatal(err)
	}
	dw, err := w.CreateDataset(spec.Dataset{Name: "db.users", Source: "s0", Kind: spec.KindTable, PrimaryKey: []string{"id"}}, testSchema())
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20000; i += 1000 {
		rec := testRecord(t, i, 1000)
		if err := dw.Write(rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
	}
	if err := dw.Close(); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "t.imb.*.partial")); len(left) < 2 {
		t.Fatalf("volumes being written: %v, want several (and not the stale one)", left)
	}
	if _, err := os.Stat(PartialPath(filepath.Join(dir, VolumeName(path, 7)))); err == nil {
		t.Fatal("the stale volume partial of a killed run is still there")
	}
	w.Abort()
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("an aborted volume export left %v", left)
	}
}

// An index read without a place to find its volumes says so.
func TestVolumeIndexWithoutStore(t *testing.T) {
	path := writeVolumeBundle(t, Options{})
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := openBytes(raw); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "open the index by its path") {
		t.Fatalf("got %v", err)
	}
}
