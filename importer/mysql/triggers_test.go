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

// customerDDL is the table of the trigger tests, as an application would
// create it on the target before the import.
const customerDDL = "CREATE TABLE customer (id INT PRIMARY KEY, name VARCHAR(40), create_date DATETIME NOT NULL) ENGINE=InnoDB"

// addAppTriggers creates, as sakila does, a trigger that rewrites a
// column of every inserted row, and a second one that writes elsewhere.
func addAppTriggers(t *testing.T, db *sql.DB) {
	t.Helper()
	exec(t, db, "CREATE TABLE customer_log (id INT)")
	exec(t, db, "CREATE TRIGGER customer_create_date BEFORE INSERT ON customer FOR EACH ROW SET NEW.create_date = NOW()")
	exec(t, db, "CREATE TRIGGER customer_audit BEFORE INSERT ON customer FOR EACH ROW FOLLOWS customer_create_date INSERT INTO customer_log VALUES (NEW.id)")
}

// triggerDefs describes the triggers of db's database: name, order,
// sql_mode and statement, as SHOW CREATE TRIGGER gives them.
func triggerDefs(t *testing.T, db *sql.DB) string {
	t.Helper()
	rows, err := db.Query("SELECT TRIGGER_NAME, ACTION_ORDER FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() ORDER BY TRIGGER_NAME")
	if err != nil {
		t.Fatal(err)
	}
	type tr struct {
		name  string
		order int
	}
	var list []tr
	for rows.Next() {
		var x tr
		if err := rows.Scan(&x.name, &x.order); err != nil {
			t.Fatal(err)
		}
		list = append(list, x)
	}
	rows.Close()
	var sb strings.Builder
	for _, x := range list {
		var name, mode, stmt, cs, coll, dbColl string
		var created sql.NullString
		if err := db.QueryRow("SHOW CREATE TRIGGER `"+x.name+"`").Scan(&name, &mode, &stmt, &cs, &coll, &dbColl, &created); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&sb, "%s order %d mode %s charset %s/%s: %s\n", name, x.order, mode, cs, coll, stmt)
	}
	return sb.String()
}

// TestTargetTriggers: triggers on a target table refuse the import (named,
// nothing written); with triggers=suspend the rows arrive as the bundle
// holds them and the triggers exist afterwards, as they were. An import
// killed while they are suspended recreates them on its re-run.
func TestTargetTriggers(t *testing.T) {
	ctx := context.Background()
	srcURL, src := testenv.MySQLDatabase(t, "trg_src")
	exec(t, src, customerDDL)
	var sb strings.Builder
	for i := 1; i <= 300; i++ {
		if i > 1 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, "(%d, 'c%d', '2006-02-14 22:04:%02d')", i, i, i%60)
	}
	exec(t, src, "INSERT INTO customer VALUES "+sb.String())
	// 100 rows a part: 3 parts.
	path := exportBundle(t, srcURL, exporter.Options{BatchRows: 100, Filter: &exporter.Filter{Include: []string{"customer"}}}, bundle.Options{PartBytes: 1})

	dstURL, dst := testenv.MySQLDatabase(t, "trg_dst")
	exec(t, dst, customerDDL)
	addAppTriggers(t, dst)
	before := triggerDefs(t, dst)
	if !strings.Contains(before, "customer_audit order 2") {
		t.Fatalf("fixture triggers: %s", before)
	}

	params, state := stateParams(t, dst)
	run := importBundle(t, ctx, path, dstURL, importer.ModeFail, params, nil)
	db := dbName(dstURL)
	if run.err == nil || !strings.Contains(run.err.Error(), db+".customer.customer_create_date") || !strings.Contains(run.err.Error(), db+".customer.customer_audit") || !strings.Contains(run.err.Error(), "triggers=suspend") {
		t.Fatalf("import into a table with triggers: %v", run.err)
	}
	if n := count(t, dst, "SELECT COUNT(*) FROM customer") + count(t, dst, "SELECT COUNT(*) FROM customer_log"); n != 0 {
		t.Errorf("the refused import wrote %d rows", n)
	}
	if schemaExists(t, dst, state) {
		t.Errorf("the refused import created the state schema")
	}

	params["triggers"] = "suspend"
	if run := importBundle(t, ctx, path, dstURL, importer.ModeFail, params, nil); run.err != nil {
		t.Fatal(run.err)
	}
	mustMatch(t, path, dstURL)
	if n := count(t, dst, "SELECT COUNT(*) FROM customer_log"); n != 0 {
		t.Errorf("the suspended audit trigger fired %d times", n)
	}
	if after := triggerDefs(t, dst); after != before {
		t.Errorf("triggers after the import:\n%s\nwant\n%s", after, before)
	}
	if resumeStateLeft(t, dst, state) {
		t.Errorf("state schema %s left after the import", state)
	}

	// Killed after one part while the triggers are suspended; the re-run,
	// even without the option, recreates them from the state schema.
	exec(t, dst, "TRUNCATE customer")
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := &interrupting{n: 1, cancel: cancel}
	if run := importBundle(t, cctx, path, dstURL, importer.ModeFail, params, func(tg importer.Target) importer.Target { w.Target = tg; return w }); run.err == nil {
		t.Fatal("interrupted import reported success")
	}
	if n := count(t, dst, "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()"); n != 0 {
		t.Fatalf("%d triggers present during the interrupted load, want them suspended", n)
	}
	delete(params, "triggers")
	if run := importBundle(t, ctx, path, dstURL, importer.ModeFail, params, nil); run.err != nil {
		t.Fatal(run.err)
	}
	mustMatch(t, path, dstURL)
	if after := triggerDefs(t, dst); after != before {
		t.Errorf("triggers after the resumed import:\n%s\nwant\n%s", after, before)
	}
	if resumeStateLeft(t, dst, state) {
		t.Errorf("state schema %s left after the resumed import", state)
	}
}
