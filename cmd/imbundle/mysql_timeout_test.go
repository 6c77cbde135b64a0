package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/imbundle/imbundle/internal/testenv"
)

// TestMySQLSilentServerTimesOut: export, import and verify --against give
// up on a server that never answers once the URL's readTimeout has run
// out, naming the address and the step; an unknown URL parameter is a
// usage error (exit 2) listing the valid ones.
func TestMySQLSilentServerTimesOut(t *testing.T) {
	srcURL, src := testenv.MySQLDatabase(t, "cli_timeout_src")
	if _, err := src.Exec("CREATE TABLE t (id INT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "b.imb")
	if out, err := runCLI(t, "-q", "export", "--source", srcURL, "-o", path, "--param", "lock-wait=2"); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}

	addr := testenv.SilentServer(t)
	silent := "mysql://root:hunter2@" + addr + "/app?readTimeout=1s&writeTimeout=1s&timeout=1s"
	for _, args := range [][]string{
		{"export", "--source", silent, "-o", filepath.Join(t.TempDir(), "x.imb")},
		{"import", path, "--target", silent},
		{"verify", path, "--against", silent},
	} {
		out, err := runCLI(t, append([]string{"-q"}, args...)...)
		if err == nil {
			t.Fatalf("%s against a silent server succeeded:\n%s", args[0], out)
		}
		msg := err.Error()
		if !strings.Contains(msg, addr) || !strings.Contains(msg, "connect") || !strings.Contains(msg, "readTimeout=1s") || strings.Contains(msg, "hunter2") {
			t.Errorf("%s: error does not name the address, the step and the timeout (or shows the password): %v", args[0], msg)
		}
		if code := exitCodeOf(err); code != exitError {
			t.Errorf("%s: exit %d, want %d", args[0], code, exitError)
		}
	}

	out, err := runCLI(t, "-q", "verify", path, "--against", srcURL+"?readtimeout=5s")
	if code := exitCode(err); code != exitUsage || !strings.Contains(err.Error(), "valid: readTimeout, timeout, tls, writeTimeout") {
		t.Errorf("unknown URL parameter: exit %d, %v\n%s", code, err, out)
	}
}
