package bundle

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/imbundle/imbundle/spec"
)

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

// A dataset that never finishes (its source failed, the user pressed
// Ctrl-C) has a part staged; Abort removes it with the partial file.
func TestAbortMidPartLeavesNothing(t *testing.T) {
	for _, tempDir := range []bool{false, true} {
		w, path := newTestWriter(t)
		if tempDir {
			// newTestWriter's writer stages beside the bundle; redo it with
			// a staging directory of its own.
			w.Abort()
			var err error
			if w, err = Create(path, Options{PartBytes: 16 << 10, TempDir: t.TempDir(), MemoryStageBytes: -1}); err != nil {
				t.Fatal(err)
			}
			w.AddSource(spec.Source{ID: "s0", Engine: "mysql", URL: "mysql://db/im"})
		}
		dw, err := w.CreateDataset(spec.Dataset{Name: "im.t", Source: "s0", PrimaryKey: []string{"id"}}, testSchema())
		if err != nil {
			t.Fatal(err)
		}
		rec := testRecord(t, 0, 100)
		if err := dw.Write(rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
		staged, err := StagedFiles(path, w.stageDir)
		if err != nil || len(staged) != 1 {
			t.Fatalf("staged files %v (%v), want the part being written", staged, err)
		}
		w.Abort()
		w.Abort() // twice is harmless
		if names := dirNames(t, filepath.Dir(path)); len(names) != 0 {
			t.Fatalf("left beside the bundle: %v", names)
		}
		if names := dirNames(t, w.stageDir); len(names) != 0 {
			t.Fatalf("left in the staging directory: %v", names)
		}
	}
}

// A killed export leaves its partial file and staging files; the next
// Create of the same path removes them, and nothing that is not its own.
func TestCreateRemovesWhatAKilledRunLeft(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "site.imb")
	other := filepath.Join(dir, "other.imb")
	mine := []string{PartialPath(path), filepath.Join(dir, stagePrefix(path)+"123456"), filepath.Join(dir, stagePrefix(path)+"999")}
	foreign := []string{
		filepath.Join(dir, stagePrefix(other)+"123456"),
		filepath.Join(dir, ".imbundle-part-42"), // no bundle named: not ours to remove
		filepath.Join(dir, "site.imb.rejects-x.jsonl"),
		PartialPath(other),
	}
	for _, f := range append(append([]string{}, mine...), foreign...) {
		if err := os.WriteFile(f, []byte("left by a killed run"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	w, err := Create(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range mine[1:] {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("%s survived Create (%v)", f, err)
		}
	}
	w.AddSource(spec.Source{ID: "s0", Engine: "mysql", URL: "mysql://db/im"})
	dw, _ := w.CreateDataset(spec.Dataset{Name: "im.t", Source: "s0"}, testSchema())
	rec := testRecord(t, 0, 10)
	dw.Write(rec)
	rec.Release()
	if err := dw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path)
	if err != nil {
		t.Fatalf("the re-run's bundle: %v", err)
	}
	r.Close()
	want := []string{}
	for _, f := range foreign {
		want = append(want, filepath.Base(f))
	}
	want = append(want, "site.imb")
	sort.Strings(want)
	if got := dirNames(t, dir); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("directory holds %v, want %v", got, want)
	}
}

// Two writers of one path would interleave into one partial file: the
// second is refused, and takes nothing of the first's.
func TestCreateRefusesAPathBeingWritten(t *testing.T) {
	w, path := newTestWriter(t)
	dw, _ := w.CreateDataset(spec.Dataset{Name: "im.t", Source: "s0"}, testSchema())
	rec := testRecord(t, 0, 10)
	dw.Write(rec)
	rec.Release()
	if _, err := Create(path, Options{}); err == nil || !strings.Contains(err.Error(), "another imbundle process is writing") {
		t.Fatalf("second Create: %v", err)
	}
	if staged, _ := StagedFiles(path, ""); len(staged) != 1 {
		t.Fatalf("the refused Create touched the first writer's staging files: %v", staged)
	}
	dw.Close()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
}

// randomRecord holds n rows of incompressible text, about 1 KiB each.
func randomRecord(t *testing.T, schema *arrow.Schema, from, n int) arrow.RecordBatch {
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	buf := make([]byte, 512)
	for i := from; i < from+n; i++ {
		rand.Read(buf)
		b.Field(0).(*array.Uint64Builder).Append(uint64(i))
		b.Field(1).(*array.StringBuilder).Append(hex.EncodeToString(buf))
	}
	return b.NewRecordBatch()
}

// A full disk fails the write with the file system's error, and the failed
// export leaves no file behind, journal included. The disk is a 1 MiB
// tmpfs (root only).
func TestFullDiskLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1M", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	// A journaled export (the CLI's) too: the journal goes with the rest.
	for _, c := range []struct{ staging, command string }{{"", ""}, {"beside", ""}, {"", "export"}, {"beside", "export"}} {
		staging := c.staging
		path := filepath.Join(dir, "full.imb")
		opts := Options{PartBytes: 256 << 10, Command: c.command}
		if staging == "" {
			opts.TempDir = t.TempDir() // the parts fit, the bundle does not
		}
		w, err := Create(path, opts)
		if err != nil {
			t.Fatal(err)
		}
		w.AddSource(spec.Source{ID: "s0", Engine: "mysql", URL: "mysql://db/im"})
		schema := testSchema()
		dw, _ := w.CreateDataset(spec.Dataset{Name: "im.t", Source: "s0"}, schema)
		var werr error
		for i := 0; i < 100 && werr == nil; i++ { // 2 MiB of text
			rec := randomRecord(t, schema, i*20, 20)
			werr = dw.Write(rec)
			rec.Release()
		}
		if werr == nil {
			werr = dw.Close()
		}
		if werr == nil {
			werr = w.Close()
		}
		if werr == nil || !strings.Contains(werr.Error(), "no space left on device") {
			t.Fatalf("staging %q: got %v, want the full disk's error", staging, werr)
		}
		w.Abort()
		if names := dirNames(t, dir); len(names) != 0 {
			t.Fatalf("staging %q: the full disk holds %v", staging, names)
		}
		if opts.TempDir != "" {
			if names := dirNames(t, opts.TempDir); len(names) != 0 {
				t.Fatalf("the staging directory holds %v", names)
			}
		}
	}
}

// A killed run that staged beside the bundle, re-run with a staging
// directory of its own (or the other way round): both places are cleaned.
func TestCreateCleansBothStagingPlaces(t *testing.T) {
	dir, temp := t.TempDir(), t.TempDir()
	path := filepath.Join(dir, "site.imb")
	left := []string{filepath.Join(dir, stagePrefix(path)+"1"), filepath.Join(temp, stagePrefix(path)+"2")}
	for _, f := range left {
		os.WriteFile(f, []byte("x"), 0o644)
	}
	w, err := Create(path, Options{TempDir: temp})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	for _, f := range left {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("%s survived (%v)", f, err)
		}
	}
}

// A part is staged in memory until it outgrows Options.MemoryStageBytes,
// then in a staging file; both kinds end in the bundle whole, and a part
// that spilled leaves no file behind.
func TestSmallPartsStagedInMemory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.imb")
	w, err := Create(path, Options{PartBytes: 1 << 30, MemoryStageBytes: 32 << 10})
	if err != nil {
		t.Fatal(err)
	}
	w.AddSource(spec.Source{ID: "s0", Engine: "mysql", URL: "mysql://db/im"})
	schema := testSchema()
	small, _ := w.CreateDataset(spec.Dataset{Name: "im.small", Source: "s0"}, schema)
	big, _ := w.CreateDataset(spec.Dataset{Name: "im.big", Source: "s0"}, schema)
	write := func(dw *DatasetWriter, from, n int) {
		rec := randomRecord(t, schema, from, n)
		defer rec.Release()
		if err := dw.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	write(small, 0, 10) // about 5 KiB compressed (hex: half its size)
	if staged, _ := StagedFiles(path, ""); len(staged) != 0 {
		t.Fatalf("a 5 KiB part was staged in %v", staged)
	}
	for i := 0; i < 10; i++ { // about 50 KiB compressed
		write(big, 1000+i*10, 10)
	}
	if staged, _ := StagedFiles(path, ""); len(staged) != 1 {
		t.Fatalf("a 50 KiB part over a 32 KiB memory stage: staged files %v, want 1", staged)
	}
	if err := small.Close(); err != nil {
		t.Fatal(err)
	}
	if err := big.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if names := dirNames(t, filepath.Dir(path)); len(names) != 1 || names[0] != "m.imb" {
		t.Fatalf("beside the bundle: %v", names)
	}
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for name, rows := range map[string]int64{"im.small": 10, "im.big": 100} {
		ds, _ := r.Dataset(name)
		var got int64
		if err := r.EachRecord(ds, func(rec arrow.RecordBatch) error { got += rec.NumRows(); return nil }); err != nil {
			t.Fatal(err)
		}
		if got != rows || ds.Rows != rows {
			t.Errorf("%s: %d rows read, manifest %d, want %d", name, got, ds.Rows, rows)
		}
		if err := r.CheckPart(ds, 0); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
