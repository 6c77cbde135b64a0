package bundle

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/imbundle/imbundle/spec"
)

// recordingSink is a VolumeSink into memory that records the order of
// puts and can fail the put of one name.
type recordingSink struct {
	objects memVolumes
	order   []string
	failOn  string
	removed []string
}

func (s *recordingSink) Put(name string, body io.Reader, size int64) error {
	if name == s.failOn {
		return errors.New("refused by the test")
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	if int64(len(b)) != size {
		return errors.New("size differs from the body")
	}
	s.objects[name] = b
	s.order = append(s.order, name)
	return nil
}

func (s *recordingSink) Remove(names []string) {
	for _, n := range names {
		delete(s.objects, n)
		s.removed = append(s.removed, n)
	}
}

// With a VolumeSink each volume is put when finished and the index last,
// nothing stays on the local disk, and the put objects read back as the
// bundle; a failed put of the index removes the volumes put before it.
func TestVolumeSink(t *testing.T) {
	sink := &recordingSink{objects: memVolumes{}}
	path := writeVolumeBundle(t, Options{VolumeSink: sink})
	if left, _ := os.ReadDir(filepath.Dir(path)); len(left) != 0 {
		t.Fatalf("local files left with a sink: %v", left)
	}
	if len(sink.order) < 4 || sink.order[len(sink.order)-1] != "t.imb" {
		t.Fatalf("puts %v: want several volumes, then the index last", sink.order)
	}
	index := sink.objects["t.imb"]
	r, err := NewReaderWith(bytes.NewReader(index), int64(len(index)), ReadOptions{Volumes: sink.objects, Index: "t.imb"})
	if err != nil {
		t.Fatal(err)
	}
	if n := readAllIDs(t, r); n != 20000 {
		t.Fatalf("read %d rows back, want 20000", n)
	}

	// Repack the sunk bundle into one local file: same parts.
	one := filepath.Join(t.TempDir(), "one.imb")
	w, err := Repack(r, one, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r1, err := Open(one)
	if err != nil {
		t.Fatal(err)
	}
	defer r1.Close()
	if r1.Volumes() != nil || r1.ID() == r.ID() {
		t.Fatalf("the single-file repack has volumes %v or the volume set's id", r1.Volumes())
	}
	a, _ := r.Dataset("db.users")
	b, _ := r1.Dataset("db.users")
	if len(a.Parts) != len(b.Parts) || a.Digest != b.Digest {
		t.Fatalf("repack: %d parts, digest %v; the source %d, %v", len(b.Parts), b.Digest, len(a.Parts), a.Digest)
	}
	for i := range a.Parts {
		if pa, pb := a.Parts[i], b.Parts[i]; pa.Path != pb.Path || pa.Rows != pb.Rows || pa.Bytes != pb.Bytes || pa.SHA256 != pb.SHA256 {
			t.Fatalf("part %d: %+v, the source's %+v", i, b.Parts[i], a.Parts[i])
		}
	}
	if n := readAllIDs(t, r1); n != 20000 {
		t.Fatalf("read %d rows from the repack, want 20000", n)
	}
	r.Close()

	failing := &recordingSink{objects: memVolumes{}, failOn: "t.imb"}
	dir := t.TempDir()
	w, err = Create(filepath.Join(dir, "t.imb"), Options{PartBytes: 16 << 10, VolumeBytes: 40 << 10, VolumeSink: failing, Tool: spec.Tool{Name: "test", Version: "0"}})
	if err != nil {
		t.Fatal(err)
	}
	fillUsers(t, w, 20000)
	if err := w.Close(); err == nil {
		t.Fatal("Close with a failing index put succeeded")
	}
	if len(failing.objects) != 0 || len(failing.removed) == 0 {
		t.Fatalf("after a failed index put: objects %d left, %v removed", len(failing.objects), failing.removed)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("local files left after a failed put: %v", left)
	}
}

// fillUsers writes rows of the test dataset into w, leaving it to close.
func fillUsers(t *testing.T, w *Writer, rows int) {
	t.Helper()
	if err := w.AddSource(spec.Source{ID: "s0", Engine: "mysql", URL: "mysql://127.0.0.1:3306/db"}); err != nil {
		t.Fatal(err)
	}
	dw, err := w.CreateDataset(spec.Dataset{Name: "db.users", Source: "s0", Kind: spec.KindTable, PrimaryKey: []string{"id"}}, testSchema())
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < rows; i += 1000 {
		rec := testRecord(t, i, min(1000, rows-i))
		if err := dw.Write(rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
	}
	if err := dw.Close(); err != nil {
		t.Fatal(err)
	}
}
