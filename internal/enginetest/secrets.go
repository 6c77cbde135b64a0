package enginetest

import (
	"bytes"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// secret is the password the suite puts in URLs: it must never appear in
// any output, bundle or reject file.
const secret = "enginetest-s3cret-pw"

// withSecret returns raw with user enginetest and the suite's password.
func withSecret(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword("enginetest", secret)
	return u.String()
}

// testSecrets: export, import and verify --against with a password in the
// URL (refused, or accepted by a server without authentication) never
// print the password, nor write it to a bundle or a reject file.
func (s *suite) testSecrets(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "secret.imb")
	target := withSecret(t, s.h.NewTarget(t))
	runs := [][]string{
		{"export", "--source", withSecret(t, s.source), "-o", out},
		{"verify", s.bundle, "--against", withSecret(t, s.source)},
		append([]string{"import", s.bundle, "--target", target, "--rejects", filepath.Join(dir, "rejects.jsonl")}, s.mapArgs(target)...),
	}
	for _, args := range runs {
		r := s.cli.Run(t, args...)
		t.Logf("%s with a password in the URL: exit %d: %.300s", args[0], r.Code, lastLine(r.Output()))
		if strings.Contains(r.Output(), secret) {
			t.Errorf("imbundle %s (exit %d) printed the URL's password:\n%s", args[0], r.Code, r.Output())
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("%s holds the URL's password", filepath.Base(f))
		}
	}
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
