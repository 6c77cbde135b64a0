package enginetest

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/imbundle/imbundle/spec"
)

// suite is one Run: the harness, the binary, the source and its bundle.
type suite struct {
	h        Harness
	topT     *testing.T // Run's test: what outlives one subtest is cleaned up with it
	top      string     // Run's test name: subtest names are relative to it
	cli      *CLI
	source   string
	want     State // Dump of the source
	bundle   string
	manifest *spec.Manifest
	parts    int
	defined  map[string]bool // subtest names, run or not (-run)

	// imported is a target holding the bundle from Import/ModeFail, which
	// the subtests after it read, then change; "" if that import failed.
	imported   string
	importTook time.Duration
}

// Run runs the conformance suite against the engine h describes. Subtests
// h.Known lists are skipped, unless IMBUNDLE_TEST_KNOWN=run (to see whether
// a fix has closed a gap).
func Run(t *testing.T, h Harness) {
	s := &suite{h: h, topT: t, top: t.Name(), defined: map[string]bool{}}
	s.cli = buildCLI(t)
	s.source = h.NewTarget(t)
	h.Seed(t, s.cli, s.source)
	s.want = h.Dump(t, s.source)
	if len(s.want) == 0 {
		t.Fatal("the seeded source dumps empty")
	}
	s.bundle = filepath.Join(t.TempDir(), "suite.imb")
	m := ExportSmallParts(t, s.source, s.bundle, h.BatchRows)
	s.manifest = m
	s.parts = countParts(m)
	if s.parts < 4 {
		t.Fatalf("the suite's bundle has %d parts; seed more records or lower BatchRows (resume tests need several)", s.parts)
	}
	t.Logf("%s source: %d records; bundle: %d datasets, %d parts", h.Name, len(s.want), len(m.Datasets), s.parts)

	s.sub(t, "Export", s.testExport)
	s.sub(t, "Import/ModeFail", s.testModeFail)
	s.sub(t, "Import/Clean", s.testClean)
	s.sub(t, "Verify/Match", s.testVerifyMatch)
	s.sub(t, "Import/SameBundleTwice", s.testSameBundleTwice)
	s.sub(t, "Verify/Mismatch", s.testVerifyMismatch)
	s.sub(t, "Import/ModeReplace", s.testModeReplace)
	s.sub(t, "Import/ModeFailNonEmpty", s.testModeFailNonEmpty)
	s.sub(t, "Import/ModeAppend", s.testModeAppend)
	s.sub(t, "Import/Rejects", s.testRejects)
	s.sub(t, "Import/CorruptBundle", s.testCorrupt)
	s.sub(t, "Resume/AfterFailure/first_part", func(t *testing.T) { s.testResumeAfterFailure(t, 1) })
	s.sub(t, "Resume/AfterFailure/half_the_parts", func(t *testing.T) { s.testResumeAfterFailure(t, s.parts/2) })
	s.testResumeAfterKill(t)
	for _, cmd := range []string{"export", "import", "verify"} {
		s.sub(t, "Timeout/"+cmd, func(t *testing.T) { s.testTimeout(t, cmd) })
	}
	s.sub(t, "Secrets", s.testSecrets)
	s.sub(t, "Delta", s.testDelta)

	var stale []string
	for name := range h.Known {
		if !s.defined[name] {
			stale = append(stale, name)
		}
	}
	sort.Strings(stale)
	if len(stale) > 0 {
		t.Errorf("Harness.Known names no subtest: %s (subtests are named as in \"Import/ModeFail\")", strings.Join(stale, ", "))
	}
}

// sub runs a subtest, or skips it as a known gap.
func (s *suite) sub(t *testing.T, name string, fn func(t *testing.T)) {
	rel := strings.TrimPrefix(t.Name()+"/"+name, s.top+"/")
	s.defined[rel] = true
	t.Run(name, func(t *testing.T) {
		if reason, ok := s.h.Known[rel]; ok {
			if os.Getenv("IMBUNDLE_TEST_KNOWN") != "run" {
				t.Skipf("known gap (Harness.Known; IMBUNDLE_TEST_KNOWN=run runs it): %s", reason)
			}
			t.Logf("known gap, run as IMBUNDLE_TEST_KNOWN=run asks: %s", reason)
		}
		fn(t)
	})
}

// importArgs is the import command the suite runs, its rejects going to
// rejects.
func (s *suite) importArgs(target, rejects string, extra ...string) []string {
	args := []string{"import", s.bundle, "--target", target, "--rejects", rejects, "-q"}
	args = append(args, s.mapArgs(target)...)
	return append(args, extra...)
}

func (s *suite) mapArgs(target string) []string { return renameArgs(s.h.Map(s.source, target)) }

// requireNoRejects fails t if an import reported or wrote rejects.
func requireNoRejects(t *testing.T, r Result, rejects string) {
	t.Helper()
	if r.Code != 0 {
		t.Fatalf("imbundle %s: exit %d, want 0\n%s", strings.Join(r.Args, " "), r.Code, r.Output())
	}
	if strings.Contains(r.Stdout, "rejects:") {
		t.Fatalf("import reported rejects:\n%s", r.Output())
	}
	if _, err := os.Stat(rejects); err == nil {
		b, _ := os.ReadFile(rejects)
		t.Fatalf("import wrote a reject file %s:\n%.2000s", rejects, b)
	}
}

func (s *suite) dumpSame(t *testing.T, what, url string, want State) {
	t.Helper()
	requireSame(t, what, want, s.h.Dump(t, url), s.h.ExpiryTolerance)
}
