package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/internal/testenv"
)

// TestDescribeManyTables describes a database of more tables than one
// SHOW CREATE batch holds, of every shape loadTables treats apart (JSON,
// named and implicit system time, compound and no primary key), and checks
// each table against reading it alone, as verify --against does: the
// definitions read for the whole database at once are the ones read table
// by table, each DDL its own table's. And the whole database costs a fixed
// number of prepared information_schema queries, not a few a table.
func TestDescribeManyTables(t *testing.T) {
	url, db := testenv.MySQLDatabase(t, "desc")
	const n = showCreateBatch + 30
	stmts := []string{
		"CREATE TABLE j (id INT PRIMARY KEY, doc JSON, note LONGTEXT CHECK (note <> ''))",
		"CREATE TABLE v_named (id INT PRIMARY KEY, x INT, rs TIMESTAMP(6) GENERATED ALWAYS AS ROW START, re TIMESTAMP(6) GENERATED ALWAYS AS ROW END, PERIOD FOR SYSTEM_TIME(rs, re)) WITH SYSTEM VERSIONING",
		"CREATE TABLE v_implicit (id INT PRIMARY KEY, x INT) WITH SYSTEM VERSIONING",
		"CREATE TABLE compound (a INT, b VARCHAR(10), c DOUBLE, PRIMARY KEY (b, a))",
		"CREATE TABLE nokey (a INT, b TEXT)",
	}
	for i := len(stmts); i < n; i++ {
		stmts = append(stmts, fmt.Sprintf("CREATE TABLE shard_%d (id BIGINT PRIMARY KEY, uid VARCHAR(64), seq%d INT)", i, i))
	}
	execAll(t, db, stmts...)

	src := openSource(t, url)
	ctx := context.Background()
	desc, err := src.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(desc.Datasets) != n {
		t.Fatalf("%d datasets, want %d", len(desc.Datasets), n)
	}
	name := dbOf(url)
	for _, d := range desc.Datasets {
		alone, err := loadTable(ctx, src.db, name, d.Spec.Object)
		if err != nil {
			t.Fatal(err)
		}
		got := src.tables[name+"."+d.Spec.Object]
		if !got.schema.Equal(alone.schema) || strings.Join(got.pk, ",") != strings.Join(alone.pk, ",") || got.systemTime != alone.systemTime || got.rowEnd != alone.rowEnd {
			t.Errorf("%s: described as %v key %v, alone %v key %v", d.Spec.Object, got.schema, got.pk, alone.schema, alone.pk)
		}
		ddl, err := showCreate(ctx, src.db, name, d.Spec.Object)
		if err != nil {
			t.Fatal(err)
		}
		if d.Spec.DDL != ddl || !strings.HasPrefix(ddl, "CREATE TABLE `"+d.Spec.Object+"`") {
			t.Errorf("%s: DDL %.80q, alone %.80q", d.Spec.Object, d.Spec.DDL, ddl)
		}
	}
	j := src.tables[name+".j"]
	if !j.column("doc").JSON || j.column("note").JSON {
		t.Errorf("j: doc JSON %v, note JSON %v; want only doc", j.column("doc").JSON, j.column("note").JSON)
	}
	if vn := src.tables[name+".v_named"]; vn.rowEnd != "re" || vn.column("rs").SystemTime != "ROW START" || vn.column("rs").Generated != "" {
		t.Errorf("v_named: row end %q, rs %+v", vn.rowEnd, vn.column("rs"))
	}
	if vi := src.tables[name+".v_implicit"]; vi.rowEnd != "row_end" || vi.column("row_start") == nil {
		t.Errorf("v_implicit: row end %q, columns %v", vi.rowEnd, vi.schema)
	}

	var prepared int
	for _, c := range src.snap.conns {
		var k string
		var v int
		if err := c.QueryRowContext(ctx, "SHOW SESSION STATUS LIKE 'Com_stmt_prepare'").Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		prepared += v
	}
	t.Logf("%d statements prepared", prepared)
	// Columns, CHECK constraints, primary keys, system-versioned tables,
	// foreign keys and the schema objects' few lists: per database.
	if prepared > 20 {
		t.Errorf("describing %d tables prepared %d statements on the snapshot connections; want a fixed few per database", n, prepared)
	}
}

// TestShowCreatesNamesMissingTable: a table gone from a batch of SHOW
// CREATE TABLE statements fails the batch with that table's name.
func TestShowCreatesNamesMissingTable(t *testing.T) {
	url, db := testenv.MySQLDatabase(t, "desc")
	execAll(t, db, "CREATE TABLE a (id INT)", "CREATE TABLE c (id INT)")
	name := dbOf(url)
	src := openSource(t, url)
	ddl, err := showCreates(context.Background(), src.db, []tableName{{db: name, name: "a"}, {db: name, name: "c"}})
	if err != nil || len(ddl) != 2 || !strings.Contains(ddl[1], "`c`") {
		t.Fatalf("got %q, %v", ddl, err)
	}
	_, err = showCreates(context.Background(), src.db, []tableName{{db: name, name: "a"}, {db: name, name: "gone"}, {db: name, name: "c"}})
	if err == nil || !strings.Contains(err.Error(), name+".gone") {
		t.Fatalf("want an error naming %s.gone, got %v", name, err)
	}
}

func execAll(t *testing.T, db *sql.DB, qs ...string) {
	t.Helper()
	for _, q := range qs {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// TestEmptyTablesAreNotRead: Describe marks the tables without a row in
// the snapshot, rows inserted after it do not count, and a
// system-versioned table whose rows are all history is empty unless the
// export carries history. Read of a marked table returns no row.
func TestEmptyTablesAreNotRead(t *testing.T) {
	url, db := testenv.MySQLDatabase(t, "empty")
	execAll(t, db,
		"CREATE TABLE full (id INT PRIMARY KEY)", "INSERT INTO full VALUES (1)",
		"CREATE TABLE none (id INT PRIMARY KEY)",
		"CREATE TABLE later (id INT PRIMARY KEY)",
		"CREATE TABLE past (id INT PRIMARY KEY) WITH SYSTEM VERSIONING", "INSERT INTO past VALUES (1)", "DELETE FROM past",
	)
	name := dbOf(url)
	for _, history := range []string{"false", "true"} {
		src, err := exporter.Open(context.Background(), url, exporter.Options{Params: map[string]string{"lock-wait": "2", "history": history}})
		if err != nil {
			t.Fatal(err)
		}
		s := src.(*Source)
		desc, err := s.Describe(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		execAll(t, db, "INSERT INTO later VALUES (1)")
		want := map[string]bool{"full": false, "none": true, "later": true, "past": history == "false"}
		for _, d := range desc.Datasets {
			if got := s.tables[name+"."+d.Spec.Object].empty; got != want[d.Spec.Object] {
				t.Errorf("history=%s: %s empty %v, want %v", history, d.Spec.Object, got, want[d.Spec.Object])
			}
			var rows int64
			if err := s.Read(context.Background(), &d.Spec, func(rec arrow.RecordBatch) error { rows += rec.NumRows(); return nil }); err != nil {
				t.Fatal(err)
			}
			if (rows == 0) != want[d.Spec.Object] {
				t.Errorf("history=%s: %s read %d rows", history, d.Spec.Object, rows)
			}
		}
		src.Close()
		execAll(t, db, "DELETE FROM later")
	}
}
