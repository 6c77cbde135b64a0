package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imbundle/imbundle/internal/testenv"
)

// TestBundleThroughAPipe: `export -o - | import -` moves a database with
// no file named by the user (export … | ssh … import -), the bytes on the
// pipe are a bundle that verifies, `verify -` and `inspect -` read one from
// standard input, the spool files are gone afterwards, and --sign with
// -o - is refused.
func TestBundleThroughAPipe(t *testing.T) {
	bin := builtCLI(t)
	srcURL, src := testenv.MySQLDatabase(t, "pipe_src")
	for _, q := range []string{"CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(8))", "INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, NULL)"} {
		if _, err := src.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	dstURL, dst := testenv.MySQLDatabase(t, "pipe_dst")
	spool := t.TempDir()
	env := append(os.Environ(), "TMPDIR="+spool)

	export := exec.Command(bin, "-q", "export", "--source", srcURL, "-o", "-", "--param", "lock-wait=2")
	export.Env = env
	var exportErr bytes.Buffer
	export.Stderr = &exportErr
	pipe, err := export.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	imp := exec.Command(bin, "-q", "import", "-", "--target", dstURL)
	imp.Env, imp.Stdin = env, pipe
	if err := export.Start(); err != nil {
		t.Fatal(err)
	}
	out, ierr := imp.CombinedOutput()
	if err := export.Wait(); err != nil || ierr != nil {
		t.Fatalf("export -o - | import -: %v / %v\n%s\n%s", err, ierr, exportErr.String(), out)
	}
	var n int
	if err := dst.QueryRow("SELECT COUNT(*) FROM t").Scan(&n); err != nil || n != 3 {
		t.Errorf("target t: %d rows (%v), want 3", n, err)
	}

	// The bytes on the pipe are a bundle: verify - and inspect - read it.
	export = exec.Command(bin, "-q", "export", "--source", srcURL, "-o", "-", "--param", "lock-wait=2")
	export.Env = env
	bundleBytes, err := export.Output()
	if err != nil {
		t.Fatalf("export -o -: %v", err)
	}
	for _, args := range [][]string{{"verify", "-"}, {"verify", "-", "--against", dstURL}, {"inspect", "-"}} {
		c := exec.Command(bin, args...)
		c.Env, c.Stdin = env, bytes.NewReader(bundleBytes)
		out, err := c.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "pipe_src") && !strings.Contains(string(out), "OK") {
			t.Errorf("%v: %v\n%s", args, err, out)
		}
	}
	if left, _ := os.ReadDir(spool); len(left) != 0 {
		t.Errorf("spool files left in TMPDIR: %v", left)
	}
	c := exec.Command(bin, "export", "--source", srcURL, "-o", "-", "--sign", filepath.Join(spool, "k"))
	if out, err := c.CombinedOutput(); err == nil || !strings.Contains(string(out), "not -o -") {
		t.Errorf("--sign with -o -: %v\n%s", err, out)
	}
}
