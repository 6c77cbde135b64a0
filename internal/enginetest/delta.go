package enginetest

import (
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// testDelta: the cutover on this engine (SPEC.md §14). The suite's bundle,
// imported into a database of its own (the live site), is exported whole
// (the base) and imported into a target; a record of the site changes; a
// delta of the site (export --since) imported into the target makes it
// hold exactly what the site holds; the same delta again says it was
// applied and changes nothing; verify of the chain against the target
// matches.
func (s *suite) testDelta(t *testing.T) {
	site := s.h.NewTarget(t)
	s.cli.MustRun(t, s.importArgs(site, filepath.Join(t.TempDir(), "rejects.jsonl"))...)
	dir := t.TempDir()
	base := filepath.Join(dir, "base.imb")
	s.cli.MustRun(t, "export", "-q", "--source", site, "-o", base)
	target := s.h.NewTarget(t)
	maps := renameArgs(s.h.Map(site, target))
	s.cli.MustRun(t, append([]string{"import", "-q", base, "--target", target}, maps...)...)

	s.h.Change(t, site)
	want := s.h.Dump(t, site)
	d1 := filepath.Join(dir, "d1.imb")
	s.cli.MustRun(t, "export", "-q", "--source", site, "--since", base, "-o", d1)
	s.cli.MustRun(t, append([]string{"import", "-q", d1, "--target", target}, maps...)...)
	s.dumpSame(t, "target after the delta", target, want)

	r := s.cli.Run(t, append([]string{"import", "-q", d1, "--target", target}, maps...)...)
	if r.Code != 0 || !strings.Contains(r.Stdout, "already applied") {
		t.Errorf("the delta imported twice: exit %d, want 0 and 'already applied'\n%s", r.Code, r.Output())
	}
	s.dumpSame(t, "target after the delta twice", target, want)

	r = s.cli.Run(t, append([]string{"verify", base, d1, "--against", target}, maps...)...)
	if r.Code != 0 {
		t.Errorf("verify of the chain against the target: exit %d, want 0\n%s", r.Code, r.Output())
	}
}

// renameArgs are --map flags for namespace renames.
func renameArgs(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var args []string
	for _, k := range keys {
		args = append(args, "--map", k+"="+m[k])
	}
	return args
}
