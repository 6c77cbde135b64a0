package mysql_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/testenv"
)

func showCreate(t *testing.T, db *sql.DB, table string) string {
	t.Helper()
	var name, ddl string
	if err := db.QueryRow("SHOW CREATE TABLE `"+table+"`").Scan(&name, &ddl); err != nil {
		t.Fatal(err)
	}
	return ddl
}

func indexNames(t *testing.T, db *sql.DB, table string) map[string]bool {
	t.Helper()
	rows, err := db.Query("SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?", table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		out[n] = true
	}
	return out
}

// TestDeferredIndexes: with deferral forced (defer-indexes=true; these
// tables are small enough that auto keeps their indexes), the indexes a
// foreign key needs (the table's own, and one another table's key
// references) stay during the load, the others after them are deferred, and
// at the end SHOW CREATE TABLE of each table equals the source's, index
// order included (unique, plain, SPATIAL and FULLTEXT keys mixed), also
// after an interrupted import resumed by a run with the default (auto),
// which builds what the first run deferred.
func TestDeferredIndexes(t *testing.T) {
	srcURL, src := testenv.MySQLDatabase(t, "idx_src")
	exec(t, src, "CREATE TABLE dept (id INT PRIMARY KEY, code CHAR(4) NOT NULL, name VARCHAR(40), KEY k_name (name), KEY k_code (code), KEY k_after (name, code)) ENGINE=InnoDB")
	exec(t, src, `CREATE TABLE dept_emp (emp_no INT NOT NULL, dept_code CHAR(4) NOT NULL, from_date DATE NOT NULL, note TEXT, g POINT NOT NULL, uq INT,
		PRIMARY KEY (emp_no, dept_code), KEY k_from (from_date), FULLTEXT KEY ft (note), UNIQUE KEY u (uq), SPATIAL KEY sg (g),
		KEY k_dept (dept_code), KEY k_last (from_date, uq), FULLTEXT KEY ft2 (note),
		CONSTRAINT fk_dept FOREIGN KEY (dept_code) REFERENCES dept (code)) ENGINE=InnoDB`)
	for i := 0; i < 10; i++ {
		exec(t, src, fmt.Sprintf("INSERT INTO dept VALUES (%d, 'd%03d', 'dept %d')", i, i, i))
	}
	var sb strings.Builder
	for i := 0; i < 400; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, "(%d, 'd%03d', '2001-01-01' + INTERVAL %d DAY, 'note %d', ST_GeomFromText('POINT(%d %d)'), %d)", i, i%10, i, i, i, i%7, i)
	}
	exec(t, src, "INSERT INTO dept_emp VALUES "+sb.String())
	want := map[string]string{"dept": showCreate(t, src, "dept"), "dept_emp": showCreate(t, src, "dept_emp")}
	path := exportBundle(t, srcURL, exporter.Options{BatchRows: 50}, bundle.Options{PartBytes: 1})

	// Whole import.
	dstURL, dst := testenv.MySQLDatabase(t, "idx_dst")
	params, _ := stateParams(t, dst, "defer-indexes", "true")
	if run := importBundle(t, context.Background(), path, dstURL, importer.ModeFail, params, nil); run.err != nil {
		t.Fatal(run.err)
	}
	for table, ddl := range want {
		if got := showCreate(t, dst, table); got != ddl {
			t.Errorf("SHOW CREATE TABLE %s after the import:\n%s\nwant\n%s", table, got, ddl)
		}
	}
	mustMatch(t, path, dstURL)

	// Interrupted: the keys foreign keys need are there, and those before
	// them; the ones after them are not yet.
	dstURL, dst = testenv.MySQLDatabase(t, "idx_dst")
	params, _ = stateParams(t, dst, "defer-indexes", "true")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &interrupting{n: 2, cancel: cancel}
	if run := importBundle(t, ctx, path, dstURL, importer.ModeFail, params, func(tg importer.Target) importer.Target { w.Target = tg; return w }); run.err == nil {
		t.Fatal("interrupted import reported success")
	}
	have := indexNames(t, dst, "dept_emp")
	for _, k := range []string{"PRIMARY", "u", "k_from", "sg", "k_dept"} {
		if !have[k] {
			t.Errorf("dept_emp lacks %s during the load (have %v)", k, have)
		}
	}
	for _, k := range []string{"k_last", "ft", "ft2"} {
		if have[k] {
			t.Errorf("dept_emp has %s during the load: not deferred", k)
		}
	}
	have = indexNames(t, dst, "dept")
	if !have["k_name"] || !have["k_code"] || have["k_after"] {
		t.Errorf("dept's indexes during the load: %v, want k_name and k_code (fk_dept references code), k_after deferred", have)
	}
	delete(params, "defer-indexes")
	if run := importBundle(t, context.Background(), path, dstURL, importer.ModeFail, params, nil); run.err != nil {
		t.Fatal(run.err)
	}
	for table, ddl := range want {
		if got := showCreate(t, dst, table); got != ddl {
			t.Errorf("SHOW CREATE TABLE %s after the resumed import:\n%s\nwant\n%s", table, got, ddl)
		}
	}
	mustMatch(t, path, dstURL)
}

// TestSmallTablesKeepIndexes: by default (defer-indexes=auto) a table below
// the deferral threshold is created with every index and keeps them during
// the load; the import ends with SHOW CREATE TABLE equal to the source's.
func TestSmallTablesKeepIndexes(t *testing.T) {
	srcURL, src := testenv.MySQLDatabase(t, "keep_src")
	genTable(t, src, "msgs", 3000, false)
	want := showCreate(t, src, "msgs")
	path := exportBundle(t, srcURL, exporter.Options{BatchRows: 100}, bundle.Options{PartBytes: 1})
	dstURL, dst := testenv.MySQLDatabase(t, "keep_dst")
	params, _ := stateParams(t, dst)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &interrupting{n: 3, cancel: cancel}
	if run := importBundle(t, ctx, path, dstURL, importer.ModeFail, params, func(tg importer.Target) importer.Target { w.Target = tg; return w }); run.err == nil {
		t.Fatal("interrupted import reported success")
	}
	have := indexNames(t, dst, "msgs")
	if !have["k_user"] || !have["k_created"] {
		t.Errorf("msgs' indexes during the load: %v, want k_user and k_created in place (3,000 rows: not deferred)", have)
	}
	if run := importBundle(t, context.Background(), path, dstURL, importer.ModeFail, params, nil); run.err != nil {
		t.Fatal(run.err)
	}
	if got := showCreate(t, dst, "msgs"); got != want {
		t.Errorf("SHOW CREATE TABLE msgs after the import:\n%s\nwant\n%s", got, want)
	}
	mustMatch(t, path, dstURL)
}
