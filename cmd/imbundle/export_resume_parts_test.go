package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imbundle/imbundle/internal/testenv"
)

// An export SIGKILLed while it reads a big keyed table, once the journal
// lists parts of it, keeps those parts when run again and reads only the
// rows after the last kept key: the log says how many parts it kept and
// how many rows it read, fewer than the table holds, and the digests
// equal a fresh export's. A table changed between the runs (a row added)
// has its parts dropped and is read again from its start. Each table is
// a database of its own: a small database is read one table at a time,
// or so when other tests hold the server's locks.
func TestExportResumeKeepsPartsOfABigTable(t *testing.T) {
	bin := builtCLI(t)
	// Parts are cut at record batches of 8 MiB: rows of about 170 bytes
	// give big seven parts and chg four.
	const bigRows, chgRows = 400000, 200000
	t.Run("unchanged", func(t *testing.T) {
		url, db := testenv.MySQLDatabase(t, "cliparts")
		mustExec(t, db, "CREATE TABLE big (id BIGINT UNSIGNED, tag VARCHAR(8), v TEXT, PRIMARY KEY (id, tag))")
		mustExec(t, db, fmt.Sprintf("INSERT INTO big SELECT seq DIV 2, IF(seq MOD 2, 'odd', 'even'), CONCAT(MD5(seq), SHA1(seq), MD5(seq), SHA1(seq)) FROM seq_1_to_%d", bigRows))
		r, out := killAndResume(t, bin, url, "big", func() {})
		name := testDBName(url) + ".big"
		kept := keptParts(r.stderr)
		if kept[name] == 0 || !strings.Contains(r.stderr, "reading after key") {
			t.Fatalf("the re-run kept no part of big (kept %v)\n%s", kept, r.stderr)
		}
		keptRows, readRows := continuedRows(t, r.stderr, name)
		if readRows >= bigRows || keptRows+readRows != bigRows {
			t.Fatalf("big: kept %d rows and read %d, of %d", keptRows, readRows, bigRows)
		}
		sameAsFresh(t, bin, url, out)
		t.Logf("kept %d parts (%d rows) of big, read %d rows after them", kept[name], keptRows, readRows)
	})
	t.Run("changed", func(t *testing.T) {
		url, db := testenv.MySQLDatabase(t, "cliparts")
		mustExec(t, db, "CREATE TABLE chg (id INT PRIMARY KEY, v TEXT)")
		mustExec(t, db, fmt.Sprintf("INSERT INTO chg SELECT seq, CONCAT(SHA1(seq), MD5(seq), SHA1(seq), MD5(seq)) FROM seq_1_to_%d", chgRows))
		r, out := killAndResume(t, bin, url, "chg", func() {
			mustExec(t, db, fmt.Sprintf("INSERT INTO chg VALUES (%d, 'new')", chgRows+1))
		})
		if k := keptParts(r.stderr); len(k) != 0 || !strings.Contains(r.stderr, "reading the dataset again from its start") || !strings.Contains(r.stderr, "the source changed since the killed run") {
			t.Fatalf("the re-run kept parts %v of the changed table chg\n%s", k, r.stderr)
		}
		sameAsFresh(t, bin, url, out)
	})
}

// killAndResume exports url, SIGKILLs the export once the journal lists
// a part of table, runs change, and runs the same export again, which
// must succeed and leave only the bundle.
func killAndResume(t *testing.T, bin, url, table string, change func()) (exportRun, string) {
	t.Helper()
	dir := t.TempDir()
	out := filepath.Join(dir, "site.imb")
	args := []string{"export", "-o", out, "--part-size", "1", "-j", "2", "-q", "--log-level", "info", "--log-format", "json", "--source", url}
	killWhenPartsJournaled(t, bin, out, []string{table}, args...)
	change()
	r := runExport(t, bin, 0, args...)
	if r.code != 0 {
		t.Fatalf("re-run: exit %d\n%s", r.code, r.stderr)
	}
	if names := dirNames(t, dir); len(names) != 1 {
		t.Fatalf("after the re-run the directory holds %v", names)
	}
	return r, out
}

// sameAsFresh fails t unless the bundle at out has the digests and row
// counts of a fresh export of url.
func sameAsFresh(t *testing.T, bin, url, out string) {
	t.Helper()
	got := bundleSummary(t, out)
	fresh := filepath.Join(t.TempDir(), "fresh.imb")
	if r := runExport(t, bin, 0, "export", "-q", "--part-size", "1", "-o", fresh, "--source", url); r.code != 0 {
		t.Fatalf("fresh export: %s", r.stderr)
	}
	if want := bundleSummary(t, fresh); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("resumed:\n%v\nfresh export:\n%v", got, want)
	}
}

// killWhenPartsJournaled starts an export and SIGKILLs it once its
// journal lists a part of each table named, none of them finished (or
// fails t if it ends first).
func killWhenPartsJournaled(t *testing.T, bin, out string, tables []string, args ...string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	for {
		finished, parts := journalLines(out)
		all := true
		for _, tbl := range tables {
			all = all && parts[tbl] > 0
		}
		if finished > 0 {
			cmd.Process.Kill()
			<-exited
			t.Fatalf("a table finished before each had journaled a part (parts %v)", parts)
		}
		if all {
			cmd.Process.Kill()
			<-exited
			return
		}
		select {
		case <-exited:
			t.Fatalf("the export ended before its tables journaled parts\n%s", stderr.String())
		case <-time.After(time.Millisecond):
		}
	}
}

// continuedRows is what the log says of a dataset continued after kept
// parts: the rows kept and the rows read after them.
func continuedRows(t *testing.T, stderr, dataset string) (kept, read int64) {
	t.Helper()
	for _, l := range strings.Split(stderr, "\n") {
		if !strings.Contains(l, `"msg":"resume: finished a dataset continued`) {
			continue
		}
		var rec struct {
			Dataset  string
			KeptRows int64 `json:"kept_rows"`
			ReadRows int64 `json:"read_rows"`
		}
		if err := json.Unmarshal([]byte(l), &rec); err == nil && rec.Dataset == dataset {
			return rec.KeptRows, rec.ReadRows
		}
	}
	t.Fatalf("the log says nothing of continuing %s\n%s", dataset, stderr)
	return 0, 0
}
