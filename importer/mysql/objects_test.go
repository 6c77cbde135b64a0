package mysql_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	osexec "os/exec"
	"strings"
	"testing"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/fixtures"
	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/mysqltype"
	"github.com/imbundle/imbundle/internal/testenv"
	"github.com/imbundle/imbundle/spec"
)

// dbName returns the database of a mysql:// URL.

// sakilaBundle fills a fresh database with the sakila-like fixture and
// exports it.
func sakilaBundle(t *testing.T) (srcURL string, src *sql.DB, path string) {
	t.Helper()
	srcURL, src = testenv.MySQLDatabase(t, "sakila_src")
	if err := fixtures.Sakila(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	return srcURL, src, exportBundle(t, srcURL, exporter.Options{}, bundle.Options{})
}

func manifestOf(t *testing.T, path string) *spec.Manifest {
	t.Helper()
	r, err := bundle.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	return r.Manifest()
}

// listObjects reads a database's objects the way the exporter does (an
// empty sql_mode, the database current).
func listObjects(t *testing.T, db *sql.DB, name string) []spec.Object {
	t.Helper()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SET SESSION sql_mode = ''"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "USE "+mysqltype.QuoteIdent(name)); err != nil {
		t.Fatal(err)
	}
	objs, err := mysqltype.ListObjects(ctx, conn, name)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// TestSakilaObjectsRoundTrip exports the sakila-like fixture, imports it
// into a fresh database and checks that (a) every view, trigger, routine,
// event and sequence exists there with the source's definition, definer
// and session settings, (b) no trigger fired on an imported row (film_text
// holds what film's triggers wrote on the source, and the stamped dates are
// the source's), and (c) mysqldump --routines --triggers --events of both
// databases is the same text once the database name is replaced.
func TestSakilaObjectsRoundTrip(t *testing.T) {
	srcURL, src, path := sakilaBundle(t)
	m := manifestOf(t, path)

	kinds := map[string]int{}
	pos := map[string]int{}
	for i, o := range m.Objects {
		kinds[o.Kind]++
		pos[o.Name] = i
		if o.Source != "s0" || o.Namespace != dbName(srcURL) || o.Definition == "" {
			t.Errorf("object %+v: want source s0, namespace %s and a definition", o, dbName(srcURL))
		}
	}
	want := map[string]int{"view": 5, "trigger": 6, "function": 1, "procedure": 1, "event": 1, "sequence": 1}
	for k, n := range want {
		if kinds[k] != n {
			t.Errorf("%d objects of kind %s in the manifest, want %d (all: %v)", kinds[k], k, n, kinds)
		}
	}
	for _, order := range [][2]string{
		{"sales_by_film_category", "best_category"}, // view on a view
		{"inventory_in_stock", "available_inventory"},
		{"invoice_seq", "ins_film"},
		{"best_category", "ins_film"},
		{"ins_film", "purge_old_payments"},
	} {
		if pos[order[0]] >= pos[order[1]] {
			t.Errorf("manifest creates %s (at %d) after %s (at %d)", order[0], pos[order[0]], order[1], pos[order[1]])
		}
	}
	checkHistoryUncarried(t, m, map[string]historyWant{
		"history rows": {3, dbName(srcURL) + ".film_price," + dbName(srcURL) + ".store_note", "--param history=true"},
	})
	for _, n := range m.Notes {
		if strings.Contains(n, "not exported") {
			t.Errorf("manifest note %q: views, sequences and versioned tables are carried now", n)
		}
	}

	dstURL, dst := testenv.MySQLDatabase(t, "sakila_dst")
	run := importBundle(t, context.Background(), path, dstURL, importer.ModeFail, nil, nil)
	if run.err != nil {
		t.Fatal(run.err)
	}
	if len(run.rejects) > 0 {
		t.Fatalf("rejects: %+v", run.rejects)
	}
	mustMatch(t, path, dstURL)

	// (a) every object, as the exporter reads it.
	compareObjects(t, listObjects(t, src, dbName(srcURL)), listObjects(t, dst, dbName(dstURL)), dbName(srcURL), dbName(dstURL))

	// (b) no trigger fired on imported rows.
	for _, tb := range []struct{ table, order string }{
		{"film_text", "film_id"}, {"customer", "customer_id"}, {"rental", "rental_id"}, {"payment", "payment_id"}, {"invoice", "invoice_id"},
		{"store_note", "store_id"}, {"film_price", "film_id"},
	} {
		compareTables(t, src, dst, tb.table, tb.order)
	}
	if n := count(t, dst, "SELECT COUNT(*) FROM film_text WHERE title = 'AFFAIR PREJUDICE (RESTORED)'"); n != 1 {
		t.Errorf("film_text holds %d rows of the renamed film, want the 1 upd_film wrote on the source", n)
	}
	if n := count(t, dst, "SELECT COUNT(*) FROM customer WHERE create_date = '2006-02-14 22:04:36'"); n != 2 {
		t.Errorf("%d customers kept their 2006 create_date, want 2", n)
	}
	// The system time of current rows is the source's, named or implicit.
	for _, q := range []string{"SELECT film_id, valid_from, valid_to FROM film_price ORDER BY film_id", "SELECT store_id, row_start, row_end FROM store_note ORDER BY store_id"} {
		if a, b := rowsText(t, src, q), rowsText(t, dst, q); len(a) != 2 || strings.Join(a, "\n") != strings.Join(b, "\n") {
			t.Errorf("%s:\nsource %q\ntarget %q", q, a, b)
		}
	}
	// The sequence goes on where the source's would, and the versioned table is versioned.
	if n := count(t, dst, "SELECT NEXTVAL(invoice_seq)"); n != 1004 {
		t.Errorf("invoice_seq's next value on the target is %d, want 1004 (the source's next_not_cached_value)", n)
	}
	if n := count(t, dst, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ('store_note', 'film_price') AND TABLE_TYPE = 'SYSTEM VERSIONED'"); n != 2 {
		t.Errorf("%d of store_note and film_price are system-versioned on the target, want both", n)
	}
	exec(t, src, "SELECT NEXTVAL(invoice_seq)") // both sequences moved on alike

	// (c) mysqldump of both.
	a, b := mysqldump(t, dbName(srcURL), nil), mysqldump(t, dbName(dstURL), nil)
	if !strings.Contains(a, "`valid_from`") {
		t.Error("the source's mysqldump lacks film_price's system time")
	}
	for _, s := range []string{"TRIGGER ins_film", "VIEW `best_category`", "FUNCTION `inventory_in_stock`", "PROCEDURE `film_in_stock`", "EVENT `purge_old_payments`", "SETVAL(`invoice_seq`", "WITH SYSTEM VERSIONING"} {
		if !strings.Contains(a, s) {
			t.Errorf("the source's mysqldump lacks %q: the comparison would prove nothing", s)
		}
	}
	if strings.Contains(b, dbName(srcURL)) {
		t.Errorf("the target's mysqldump names the source database %s: an object still points there", dbName(srcURL))
	}
	b = strings.ReplaceAll(b, dbName(dstURL), dbName(srcURL))
	if a != b {
		t.Errorf("mysqldump of source and target differ:\n%s", lineDiff(a, b))
	}

	// The triggers work on new rows.
	exec(t, dst, "INSERT INTO film (film_id, title, language_id) VALUES (99, 'NEW FILM', 1)")
	if n := count(t, dst, "SELECT COUNT(*) FROM film_text WHERE film_id = 99"); n != 1 {
		t.Errorf("ins_film did not fire on the target: %d film_text rows of film 99", n)
	}
}

// historyWant is an uncarried history entry a test expects: its count and
// names, and a phrase of its reason.
type historyWant struct {
	count  int64
	names  string
	reason string
}

// checkHistoryUncarried checks the manifest's uncarried history entries by
// kind.
func checkHistoryUncarried(t *testing.T, m *spec.Manifest, want map[string]historyWant) {
	t.Helper()
	for _, u := range m.Uncarried {
		if !strings.HasPrefix(u.Kind, "history") {
			continue
		}
		w, ok := want[u.Kind]
		if !ok {
			t.Errorf("unexpected uncarried %+v", u)
			continue
		}
		delete(want, u.Kind)
		if u.Count != w.count || strings.Join(u.Names, ",") != w.names || !strings.Contains(u.Reason, w.reason) {
			t.Errorf("uncarried %s: %d %v %q; want %d %s and a reason saying %q", u.Kind, u.Count, u.Names, u.Reason, w.count, w.names, w.reason)
		}
	}
	for k := range want {
		t.Errorf("no uncarried %s (all: %+v)", k, m.Uncarried)
	}
}

// TestSystemVersionedHistory: --param history=true carries every row
// version of system-versioned tables, with named (film_price) or implicit
// (store_note) system time, and the import puts the history back as
// history: the target's FOR SYSTEM_TIME ALL rows and its mysqldump
// --dump-history are the source's.
func TestSystemVersionedHistory(t *testing.T) {
	srcURL, src := testenv.MySQLDatabase(t, "history_src")
	if err := fixtures.Sakila(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	path := exportBundle(t, srcURL, exporter.Options{Params: map[string]string{"history": "true"}}, bundle.Options{})
	m := manifestOf(t, path)
	checkHistoryUncarried(t, m, map[string]historyWant{})
	rows := map[string]int64{"film_price": 3, "store_note": 4} // current and history rows
	for _, ds := range m.Datasets {
		if n, ok := rows[ds.Object]; ok && (ds.Rows != n || ds.Options["history"] != "true") {
			t.Errorf("%s: %d rows, options %v; want %d (current and history), history=true", ds.Object, ds.Rows, ds.Options, n)
		}
	}
	dstURL, dst := testenv.MySQLDatabase(t, "history_dst")
	run := importBundle(t, context.Background(), path, dstURL, importer.ModeFail, nil, nil)
	if run.err != nil {
		t.Fatal(run.err)
	}
	mustMatch(t, path, dstURL)
	for table, all := range map[string]string{
		"film_price": "SELECT film_id, rental_rate, valid_from, valid_to FROM film_price FOR SYSTEM_TIME ALL ORDER BY film_id, valid_to",
		"store_note": "SELECT store_id, note, row_start, row_end FROM store_note FOR SYSTEM_TIME ALL ORDER BY store_id, row_end",
	} {
		a, b := rowsText(t, src, all), rowsText(t, dst, all)
		if int64(len(a)) != rows[table] || strings.Join(a, "\n") != strings.Join(b, "\n") {
			t.Errorf("%s, every version:\nsource %q\ntarget %q", table, a, b)
		}
		if n := count(t, dst, "SELECT COUNT(*) FROM "+table); n != 2 {
			t.Errorf("%s has %d current rows on the target, want 2 (history rows must be history)", table, n)
		}
	}
	da := mysqldump(t, dbName(srcURL), []string{"--dump-history"}, "film_price", "store_note")
	db := strings.ReplaceAll(mysqldump(t, dbName(dstURL), []string{"--dump-history"}, "film_price", "store_note"), dbName(dstURL), dbName(srcURL))
	if !strings.Contains(da, "(1,0.99,") || !strings.Contains(da, "'opened'") {
		t.Errorf("the source's mysqldump --dump-history lacks the history rows:\n%s", da)
	}
	if da != db {
		t.Errorf("mysqldump --dump-history differs:\n%s", lineDiff(da, db))
	}
}

// rowsText returns a query's rows, each as its columns' text joined by tabs.
func rowsText(t *testing.T, db *sql.DB, query string) []string {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var parts []string
		for _, v := range vals {
			parts = append(parts, fmt.Sprintf("%v:%s", v.Valid, v.String))
		}
		out = append(out, strings.Join(parts, "\t"))
	}
	return out
}

// compareObjects checks that the target's objects are the source's.
func compareObjects(t *testing.T, src, dst []spec.Object, srcDB, dstDB string) {
	t.Helper()
	if len(src) == 0 {
		t.Fatal("the source has no objects")
	}
	have := map[string]spec.Object{}
	for _, o := range dst {
		have[o.Kind+" "+o.Name] = o
	}
	for _, o := range src {
		d, ok := have[o.Kind+" "+o.Name]
		if !ok {
			t.Errorf("%s %s is missing on the target", o.Kind, o.Name)
			continue
		}
		delete(have, o.Kind+" "+o.Name)
		wantDef := mysqltype.RenameSchemas(o.Definition, map[string]string{srcDB: dstDB})
		if d.Definition != wantDef || d.Definer != o.Definer || d.Table != o.Table {
			t.Errorf("%s %s differs:\nsource (%s on %s): %s\ntarget (%s on %s): %s", o.Kind, o.Name, o.Definer, o.Table, wantDef, d.Definer, d.Table, d.Definition)
		}
		for k, v := range o.Options {
			if d.Options[k] != v {
				t.Errorf("%s %s: option %s is %q on the target, %q on the source", o.Kind, o.Name, k, d.Options[k], v)
			}
		}
	}
	for k := range have {
		t.Errorf("%s exists on the target only", k)
	}
}

// mysqldump dumps a database (or some of its tables) with its routines,
// triggers and events and any further options, the way an operator would
// compare two servers (imbundle_progress left out: it is the importer's
// bookkeeping).
func mysqldump(t *testing.T, db string, opts []string, tables ...string) string {
	t.Helper()
	bin, err := osexec.LookPath("mariadb-dump")
	if err != nil {
		if bin, err = osexec.LookPath("mysqldump"); err != nil {
			testenv.Unavailable(t, "mariadb-dump or mysqldump", err)
		}
	}
	user, hostport, _ := strings.Cut(testenv.MySQLAddr(), "@")
	host, port, _ := strings.Cut(hostport, ":")
	pass := ""
	if u, p, ok := strings.Cut(user, ":"); ok {
		user, pass = u, p
	}
	args := []string{"--user=" + user, "--host=" + host, "--port=" + port, "--protocol=tcp",
		"--routines", "--triggers", "--events", "--skip-dump-date", "--skip-comments"}
	args = append(append(args, opts...), db)
	args = append(args, tables...)
	if pass != "" {
		args = append([]string{"--password=" + pass}, args...)
	}
	cmd := osexec.Command(bin, args...)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v: %s", bin, err, stderr.String())
	}
	return out.String()
}

// lineDiff lists the lines of a and b that differ, position by position.
func lineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out []string
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			out = append(out, "- "+x, "+ "+y)
		}
		if len(out) > 40 {
			break
		}
	}
	return strings.Join(out, "\n")
}
