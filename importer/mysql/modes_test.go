package mysql_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/testenv"
	"github.com/imbundle/imbundle/spec"
)

// TestModes: fail refuses a non-empty table (naming it) unless the same
// bundle is being resumed; append adds rows; replace reloads.
func TestModes(t *testing.T) {
	ctx := context.Background()
	srcURL, src := testenv.MySQLDatabase(t, "mode_src")
	exec(t, src, "CREATE TABLE k (id INT PRIMARY KEY, v VARCHAR(20))")
	exec(t, src, "CREATE TABLE nk (v VARCHAR(20))")
	exec(t, src, "INSERT INTO k VALUES (1, 'a'), (2, 'b')")
	exec(t, src, "INSERT INTO nk VALUES ('x'), ('x')")
	// An empty table, and one whose foreign key names a table that sorts
	// after it (tables are created in any order).
	exec(t, src, "CREATE TABLE a_child (id INT PRIMARY KEY, k_id INT, CONSTRAINT fk_k FOREIGN KEY (k_id) REFERENCES k (id))")
	bundleA := exportBundle(t, srcURL, exporter.Options{}, bundle.Options{})
	exec(t, src, "INSERT INTO k VALUES (3, 'c')")
	exec(t, src, "INSERT INTO nk VALUES ('y')")
	bundleB := exportBundle(t, srcURL, exporter.Options{}, bundle.Options{})

	dstURL, dst := testenv.MySQLDatabase(t, "mode_dst")
	params, state := stateParams(t, dst)
	if run := importBundle(t, ctx, bundleA, dstURL, importer.ModeFail, params, nil); run.err != nil {
		t.Fatal(run.err)
	}
	mustMatch(t, bundleA, dstURL)
	if n := count(t, dst, "SELECT COUNT(*) FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() AND CONSTRAINT_NAME = 'fk_k' AND REFERENCED_TABLE_NAME = 'k'"); n != 1 {
		t.Errorf("foreign key fk_k not recreated")
	}
	// Nothing of imbundle's is left: the target holds the bundle's tables
	// only, and the state schema only the last-applied record.
	if got := strings.Join(tablesOf(t, dst), ","); got != "a_child,k,nk" {
		t.Errorf("target tables after the import: %s, want a_child,k,nk", got)
	}
	if resumeStateLeft(t, dst, state) {
		t.Errorf("state schema %s left after a successful import", state)
	}

	// The same bundle again: a finished import left no state, so this is
	// not a resume; the non-empty tables are refused and named.
	run := importBundle(t, ctx, bundleA, dstURL, importer.ModeFail, params, nil)
	if run.err == nil || !strings.Contains(run.err.Error(), dbName(dstURL)+".k") || !strings.Contains(run.err.Error(), dbName(dstURL)+".nk") || !strings.Contains(run.err.Error(), "--mode replace") {
		t.Fatalf("re-importing a finished bundle in fail mode: %v", run.err)
	}
	if resumeStateLeft(t, dst, state) {
		t.Errorf("a refused import left resume state in %s", state)
	}
	mustMatch(t, bundleA, dstURL)

	// Another bundle into the non-empty tables: refused, both named.
	run = importBundle(t, ctx, bundleB, dstURL, importer.ModeFail, params, nil)
	if run.err == nil || !strings.Contains(run.err.Error(), dbName(dstURL)+".k") || !strings.Contains(run.err.Error(), dbName(dstURL)+".nk") {
		t.Fatalf("fail mode into non-empty tables: %v", run.err)
	}
	if n := count(t, dst, "SELECT COUNT(*) FROM k"); n != 2 {
		t.Errorf("refused import wrote: k has %d rows", n)
	}

	// Append: k's rows 1 and 2 clash with the primary key and are rejected,
	// 3 is added; nk gets all three rows more.
	run = importBundle(t, ctx, bundleB, dstURL, importer.ModeAppend, nil, nil)
	if run.err != nil {
		t.Fatal(run.err)
	}
	if n := count(t, dst, "SELECT COUNT(*) FROM k"); n != 3 {
		t.Errorf("append: k has %d rows, want 3", n)
	}
	if n := count(t, dst, "SELECT COUNT(*) FROM nk"); n != 5 {
		t.Errorf("append: nk has %d rows, want 2 + 3", n)
	}
	if len(run.rejects) != 2 {
		t.Errorf("append: %d rejects, want k's rows 1 and 2: %+v", len(run.rejects), run.rejects)
	}
	for _, rj := range run.rejects {
		if !strings.Contains(rj.Reason, "Duplicate entry") || rj.Dataset != dbName(srcURL)+".k" {
			t.Errorf("reject %+v", rj)
		}
	}

	// Replace: dropped and reloaded, equal to bundle B again.
	run = importBundle(t, ctx, bundleB, dstURL, importer.ModeReplace, nil, nil)
	if run.err != nil {
		t.Fatal(run.err)
	}
	mustMatch(t, bundleB, dstURL)
	if n := count(t, dst, "SELECT COUNT(*) FROM nk"); n != 3 {
		t.Errorf("replace: nk has %d rows, want 3", n)
	}
}

// TestRejects: values the target cannot hold (a narrower column) and
// unique-key conflicts, with both load methods, are rejected one by one
// with the server's reason; the other rows of the part are loaded.
func TestRejects(t *testing.T) {
	ctx := context.Background()
	srcURL, src := testenv.MySQLDatabase(t, "rej_src")
	exec(t, src, "CREATE TABLE people (id INT PRIMARY KEY, name VARCHAR(50))")
	exec(t, src, "INSERT INTO people VALUES (1, 'ann'), (2, 'bob'), (3, 'christopher'), (4, 'dan')")
	path := exportBundle(t, srcURL, exporter.Options{}, bundle.Options{})
	for _, method := range []string{"loaddata", "insert"} {
		t.Run(method, func(t *testing.T) {
			dstURL, dst := testenv.MySQLDatabase(t, "rej_dst")
			exec(t, dst, "CREATE TABLE people (id INT PRIMARY KEY, name VARCHAR(5))")
			exec(t, dst, "INSERT INTO people VALUES (2, 'x')")
			params, state := stateParams(t, dst, "load", method)
			run := importBundle(t, ctx, path, dstURL, importer.ModeAppend, params, nil)
			if run.err != nil {
				t.Fatal(run.err)
			}
			d := run.report.Datasets[0]
			if d.Written != 2 || d.Rejected != 2 {
				t.Errorf("written %d rejected %d, want 2 and 2", d.Written, d.Rejected)
			}
			reasons := map[string]string{}
			for _, rj := range run.rejects {
				reasons[strings.Join(rj.Key, ",")] = rj.Reason
				if rj.Values["name"] == nil {
					t.Errorf("reject without values: %+v", rj)
				}
			}
			if !strings.Contains(reasons["2"], "Duplicate entry") || !strings.Contains(reasons["3"], "Data too long") || len(reasons) != 2 {
				t.Errorf("rejects: %v", reasons)
			}
			rows, err := dst.Query("SELECT id, name FROM people ORDER BY id")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for rows.Next() {
				var id int
				var name string
				rows.Scan(&id, &name)
				got = append(got, fmt.Sprintf("%d %s", id, name))
			}
			rows.Close()
			if strings.Join(got, ";") != "1 ann;2 x;4 dan" {
				t.Errorf("target rows %q", got)
			}
			if resumeStateLeft(t, dst, state) {
				t.Errorf("state schema %s left after an import with rejects", state)
			}
		})
	}
}

// interrupting cancels the import after n parts have committed.
type interrupting struct {
	importer.Target
	n      int64
	done   atomic.Int64
	cancel context.CancelFunc
}

func (w *interrupting) LoadPart(ctx context.Context, p *importer.Plan, it *importer.Item, part int, recs importer.RecordSource) (importer.PartResult, error) {
	res, err := w.Target.LoadPart(ctx, p, it, part, recs)
	if err == nil && w.done.Add(1) >= w.n {
		w.cancel()
	}
	return res, err
}

// genTable fills a table with n generated rows.
func genTable(t testing.TB, db *sql.DB, table string, n int, withPK bool) {
	t.Helper()
	key := ""
	if withPK {
		key = ", PRIMARY KEY (id)"
	}
	exec(t, db, "CREATE TABLE "+table+" (id BIGINT NOT NULL, user_id VARCHAR(64) NOT NULL, seq BIGINT NOT NULL, content VARCHAR(1000), created DATETIME(3) NOT NULL, score DOUBLE, KEY k_user (user_id, seq), KEY k_created (created)"+key+") ENGINE=InnoDB")
	const batch = 500
	for start := 0; start < n; start += batch {
		var sb strings.Builder
		sb.WriteString("INSERT INTO " + table + " VALUES ")
		for i := start; i < start+batch && i < n; i++ {
			if i > start {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, "(%d, 'user_%05d', %d, '%s message %d ✓', '2024-01-01 00:00:00' + INTERVAL %d SECOND, %d.25)",
				i+1, i%97, i, strings.Repeat("x", i%50), i, i, i)
		}
		exec(t, db, sb.String())
	}
}

// TestResume interrupts an import after some parts and runs it again: the
// table without a primary key (where a replayed part would show as
// duplicates) ends with exactly the bundle's rows.
func TestResume(t *testing.T) {
	srcURL, src := testenv.MySQLDatabase(t, "res_src")
	genTable(t, src, "msgs", 3000, false)
	// 100 rows a batch, a part per batch: 30 parts.
	path := exportBundle(t, srcURL, exporter.Options{BatchRows: 100}, bundle.Options{PartBytes: 1})
	r, err := bundle.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	parts := len(r.Manifest().Datasets[0].Parts)
	r.Close()
	if parts != 30 {
		t.Fatalf("%d parts, want 30", parts)
	}
	dstURL, dst := testenv.MySQLDatabase(t, "res_dst")
	// Deferral forced: the indexes must come back on the resumed run.
	params, state := stateParams(t, dst, "defer-indexes", "true")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &interrupting{n: 7, cancel: cancel}
	run := importBundle(t, ctx, path, dstURL, importer.ModeFail, params, func(tg importer.Target) importer.Target { w.Target = tg; return w })
	if run.err == nil {
		t.Fatal("interrupted import reported success")
	}
	loaded := count(t, dst, "SELECT COUNT(*) FROM msgs")
	committed := count(t, dst, "SELECT COUNT(*) FROM `"+state+"`.progress WHERE db = DATABASE() AND tbl = 'msgs'")
	if got := strings.Join(tablesOf(t, dst), ","); got != "msgs" {
		t.Errorf("target tables during the import: %s, want msgs alone (the state lives in %s)", got, state)
	}
	const plainKeys = "SELECT COUNT(DISTINCT INDEX_NAME) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'msgs' AND INDEX_NAME IN ('k_user', 'k_created')"
	if n := count(t, dst, plainKeys); n != 0 {
		t.Errorf("%d secondary indexes present during the load, want them deferred", n)
	}
	if loaded != committed*100 || committed < 7 || committed >= 30 {
		t.Fatalf("after the interruption: %d rows, %d parts recorded", loaded, committed)
	}
	run = importBundle(t, context.Background(), path, dstURL, importer.ModeFail, params, nil)
	if run.err != nil {
		t.Fatal(run.err)
	}
	if resumeStateLeft(t, dst, state) {
		t.Errorf("state schema %s left after the resumed import finished", state)
	}
	d := run.report.Datasets[0]
	if int64(d.PartsResumed) != committed || d.Written != 3000-loaded {
		t.Errorf("resumed %d parts (want %d), wrote %d rows (want %d)", d.PartsResumed, committed, d.Written, 3000-loaded)
	}
	if n := count(t, dst, "SELECT COUNT(*) FROM msgs"); n != 3000 {
		t.Errorf("%d rows after resume, want 3000", n)
	}
	if n := count(t, dst, plainKeys); n != 2 {
		t.Errorf("%d of the 2 deferred indexes exist after the resumed import finished", n)
	}
	if n := count(t, dst, "SELECT COUNT(*) FROM (SELECT id FROM msgs GROUP BY id HAVING COUNT(*) > 1) d"); n != 0 {
		t.Errorf("%d ids loaded twice", n)
	}
	mustMatch(t, path, dstURL)
}

// TestMismatchDetected: verify names the primary keys of a deleted and a
// modified row on the target.
func TestMismatchDetected(t *testing.T) {
	ctx := context.Background()
	srcURL, src := testenv.MySQLDatabase(t, "mis_src")
	genTable(t, src, "msgs", 500, true)
	path := exportBundle(t, srcURL, exporter.Options{}, bundle.Options{})
	dstURL, dst := testenv.MySQLDatabase(t, "mis_dst")
	if run := importBundle(t, ctx, path, dstURL, importer.ModeFail, nil, nil); run.err != nil {
		t.Fatal(run.err)
	}
	mustMatch(t, path, dstURL)
	exec(t, dst, "DELETE FROM msgs WHERE id = 123")
	exec(t, dst, "UPDATE msgs SET score = score + 0.5 WHERE id = 321")
	res := verifyAgainst(t, path, dstURL)[dbName(srcURL)+".msgs"]
	if res.Match || res.TargetRows != 499 {
		t.Fatalf("verify after changes: match=%v target rows %d", res.Match, res.TargetRows)
	}
	var missing, changed bool
	for _, df := range res.Differences {
		if len(df.BundleKey) == 1 && df.BundleKey[0] == "123" && df.TargetKey == nil {
			missing = true
		}
		if len(df.BundleKey) == 1 && df.BundleKey[0] == "321" && len(df.TargetKey) == 1 && df.TargetKey[0] == "321" {
			changed = true
		}
	}
	if !missing || !changed {
		t.Errorf("differences %+v do not name the deleted key 123 and the changed key 321", res.Differences)
	}
}

// TestImportRefusesCorruptBundle is covered by importer.Import (parts are
// verified before Prepare); here: Accepts takes only MySQL tables.
func TestAccepts(t *testing.T) {
	url, _ := testenv.MySQLDatabase(t, "acc")
	tg, err := importer.Open(context.Background(), url, importer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	for _, c := range []struct {
		engine, kind string
		want         bool
	}{{"mysql", spec.KindTable, true}, {"mongodb", spec.KindCollection, false}, {"redis", spec.KindKeyspace, false}, {"mongodb", spec.KindTable, false}} {
		if got := tg.Accepts(&spec.Dataset{Kind: c.kind}, &spec.Source{Engine: c.engine}); got != c.want {
			t.Errorf("Accepts(%s %s) = %v", c.engine, c.kind, got)
		}
	}
}
