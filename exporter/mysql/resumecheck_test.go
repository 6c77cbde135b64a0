package mysql_test

import (
	"context"
	"strings"
	"testing"

	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/internal/testenv"
)

// resumeChecks opens url, describes it and returns each dataset's
// ResumeCheck by table name, in the export's snapshot.
func resumeChecks(t *testing.T, url string) map[string]string {
	t.Helper()
	ctx := context.Background()
	src, err := exporter.Open(ctx, url, exporter.Options{Params: map[string]string{"lock-wait": "2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	desc, err := src.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, d := range desc.Datasets {
		c, err := src.(exporter.ResumeChecker).ResumeCheck(ctx, &d.Spec)
		if err != nil {
			t.Fatal(err)
		}
		out[d.Spec.Object] = c
	}
	return out
}

// The check sees an insert and a delete in a keyed table and, without a
// primary key, an update in place too; it is equal for an unchanged table
// and never "" in an export's snapshot.
func TestResumeCheckSeesChanges(t *testing.T) {
	url, db := testenv.MySQLDatabase(t, "exprc")
	mustExec(t, db, "CREATE TABLE k (a INT, b VARCHAR(4), v TEXT, PRIMARY KEY (a, b))")
	mustExec(t, db, "INSERT INTO k VALUES (1, 'x', 'one'), (2, 'y', NULL)")
	mustExec(t, db, "CREATE TABLE n (a INT, v TEXT)")
	mustExec(t, db, "INSERT INTO n VALUES (1, NULL), (NULL, '1'), (1, NULL)")
	mustExec(t, db, "CREATE TABLE e (id INT PRIMARY KEY)")
	first := resumeChecks(t, url)
	for tbl, c := range first {
		if c == "" {
			t.Fatalf("table %s: no check in the snapshot", tbl)
		}
	}
	if again := resumeChecks(t, url); again["k"] != first["k"] || again["n"] != first["n"] || again["e"] != first["e"] {
		t.Fatalf("unchanged tables, other checks: %v then %v", first, again)
	}
	for _, change := range []struct{ table, stmt string }{
		{"k", "INSERT INTO k VALUES (3, 'a', 'three')"},
		{"k", "DELETE FROM k WHERE a = 3"},
		{"n", "UPDATE n SET v = '2' WHERE a IS NULL"},
		{"n", "INSERT INTO n VALUES (1, NULL)"}, // a duplicate row
		{"e", "INSERT INTO e VALUES (7)"},
	} {
		before := resumeChecks(t, url)[change.table]
		mustExec(t, db, change.stmt)
		after := resumeChecks(t, url)[change.table]
		if before == after {
			t.Errorf("%s: the check stayed %q", change.stmt, after)
		}
	}
	if !strings.Contains(first["n"], "crc32sum=") || !strings.Contains(first["k"], "last_key=") {
		t.Errorf("checks %v", first)
	}
}

// The check taken right after the read, of the rows the read gave
// (exporter.ReadChecker, no COUNT(*)), is the text a later run's
// ResumeCheck computes for the unchanged table, so a resumed export keeps
// it; a table without a primary key is still summed on the server.
func TestResumeCheckOfTheRowsRead(t *testing.T) {
	url, db := testenv.MySQLDatabase(t, "exprcread")
	mustExec(t, db, "CREATE TABLE k (a INT PRIMARY KEY, v TEXT)")
	mustExec(t, db, "INSERT INTO k VALUES (1, 'one'), (2, NULL), (30, 'x')")
	mustExec(t, db, "CREATE TABLE n (a INT, v TEXT)")
	mustExec(t, db, "INSERT INTO n VALUES (1, NULL), (1, NULL)")
	ctx := context.Background()
	src, err := exporter.Open(ctx, url, exporter.Options{Params: map[string]string{"lock-wait": "2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	desc, err := src.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]int64{"k": 3, "n": 2}
	for _, d := range desc.Datasets {
		want, err := src.(exporter.ResumeChecker).ResumeCheck(ctx, &d.Spec)
		if err != nil {
			t.Fatal(err)
		}
		ds := d.Spec
		ds.Rows = rows[ds.Object]
		got, err := src.(exporter.ReadChecker).ResumeCheckRead(ctx, &ds)
		if err != nil {
			t.Fatal(err)
		}
		if got != want || got == "" {
			t.Errorf("table %s: check of the rows read %q, ResumeCheck %q", ds.Object, got, want)
		}
		ds.Rows = 99 // a keyed table's count is the rows read: not counted again
		if got, _ := src.(exporter.ReadChecker).ResumeCheckRead(ctx, &ds); ds.Object == "k" && !strings.HasPrefix(got, "rows=99 ") {
			t.Errorf("table k: check %q of 99 rows read", got)
		}
	}
}
