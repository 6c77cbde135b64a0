package main

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestImportSurvivesTheTargetGoingAway: a MySQL target's connections are
// killed in the middle of an import (the server restarted, a proxy cut
// them), after a part was committed. The import either takes the lost
// connection as transient and loads the part again, or stops saying how
// to resume; run again, it resumes, and the target then holds exactly the
// bundle: verify --against is green either way. Never a target half old,
// half new that says it is done.
func TestImportSurvivesTheTargetGoingAway(t *testing.T) {
	bin := builtCLI(t)
	path := bigBundle(t, bin)
	ri := startImport(t, bin, path, "clilost")
	killed := 0
	for killed == 0 {
		if ri.committed() {
			killed += killConnectionsTo(t, ri.db, ri.dbName)
		}
		select {
		case <-ri.exited:
			if killed == 0 {
				t.Fatalf("the import ended before its connections could be killed:\n%s", ri.stderr.String())
			}
		case <-time.After(2 * time.Millisecond):
		}
	}
	<-ri.exited
	switch code := ri.cmd.ProcessState.ExitCode(); code {
	case 0:
		t.Logf("the import took the %d lost connection(s) as transient and finished", killed)
	case exitError:
		if !strings.Contains(ri.stderr.String(), "run the same command again to resume") {
			t.Fatalf("an import that lost its target says nothing of running it again:\n%s", ri.stderr.String())
		}
		out, err := exec.Command(bin, ri.args...).CombinedOutput()
		if err != nil || !regexpResumed.Match(out) {
			t.Fatalf("the import run again: %v, want it to resume the committed parts\n%s", err, out)
		}
		t.Logf("stopped (exit 1) after %d killed connection(s), then resumed:\n%s", killed, out)
	default:
		t.Fatalf("exit %d after the target's connections were killed:\n%s", code, ri.stderr.String())
	}
	if out, err := exec.Command(bin, "verify", path, "--against", ri.target).CombinedOutput(); err != nil {
		t.Fatalf("verify --against after the target went away: %v\n%s", err, out)
	}
}
