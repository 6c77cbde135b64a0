package enginetest

import (
	"strings"
	"testing"
)

// testVerifyMatch: verify --against a target that holds exactly the bundle
// matches (exit 0).
func (s *suite) testVerifyMatch(t *testing.T) {
	target := s.needImported(t)
	args := append([]string{"verify", s.bundle, "--against", target}, s.mapArgs(target)...)
	r := s.cli.Run(t, args...)
	if r.Code != 0 || !strings.Contains(r.Stdout, "OK:") {
		t.Fatalf("verify --against an identical target: exit %d, want 0 and OK\n%s", r.Code, r.Output())
	}
}

// testVerifyMismatch: verify --against a target with one record changed
// exits 3 and names the record's key.
func (s *suite) testVerifyMismatch(t *testing.T) {
	target := s.needImported(t)
	key := s.h.Change(t, target)
	args := append([]string{"verify", s.bundle, "--against", target}, s.mapArgs(target)...)
	r := s.cli.Run(t, args...)
	if r.Code != 3 {
		t.Errorf("verify --against a changed target: exit %d, want 3\n%s", r.Code, r.Output())
	}
	if !strings.Contains(r.Stdout, key) {
		t.Errorf("verify --against does not name the changed key %s:\n%s", key, r.Output())
	}
}
