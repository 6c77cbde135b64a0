package mysql_test

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/exporter"
	_ "github.com/imbundle/imbundle/exporter/mysql"
	"github.com/imbundle/imbundle/importer"
	_ "github.com/imbundle/imbundle/importer/mysql"
	"github.com/imbundle/imbundle/internal/testenv"
	"github.com/imbundle/imbundle/spec"
	"github.com/imbundle/imbundle/verify"
)

// exportBundle exports url into a new bundle file and returns its path.
func exportBundle(t testing.TB, url string, opts exporter.Options, bopts bundle.Options) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "b.imb")
	exportTo(t, path, url, opts, bopts)
	return path
}

// exportTo exports url into a bundle at path.
func exportTo(t testing.TB, path, url string, opts exporter.Options, bopts bundle.Options) {
	t.Helper()
	ctx := context.Background()
	opts.Params = withLockWait(opts.Params)
	src, err := exporter.Open(ctx, url, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	os.Remove(path)
	bopts.Tool = spec.Tool{Name: "test", Version: "0"}
	w, err := bundle.Create(path, bopts)
	if err != nil {
		t.Fatal(err)
	}
	if err := exporter.Export(ctx, []exporter.Source{src}, w, 2); err != nil {
		w.Abort()
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// withLockWait keeps FLUSH TABLES WITH READ LOCK from waiting long behind
// other tests' statements on the shared server (the export then falls back
// to one snapshot connection, which is as correct).
func withLockWait(p map[string]string) map[string]string {
	out := map[string]string{"lock-wait": "2"}
	for k, v := range p {
		out[k] = v
	}
	return out
}

type importRun struct {
	report  *importer.Report
	err     error
	rejects []importer.Reject
}

// importBundle imports path into target; wrap, if set, wraps the target
// (to interrupt a run).
func importBundle(t testing.TB, ctx context.Context, path, target string, mode importer.Mode, params map[string]string, wrap func(importer.Target) importer.Target) importRun {
	t.Helper()
	r, err := bundle.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rejPath := filepath.Join(t.TempDir(), "rejects.jsonl")
	rej := importer.NewRejects(rejPath)
	opts := importer.Options{Mode: mode, Jobs: 2, Params: params, Rejects: rej}
	tg, err := importer.Open(ctx, target, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	if wrap != nil {
		tg = wrap(tg)
	}
	rep, err := importer.Import(ctx, r, tg, opts)
	if cerr := rej.Close(); cerr != nil {
		t.Fatal(cerr)
	}
	run := importRun{report: rep, err: err}
	if f, err := os.Open(rejPath); err == nil {
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<24)
		for sc.Scan() {
			var rj importer.Reject
			if err := json.Unmarshal(sc.Bytes(), &rj); err != nil {
				t.Fatal(err)
			}
			run.rejects = append(run.rejects, rj)
		}
		f.Close()
	}
	return run
}

// verifyAgainst compares the bundle with the database at url.
func verifyAgainst(t testing.TB, path, url string) map[string]verify.DatasetResult {
	t.Helper()
	ctx := context.Background()
	r, err := bundle.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	src, err := exporter.Open(ctx, url, exporter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	res, err := verify.Against(ctx, r, src, verify.AgainstOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]verify.DatasetResult{}
	for _, d := range res {
		out[d.Dataset] = d
	}
	return out
}

// mustMatch fails t unless every dataset of the bundle matches url.
func mustMatch(t testing.TB, path, url string) {
	t.Helper()
	res := verifyAgainst(t, path, url)
	if len(res) == 0 {
		t.Fatal("verify compared no dataset")
	}
	for name, d := range res {
		if d.Err != nil || !d.Match {
			t.Errorf("verify %s: match=%v err=%v bundle %d rows %s, target %d rows %s, diffs %+v", name, d.Match, d.Err, d.BundleRows, d.BundleSum, d.TargetRows, d.TargetSum, d.Differences)
		}
	}
}

func count(t testing.TB, db *sql.DB, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func exec(t testing.TB, db *sql.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// stateParams returns import params with a state schema of the test's own
// (tests share one server), dropped when the test ends if anything is left.
func stateParams(t testing.TB, db *sql.DB, more ...string) (map[string]string, string) {
	t.Helper()
	name := testenv.Name("imbundle_state")
	t.Cleanup(func() { db.Exec("DROP DATABASE IF EXISTS `" + name + "`") })
	p := map[string]string{"state-schema": name}
	for i := 0; i+1 < len(more); i += 2 {
		p[more[i]] = more[i+1]
	}
	return p, name
}

// tablesOf lists the tables of the database db is connected to.
func tablesOf(t testing.TB, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

func schemaExists(t testing.TB, db *sql.DB, name string) bool {
	return count(t, db, "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", name) > 0
}

// resumeStateLeft reports whether the state schema name holds anything
// but the last-applied record (SPEC.md §14.3), which outlives an import.
func resumeStateLeft(t testing.TB, db *sql.DB, name string) bool {
	return count(t, db, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME <> 'applied'", name) > 0
}
