package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// stderrOf runs the CLI with os.Stderr (where log records go) sent to a
// file, and returns what was written there.
func stderrOf(t *testing.T, args ...string) (string, error) {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stderr
	os.Stderr = f
	_, runErr := runCLI(t, args...)
	os.Stderr = old
	f.Close()
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	return string(b), runErr
}

// TestQuietAndLogLevel: --quiet leaves only errors on stderr (it used to
// print every INFO record), --log-level chooses the least severe record,
// and a bad level is a usage error.
func TestQuietAndLogLevel(t *testing.T) {
	srcURL, path := exportedMySQL(t, "loglvl", []string{"CREATE TABLE t (id INT PRIMARY KEY)", "INSERT INTO t VALUES (1), (2)"})
	out := filepath.Join(t.TempDir(), "again.imb")
	text, err := stderrOf(t, "export", "--source", srcURL, "-o", out, "--log-format", "json")
	if err != nil {
		t.Fatalf("export: %v\n%s", err, text)
	}
	if !strings.Contains(text, `"level":"INFO"`) {
		t.Fatalf("export without --quiet logged no INFO record:\n%s", text)
	}
	export := func(flags ...string) []string {
		return append(flags, "export", "--source", srcURL, "-o", filepath.Join(t.TempDir(), "q.imb"), "--log-format", "json")
	}
	for _, args := range [][]string{export("-q"), export("--log-level", "warn"), export("--log-level", "error")} {
		text, err := stderrOf(t, args...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, text)
		}
		if strings.Contains(text, `"level":"INFO"`) {
			t.Errorf("%v logged INFO records:\n%s", args, text)
		}
	}
	text, err = stderrOf(t, export("-q", "--log-level", "debug")...)
	if err != nil || !strings.Contains(text, `"level":"INFO"`) {
		t.Errorf("--log-level debug beside -q: %v, want INFO records:\n%s", err, text)
	}
	if _, err := runCLI(t, "--log-level", "chatty", "verify", path); exitCodeOf(err) != exitUsage {
		t.Errorf("--log-level chatty: exit %d (%v), want %d", exitCodeOf(err), err, exitUsage)
	}
}
