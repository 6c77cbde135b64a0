package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imbundle/imbundle/internal/testenv"
)

// TestImportSurvivesTheTargetGoingAway: a MySQL target's connections are
// killed in the middle of an import (the server restarted, a proxy cut
// them), after a part was committed. The import either takes the lost
// connection as transient and loads the part again, or stops saying how
// to resume; run again, it resumes, and the target then holds exactly the
// bundle: verify --against is green either way. Never a target half old,
// half new that says it is done.
func TestImportSurvivesTheTargetGoingAway(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "imbundle")
	if b, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	src := bigDatabase(t)
	path := filepath.Join(t.TempDir(), "big.imb")
	if b, err := exec.Command(bin, "export", "-q", "--source", src, "-o", path, "--part-size", "8").CombinedOutput(); err != nil {
		t.Fatalf("export: %v\n%s", err, b)
	}
	target, db := testenv.MySQLDatabase(t, "clilost")
	dbName := target[strings.LastIndex(target, "/")+1:]
	args := []string{"import", "-q", path, "--target", target, "-j", "1"}
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	killed := 0
	for killed == 0 {
		loaded := 0
		db.QueryRow("SELECT COUNT(*) FROM imbundle.progress WHERE db = ? AND `rows` > 0", dbName).Scan(&loaded)
		if loaded > 0 {
			// Only this import's connections: the server is shared with
			// other tests.
			rows, err := db.Query("SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()", dbName)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for rows.Next() {
				var id string
				rows.Scan(&id)
				ids = append(ids, id)
			}
			rows.Close()
			for _, id := range ids {
				if _, err := db.Exec("KILL CONNECTION " + id); err == nil {
					killed++
				}
			}
		}
		select {
		case <-exited:
			if killed == 0 {
				t.Fatalf("the import ended before its connections could be killed:\n%s", stderr.String())
			}
		case <-time.After(2 * time.Millisecond):
		}
	}
	<-exited
	switch code := cmd.ProcessState.ExitCode(); code {
	case 0:
		t.Logf("the import took the %d lost connection(s) as transient and finished", killed)
	case exitError:
		if !strings.Contains(stderr.String(), "run the same command again to resume") {
			t.Fatalf("an import that lost its target says nothing of running it again:\n%s", stderr.String())
		}
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("the import run again: %v\n%s", err, out)
		}
		t.Logf("stopped (exit 1) after %d killed connection(s), then resumed:\n%s", killed, out)
	default:
		t.Fatalf("exit %d after the target's connections were killed:\n%s", code, stderr.String())
	}
	if out, err := exec.Command(bin, "verify", path, "--against", target).CombinedOutput(); err != nil {
		t.Fatalf("verify --against after the target went away: %v\n%s", err, out)
	}
}
