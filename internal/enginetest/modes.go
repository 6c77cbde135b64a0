package enginetest

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testExport: the export command writes a bundle of the source that
// verifies offline and against the source itself.
func (s *suite) testExport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cli.imb")
	s.cli.MustRun(t, "export", "--source", s.source, "-o", path, "-q")
	s.cli.MustRun(t, "verify", path)
	r := s.cli.MustRun(t, "verify", path, "--against", s.source)
	if !strings.Contains(r.Stdout, "OK:") {
		t.Fatalf("verify --against the source exited 0 without saying OK:\n%s", r.Output())
	}
}

// testModeFail: --mode fail into a new database writes exactly the source,
// with no rejects.
func (s *suite) testModeFail(t *testing.T) {
	target := s.h.NewTarget(s.topT) // the subtests after this one use it

	rejects := filepath.Join(t.TempDir(), "rejects.jsonl")
	r := s.cli.Run(t, s.importArgs(target, rejects)...)
	requireNoRejects(t, r, rejects)
	s.dumpSame(t, "target after import", target, s.want)
	s.imported, s.importTook = target, r.Took
}

// needImported skips t when Import/ModeFail left no imported target.
func (s *suite) needImported(t *testing.T) string {
	t.Helper()
	if s.imported == "" {
		t.Skip("needs the target of Import/ModeFail, which did not pass")
	}
	return s.imported
}

// testClean: a finished import leaves nothing of imbundle's behind.
func (s *suite) testClean(t *testing.T) {
	target := s.needImported(t)
	if left := s.h.Residue(t, target); len(left) > 0 {
		t.Fatalf("a finished import left imbundle's state behind: %s", strings.Join(left, ", "))
	}
}

// testSameBundleTwice: importing a finished bundle again in --mode fail
// finds the target non-empty, compares it with the bundle, and since it
// holds exactly the bundle says "already imported": exit 0, nothing
// written. (A target holding anything else is refused: ModeFailNonEmpty.)
func (s *suite) testSameBundleTwice(t *testing.T) {
	target := s.needImported(t)
	before := s.h.Dump(t, target)
	rejects := filepath.Join(t.TempDir(), "rejects.jsonl")
	r := s.cli.Run(t, s.importArgs(target, rejects)...)
	if r.Code != 0 || !strings.Contains(r.Output(), "already imported") {
		t.Errorf("second import of the same finished bundle in --mode fail: exit %d, want 0 and \"already imported\"\n%s", r.Code, r.Output())
	}
	s.dumpSame(t, "target after the second import", target, before)
}

// testModeReplace: --mode replace over a target whose data was changed
// gives exactly the source again.
func (s *suite) testModeReplace(t *testing.T) {
	target := s.needImported(t)
	s.h.Change(t, target) // Verify/Mismatch may have changed it already; twice is as good
	rejects := filepath.Join(t.TempDir(), "rejects.jsonl")
	r := s.cli.Run(t, s.importArgs(target, rejects, "--mode", "replace")...)
	requireNoRejects(t, r, rejects)
	s.dumpSame(t, "target after --mode replace", target, s.want)
}

// testModeFailNonEmpty: --mode fail refuses a target that holds one of the
// bundle's records, names the object, and writes nothing.
func (s *suite) testModeFailNonEmpty(t *testing.T) {
	target := s.h.NewTarget(t)
	object := s.h.Collide(t, s.source, target)
	before := s.h.Dump(t, target)
	rejects := filepath.Join(t.TempDir(), "rejects.jsonl")
	r := s.cli.Run(t, s.importArgs(target, rejects)...)
	if r.Code != 6 { // the target refused the import (README, exit codes)
		t.Errorf("--mode fail into a target holding %s: exit %d, want 6\n%s", object, r.Code, r.Output())
	}
	if !strings.Contains(r.Output(), object) {
		t.Errorf("the refusal does not name %s:\n%s", object, r.Output())
	}
	s.dumpSame(t, "target after the refused import", target, before)
}

// testModeAppend: --mode append adds the bundle to a target's records.
func (s *suite) testModeAppend(t *testing.T) {
	target := s.h.NewTarget(t)
	s.h.AddForeign(t, s.source, target)
	before := s.h.Dump(t, target)
	want := State{}
	for k, v := range s.want {
		want[k] = v
	}
	for k, v := range before {
		if w, dup := want[k]; dup && w != v {
			t.Fatalf("Harness.AddForeign wrote %s, which the source holds otherwise", k)
		}
		want[k] = v
	}
	rejects := filepath.Join(t.TempDir(), "rejects.jsonl")
	r := s.cli.Run(t, s.importArgs(target, rejects, "--mode", "append")...)
	requireNoRejects(t, r, rejects)
	s.dumpSame(t, "target after --mode append", target, want)
}

// testRejects: records the target refuses go to the reject file with their
// reason and the import exits 4; every other record is written.
func (s *suite) testRejects(t *testing.T) {
	target := s.h.NewTarget(t)
	mode, refused := s.h.Refuse(t, s.source, target)
	before := s.h.Dump(t, target)
	want := State{}
	for k, v := range s.want {
		want[k] = v
	}
	for k, v := range before {
		want[k] = v // what the target held stays; for refused keys, instead of the bundle's
	}
	for _, k := range refused {
		if _, ok := before[k]; !ok {
			delete(want, k)
		}
	}
	rejects := filepath.Join(t.TempDir(), "rejects.jsonl")
	r := s.cli.Run(t, s.importArgs(target, rejects, "--mode", mode)...)
	if r.Code != 4 {
		t.Fatalf("import with %d refused record(s): exit %d, want 4\n%s", len(refused), r.Code, r.Output())
	}
	if !strings.Contains(r.Output(), rejects) {
		t.Errorf("the import does not name the reject file %s:\n%s", rejects, r.Output())
	}
	lines := readRejects(t, rejects)
	if len(lines) != len(refused) {
		t.Errorf("reject file holds %d line(s), want %d (for %s)", len(lines), len(refused), strings.Join(refused, ", "))
	}
	for i, l := range lines {
		if l.Dataset == "" || l.Reason == "" {
			t.Errorf("reject line %d lacks its dataset or reason: %+v", i+1, l)
		}
	}
	s.dumpSame(t, "target after an import with rejects", target, want)
}

type rejectLine struct {
	Dataset string   `json:"dataset"`
	Reason  string   `json:"reason"`
	Key     []string `json:"key"`
}

func readRejects(t *testing.T, path string) []rejectLine {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("reject file: %v", err)
	}
	defer f.Close()
	var out []rejectLine
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var l rejectLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("reject file line %d is not JSON: %v", len(out)+1, err)
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// testCorrupt: one flipped byte in a part makes the import exit 3 before
// anything is written; the target database is not even created.
func (s *suite) testCorrupt(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "damaged.imb")
	part := damageCopy(t, s.manifest, s.bundle, bad)
	target := s.h.NewTarget(t)
	rejects := filepath.Join(t.TempDir(), "rejects.jsonl")
	args := s.importArgs(target, rejects)
	args[1] = bad
	r := s.cli.Run(t, args...)
	if r.Code != 5 { // a damaged bundle is bad input (README, exit codes)
		t.Errorf("import of a bundle with a byte flipped in %s: exit %d, want 5\n%s", part, r.Code, r.Output())
	}
	if s.h.Exists(t, target) {
		t.Errorf("the import of a damaged bundle created or wrote the target; it must write nothing: %s", strings.Join(diff(State{}, s.h.Dump(t, target), 0, 5), "; "))
	}
}
