package main

import (
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/imbundle/imbundle/internal/testenv"
)

// silentServer accepts TCP connections and never answers, as a wedged
// server or a wrong port behind a proxy does.
func silentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return ln.Addr().String()
}

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

	addr := silentServer(t)
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
