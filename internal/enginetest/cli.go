package enginetest

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// hangGuard ends a command that has run this long: the suite then fails
// it as hung. It bounds a broken test run, it is no performance threshold.
const hangGuard = 2 * time.Minute

// CLI is the imbundle binary built from this source tree, run as a user
// runs it: the suite asserts exit codes and output, and can SIGKILL it.
type CLI struct {
	Path string
}

// Result is one finished run of the binary.
type Result struct {
	Args   []string
	Code   int // exit code; -1 if killed by a signal
	Stdout string
	Stderr string
	Took   time.Duration
}

// Output is stdout and stderr together, for messages and searches.
func (r Result) Output() string { return r.Stdout + r.Stderr }

// buildCLI builds cmd/imbundle into a directory of t (the binary is the
// code under test, so it is built from this tree, never taken from PATH).
func buildCLI(t *testing.T) *CLI {
	t.Helper()
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	bin := filepath.Join(t.TempDir(), "imbundle")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/imbundle")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build imbundle: %v\n%s", err, out)
	}
	return &CLI{Path: bin}
}

// Run runs the binary to its end (or the hang guard) and returns what it did.
func (c *CLI) Run(t *testing.T, args ...string) Result {
	t.Helper()
	return c.run(t, hangGuard, args...)
}

// MustRun runs the binary and fails t unless it exits 0.
func (c *CLI) MustRun(t *testing.T, args ...string) Result {
	t.Helper()
	r := c.Run(t, args...)
	if r.Code != 0 {
		t.Fatalf("imbundle %s: exit %d\n%s", strings.Join(args, " "), r.Code, r.Output())
	}
	return r
}

func (c *CLI) run(t *testing.T, guard time.Duration, args ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.Path, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := Result{Args: args, Stdout: out.String(), Stderr: errb.String(), Took: time.Since(start)}
	if ctx.Err() != nil {
		t.Fatalf("imbundle %s: still running after %s (hung?)\n%s", strings.Join(args, " "), guard, r.Output())
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.Code = ee.ExitCode()
	default:
		t.Fatalf("imbundle %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// Killed is a run of the binary that was sent SIGKILL after a delay.
type Killed struct {
	Result
	Exited bool // it had ended on its own before the signal
}

// RunKilled starts the binary and sends it SIGKILL after delay.
func (c *CLI) RunKilled(t *testing.T, delay time.Duration, args ...string) Killed {
	t.Helper()
	cmd := exec.Command(c.Path, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var k Killed
	var err error
	select {
	case err = <-done:
		k.Exited = true
	case <-time.After(delay):
		cmd.Process.Kill()
		err = <-done
	}
	k.Result = Result{Args: args, Stdout: out.String(), Stderr: errb.String(), Took: time.Since(start)}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		k.Code = ee.ExitCode()
	}
	return k
}
