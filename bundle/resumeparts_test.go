package bundle

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imbundle/imbundle/spec"
)

// writeJournalingParts writes the datasets not in skip as writeInterleaved
// does, with part lines (JournalParts), each continued from the rows its
// writer already holds; after `batches` batches (negative: never) it stops
// as a killed process would and returns nil.
func writeJournalingParts(t *testing.T, w *Writer, skip map[string]bool, batches int) *Writer {
	t.Helper()
	type open struct {
		dw   *DatasetWriter
		rows int
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
		dw.JournalParts("rows=" + d.name)
		ds = append(ds, &open{dw: dw, rows: d.rows})
	}
	for len(ds) > 0 {
		var next []*open
		for _, o := range ds {
			if batches == 0 {
				w.f.Close() // SIGKILL
				w.journal.close()
				return nil
			}
			batches--
			at := int(o.dw.rows)
			n := min(200, o.rows-at)
			rec := testRecord(t, at, n)
			if err := o.dw.Write(rec); err != nil {
				t.Fatal(err)
			}
			rec.Release()
			if at+n < o.rows {
				next = append(next, o)
				continue
			}
			o.dw.SetResumeCheck("rows=" + o.dw.name)
			if err := o.dw.Close(); err != nil {
				t.Fatal(err)
			}
		}
		ds = next
	}
	return w
}

// contentOf is each dataset's digest and rows (part boundaries aside).
func contentOf(t *testing.T, path string) map[string]string {
	t.Helper()
	digestsOf(t, path) // opens and verifies every part
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	out := map[string]string{}
	for _, ds := range r.Manifest().Datasets {
		out[ds.Name] = fmt.Sprintf("%v, %d rows", ds.Digest, ds.Rows)
	}
	return out
}

// A journaled export killed while datasets were half written offers
// their finished parts as partial candidates; kept, each is continued
// from its kept rows (killed again, and resumed again), and the bundle
// has the digests and rows of an uninterrupted export's. A partial
// dataset not kept is written again from its start.
func TestResumeContinuesPartialDatasets(t *testing.T) {
	want := func() map[string]string {
		path := filepath.Join(t.TempDir(), "whole.imb")
		w := resumeWriter(t, path, resumeCommand)
		writeJournalingParts(t, w, nil, -1)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return contentOf(t, path)
	}()
	for _, drop := range []string{"", "im.b"} {
		path := filepath.Join(t.TempDir(), "site.imb")
		writeJournalingParts(t, resumeWriter(t, path, resumeCommand), nil, 20) // im.d finished, the others half
		partialRows := map[string]int64{}
		for round := 0; round < 2; round++ {
			w := resumeWriter(t, path, resumeCommand)
			keep := map[string]bool{}
			for _, c := range w.Candidates() {
				if c.Check != "rows="+c.Dataset.Name {
					t.Fatalf("candidate %s has check %q", c.Dataset.Name, c.Check)
				}
				if c.Partial {
					if c.Dataset.Name == drop {
						partialRows[drop] = 0 // written again from its start
					}
					if len(c.Dataset.Parts) == 0 || c.Dataset.Rows <= partialRows[c.Dataset.Name] {
						t.Fatalf("round %d: partial %s: %d parts, %d rows (had %d)", round, c.Dataset.Name, len(c.Dataset.Parts), c.Dataset.Rows, partialRows[c.Dataset.Name])
					}
					partialRows[c.Dataset.Name] = c.Dataset.Rows
				}
				if c.Dataset.Name != drop {
					keep[c.Dataset.Name] = true
				}
			}
			if len(partialRows) != 3 {
				t.Fatalf("round %d: partial candidates %v (notes %v)", round, partialRows, w.ResumeNotes())
			}
			if err := w.Keep(keep); err != nil {
				t.Fatal(err)
			}
			w.AddSource(spec.Source{ID: "s0", Engine: "mysql", URL: "mysql://db/im"})
			finished := map[string]bool{}
			for _, d := range w.manifest.Datasets {
				if _, open := w.continued[d.Name]; !open {
					finished[d.Name] = true
				}
			}
			if round == 0 {
				writeJournalingParts(t, w, finished, 12) // killed again, further on
				continue
			}
			if w := writeJournalingParts(t, w, finished, -1); w == nil {
				t.Fatal("not finished")
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
		}
		got := contentOf(t, path)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("drop %q: resumed\n%v\nuninterrupted\n%v", drop, got, want)
		}
	}
}

// A part line of a dataset that is not the next part makes the journal
// unusable: the export starts over and says so.
func TestJournalPartLinesOutOfOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "site.imb")
	writeJournalingParts(t, resumeWriter(t, path, resumeCommand), nil, 20)
	b, err := os.ReadFile(JournalPath(path))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	var cut []string
	doubled := false
	for _, l := range lines {
		cut = append(cut, l)
		if !doubled && strings.Contains(l, `"index":0,`) {
			doubled = true // a dataset's part 0 twice: the second follows 1 part
			cut = append(cut, l)
		}
	}
	if !doubled {
		t.Fatal("no part line")
	}
	os.WriteFile(JournalPath(path), []byte(strings.Join(cut, "")), 0o644)
	w, err := Create(path, Options{PartBytes: 8 << 10, MemoryStageBytes: -1, Command: resumeCommand})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	if notes := strings.Join(w.ResumeNotes(), "; "); len(w.Candidates()) != 0 || !strings.Contains(notes, "part line 0 follows 1 parts") {
		t.Fatalf("candidates %d, notes %q", len(w.Candidates()), notes)
	}
}

// A journal of version 1 (before part lines) is still resumed: its
// finished datasets are offered.
func TestJournalVersion1IsResumed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "site.imb")
	writeInterleaved(t, resumeWriter(t, path, resumeCommand), nil, 2)
	b, err := os.ReadFile(JournalPath(path))
	if err != nil {
		t.Fatal(err)
	}
	v1 := strings.Replace(string(b), `{"imbundle_export_journal":2,`, `{"imbundle_export_journal":1,`, 1)
	if v1 == string(b) {
		t.Fatal("the journal's header is not version 2")
	}
	os.WriteFile(JournalPath(path), []byte(v1), 0o644)
	w := resumeWriter(t, path, resumeCommand)
	defer w.Abort()
	if c := w.Candidates(); len(c) != 2 {
		t.Fatalf("%d candidates from a version 1 journal (notes %v)", len(c), w.ResumeNotes())
	}
}
