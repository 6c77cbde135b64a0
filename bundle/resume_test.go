package bundle

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imbundle/imbundle/spec"
)

// resumeDatasets are written interleaved, part by part, so that a kill
// leaves finished datasets' parts between unfinished ones'.
var resumeDatasets = []struct {
	name string
	rows int
}{{"im.a", 3000}, {"im.b", 2000}, {"im.c", 2500}, {"im.d", 10}}

const resumeCommand = "export --source mysql://db/im"

// writeInterleaved writes the datasets not in skip, a batch of each in
// turn; after `finish` datasets have closed it stops as a killed process
// would (no Close, no Abort: the file handles are dropped) and returns nil.
func writeInterleaved(t *testing.T, w *Writer, skip map[string]bool, finish int) *Writer {
	t.Helper()
	type open struct {
		dw   *DatasetWriter
		rows int
		at   int
	}
	var ds []*open
	for _, d := range resumeDatasets {
		if skip[d.name] {
			continue
		}
		dw, err := w.CreateDataset(spec.Dataset{Name: d.name, Source: "s0", Kind: spec.KindTable, PrimaryKey: []string{"id"}}, testSchema())
		if err != nil {
			t.Fatal(err)
		}
		ds = append(ds, &open{dw: dw, rows: d.rows})
	}
	closed := 0
	for len(ds) > 0 {
		var next []*open
		for _, o := range ds {
			n := min(200, o.rows-o.at)
			rec := testRecord(t, o.at, n)
			if err := o.dw.Write(rec); err != nil {
				t.Fatal(err)
			}
			rec.Release()
			o.at += n
			if o.at < o.rows {
				next = append(next, o)
				continue
			}
			o.dw.SetResumeCheck("rows=" + o.dw.name)
			if err := o.dw.Close(); err != nil {
				t.Fatal(err)
			}
			closed++
			if closed == finish {
				// SIGKILL: the kernel closes the files, nothing else runs.
				w.f.Close()
				w.journal.close()
				return nil
			}
		}
		ds = next
	}
	return w
}

func resumeWriter(t *testing.T, path string, cmd string) *Writer {
	t.Helper()
	w, err := Create(path, Options{PartBytes: 8 << 10, MemoryStageBytes: -1, Command: cmd})
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Candidates()) == 0 {
		if err := w.AddSource(spec.Source{ID: "s0", Engine: "mysql", URL: "mysql://db/im"}); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

func digestsOf(t *testing.T, path string) map[string]string {
	t.Helper()
	r, err := Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer r.Close()
	m := r.Manifest()
	var parts []spec.Part
	out := map[string]string{}
	for _, ds := range m.Datasets {
		parts = append(parts, ds.Parts...)
		out[ds.Name] = fmt.Sprintf("%v, %d rows in %d parts", ds.Digest, ds.Rows, len(ds.Parts))
	}
	if err := VerifyAll(context.Background(), r, parts, 2, nil); err != nil {
		t.Fatalf("verify %s: %v", path, err)
	}
	return out
}

// A journaled export killed after k datasets finished, created again with
// the same command, offers those k, keeps them, and ends in a bundle of
// the same digests and rows as an uninterrupted export's; the partial file
// and journal are gone.
func TestResumeKeepsFinishedDatasets(t *testing.T) {
	want := func() map[string]string {
		path := filepath.Join(t.TempDir(), "whole.imb")
		w := resumeWriter(t, path, resumeCommand)
		writeInterleaved(t, w, nil, -1)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return digestsOf(t, path)
	}()
	for finish := 1; finish < len(resumeDatasets); finish++ {
		path := filepath.Join(t.TempDir(), "site.imb")
		writeInterleaved(t, resumeWriter(t, path, resumeCommand), nil, finish)
		w := resumeWriter(t, path, resumeCommand)
		cands := w.Candidates()
		if len(cands) != finish {
			t.Fatalf("finish %d: %d candidates (%v)", finish, len(cands), w.ResumeNotes())
		}
		keep := map[string]bool{}
		for _, c := range cands {
			if c.Check != "rows="+c.Dataset.Name {
				t.Fatalf("candidate %s has check %q", c.Dataset.Name, c.Check)
			}
			keep[c.Dataset.Name] = true
		}
		// The sources are not in the journal: the exporter adds them again.
		if err := w.Keep(keep); err != nil {
			t.Fatal(err)
		}
		if err := w.AddSource(spec.Source{ID: "s0", Engine: "mysql", URL: "mysql://db/im"}); err != nil {
			t.Fatal(err)
		}
		writeInterleaved(t, w, keep, -1)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		got := digestsOf(t, path)
		for k, v := range want {
			if got[k] != v {
				t.Errorf("finish %d: %s: resumed %q, uninterrupted %q", finish, k, got[k], v)
			}
		}
		if len(got) != len(want) {
			t.Errorf("finish %d: %d datasets, want %d", finish, len(got), len(want))
		}
		for _, p := range []string{PartialPath(path), JournalPath(path)} {
			if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("finish %d: %s left after success", finish, p)
			}
		}
	}
}

// A dataset the exporter does not keep is exported again, and its old
// parts leave no bytes in the bundle; a part damaged in the partial file
// is never offered.
func TestResumeDropsWhatIsNotKeptOrDamaged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "site.imb")
	writeInterleaved(t, resumeWriter(t, path, resumeCommand), nil, 3)
	// Damage the last byte of the first finished dataset's first part.
	h, ds, err := readJournal(JournalPath(path))
	if err != nil || h == nil {
		t.Fatal(err)
	}
	e := ds[0].Entries[0].zip()
	f, err := os.OpenFile(PartialPath(path), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1)
	f.ReadAt(b, int64(e.dataOffset()+e.size-1))
	b[0] ^= 1
	f.WriteAt(b, int64(e.dataOffset()+e.size-1))
	f.Close()

	w := resumeWriter(t, path, resumeCommand)
	cands := w.Candidates()
	if len(cands) != 2 || !strings.Contains(strings.Join(w.ResumeNotes(), "\n"), ds[0].Dataset.Name) {
		t.Fatalf("candidates %d, notes %v", len(cands), w.ResumeNotes())
	}
	keep := map[string]bool{cands[1].Dataset.Name: true} // and not cands[0]
	if err := w.Keep(keep); err != nil {
		t.Fatal(err)
	}
	w.AddSource(spec.Source{ID: "s0", Engine: "mysql", URL: "mysql://db/im"})
	writeInterleaved(t, w, keep, -1)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := digestsOf(t, path); len(got) != len(resumeDatasets) {
		t.Fatalf("resumed bundle holds %v", got)
	}
}

// A partial file of another command is refused and left as it was; Restart
// starts over.
func TestResumeRefusesAnotherCommand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "site.imb")
	writeInterleaved(t, resumeWriter(t, path, resumeCommand), nil, 2)
	before, _ := os.ReadFile(PartialPath(path))
	_, err := Create(path, Options{Command: resumeCommand + " --tables a"})
	var mm *CommandMismatchError
	if !errors.As(err, &mm) || !strings.Contains(err.Error(), "--tables a") {
		t.Fatalf("Create of another command: %v", err)
	}
	if after, _ := os.ReadFile(PartialPath(path)); string(after) != string(before) {
		t.Fatal("the refused Create changed the partial file")
	}
	w, err := Create(path, Options{Command: resumeCommand + " --tables a", Restart: true, PartBytes: 8 << 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Candidates()) != 0 {
		t.Fatal("Restart offered candidates")
	}
	w.AddSource(spec.Source{ID: "s0", Engine: "mysql", URL: "mysql://db/im"})
	writeInterleaved(t, w, nil, -1)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	digestsOf(t, path)
}

// Suspend keeps the partial file and journal once a dataset finished, and
// is Abort before.
func TestSuspendKeepsWhatCanResume(t *testing.T) {
	path := filepath.Join(t.TempDir(), "site.imb")
	w := resumeWriter(t, path, resumeCommand)
	if w.Suspend() {
		t.Fatal("Suspend with nothing finished kept the files")
	}
	for _, p := range []string{PartialPath(path), JournalPath(path)} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s left by a Suspend with nothing to resume", p)
		}
	}
	w = resumeWriter(t, path, resumeCommand)
	dw, _ := w.CreateDataset(spec.Dataset{Name: "im.a", Source: "s0"}, testSchema())
	rec := testRecord(t, 0, 10)
	dw.Write(rec)
	rec.Release()
	dw.Close()
	if !w.Suspend() {
		t.Fatal("Suspend after a finished dataset removed the files")
	}
	w.Abort() // as the CLI's deferred Abort: does nothing now
	w = resumeWriter(t, path, resumeCommand)
	if c := w.Candidates(); len(c) != 1 || c[0].Dataset.Rows != 10 {
		t.Fatalf("after Suspend: candidates %v", c)
	}
	w.Abort()
}

// A resumed export that fails before it decided what to keep (its source
// could not be described) leaves the killed run's files as they were.
func TestSuspendBeforeKeepLeavesTheKilledRunsFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "site.imb")
	writeInterleaved(t, resumeWriter(t, path, resumeCommand), nil, 2)
	partial, _ := os.ReadFile(PartialPath(path))
	journal, _ := os.ReadFile(JournalPath(path))
	w := resumeWriter(t, path, resumeCommand)
	if !w.Suspend() {
		t.Fatal("Suspend before Keep removed the files")
	}
	w.Abort()
	p2, _ := os.ReadFile(PartialPath(path))
	j2, _ := os.ReadFile(JournalPath(path))
	if string(p2) != string(partial) || string(j2) != string(journal) {
		t.Fatal("Suspend before Keep changed the killed run's files")
	}
	w = resumeWriter(t, path, resumeCommand)
	defer w.Abort()
	if c := w.Candidates(); len(c) != 2 {
		t.Fatalf("%d candidates after a failed resume, want 2", len(c))
	}
}

// A damaged journal whose datasets claim the same bytes offers neither.
func TestOverlappingJournalEntries(t *testing.T) {
	ds := []journalDataset{
		{Entries: []journalEntry{{Name: PartPath(0, 0), Offset: 100, Size: 50}}},
		{Entries: []journalEntry{{Name: PartPath(1, 0), Offset: 300, Size: 10}}},
		{Entries: []journalEntry{{Name: PartPath(2, 0), Offset: 120, Size: 5}}},
	}
	bad := overlappingDatasets(ds)
	if !bad[0] || bad[1] || !bad[2] {
		t.Fatalf("overlapping %v, want datasets 0 and 2", bad)
	}
}

// A journal left without its partial file (an export killed after it
// renamed the finished bundle into place, before it removed the journal)
// is removed by the next export, whatever its command, and said so: it
// names nothing to resume.
func TestStaleJournalIsRemoved(t *testing.T) {
	path := filepath.Join(t.TempDir(), "site.imb")
	writeInterleaved(t, resumeWriter(t, path, resumeCommand), nil, 2)
	if err := os.Rename(PartialPath(path), path); err != nil {
		t.Fatal(err)
	}
	w, err := Create(path, Options{Command: resumeCommand + " --tables a", PartBytes: 8 << 10})
	if err != nil {
		t.Fatalf("Create beside a stale journal: %v", err)
	}
	defer w.Abort()
	if len(w.Candidates()) != 0 {
		t.Fatal("a stale journal offered candidates")
	}
	if notes := strings.Join(w.ResumeNotes(), "; "); !strings.Contains(notes, "removed a journal left without its partial file") {
		t.Fatalf("notes %q", notes)
	}
	b, err := os.ReadFile(JournalPath(path))
	if err != nil || strings.Contains(string(b), resumeCommand+"\"") {
		t.Fatalf("the journal is still the stale one: %v %q", err, b)
	}
}
