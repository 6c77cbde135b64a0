package mysql_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	_ "github.com/imbundle/imbundle/exporter/mysql"
	_ "github.com/imbundle/imbundle/importer/mysql"
	"github.com/imbundle/imbundle/internal/enginetest"
	"github.com/imbundle/imbundle/internal/mysqltype"
	"github.com/imbundle/imbundle/internal/testenv"
)

// TestConformance runs the engine conformance suite against the machine's
// MariaDB (IMBUNDLE_TEST_MYSQL).
func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("the conformance suite builds the CLI and runs many imports")
	}
	admin(t).Close() // skip (or fail under CI) without a server
	enginetest.Run(t, enginetest.Harness{
		Name: "mysql",
		NewTarget: func(t *testing.T) string {
			name := testenv.Name("enginetest")
			t.Cleanup(func() {
				db := admin(t)
				defer db.Close()
				db.Exec("DROP DATABASE IF EXISTS " + mysqltype.QuoteIdent(name))
			})
			return "mysql://" + testenv.MySQLAddr() + "/" + name
		},
		Seed: func(t *testing.T, cli *enginetest.CLI, u string) {
			// The OpenIM world (chat_logs over several parts) and the type
			// edge tables, no_pk_dups among them: a table without a primary
			// key holding duplicate rows.
			cli.MustRun(t, "fixtures", "mysql", "--target", u, "--users", "300", "--groups", "30", "--messages", "3000", "-q")
			// no_pk_dups fits one part; this one spans several, so a part
			// replayed after a failure would show as doubled rows.
			db := admin(t)
			defer db.Close()
			tbl := mysqltype.QuoteIdent(dbName(u)) + ".enginetest_nopk"
			mustExec(t, db, "CREATE TABLE "+tbl+" (k INT NOT NULL, v VARCHAR(40), f DOUBLE, KEY (k))")
			var rows []string
			for n := 0; n < 3000; n++ {
				k := n / 2 // every row twice
				rows = append(rows, fmt.Sprintf("(%d, 'row %d', %d / 7)", k, k, k))
			}
			mustExec(t, db, "INSERT INTO "+tbl+" VALUES "+strings.Join(rows, ","))
		},
		BatchRows: 300,
		Map: func(source, target string) map[string]string {
			return map[string]string{dbName(source): dbName(target)}
		},
		Dump:    dumpMySQL,
		Exists:  func(t *testing.T, u string) bool { return schemaPresent(t, dbName(u)) },
		Residue: residueMySQL,
		AddForeign: func(t *testing.T, source, target string) {
			copyUserRow(t, source, target, "SET user_id = 'enginetest-foreign'")
		},
		Collide: func(t *testing.T, source, target string) string {
			copyUserRow(t, source, target, "SET name = 'enginetest-collide'")
			return dbName(target) + ".users"
		},
		Change: func(t *testing.T, target string) string {
			db := admin(t)
			defer db.Close()
			users := mysqltype.QuoteIdent(dbName(target)) + ".users"
			var id string
			if err := db.QueryRow("SELECT user_id FROM " + users + " ORDER BY user_id LIMIT 1").Scan(&id); err != nil {
				t.Fatal(err)
			}
			mustExec(t, db, "UPDATE "+users+" SET name = CONCAT(IFNULL(name, ''), '~') WHERE user_id = ?", id)
			return id
		},
		Refuse: func(t *testing.T, source, target string) (string, []string) {
			// A row of users already there: appending the bundle's row of
			// the same primary key is a duplicate the server refuses.
			id := copyUserRow(t, source, target, "SET name = 'enginetest-refuse'")
			return "append", []string{"users/" + fmt.Sprintf("%q", id)}
		},
		SilentURL: func(addr string) string {
			return "mysql://root@" + addr + "/enginetest_silent?timeout=1s&readTimeout=1s&writeTimeout=1s"
		},
	})
}

func dbName(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		panic(err)
	}
	return strings.TrimPrefix(u.Path, "/")
}

// admin is a connection to the server without a default database.
func admin(t *testing.T) *sql.DB {
	t.Helper()
	u, _ := url.Parse("mysql://" + testenv.MySQLAddr() + "/")
	cfg, err := mysqltype.Config(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MultiStatements = true
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(conn)
	if err := db.Ping(); err != nil {
		db.Close()
		testenv.Unavailable(t, "MariaDB at "+testenv.MySQLAddr(), err)
	}
	return db
}

func mustExec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func schemaPresent(t *testing.T, name string) bool {
	db := admin(t)
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// copyUserRow creates target.users like source.users and copies the first
// user into it, changed by set (an UPDATE's SET clause); it returns the
// user_id copied.
func copyUserRow(t *testing.T, source, target, set string) string {
	t.Helper()
	db := admin(t)
	defer db.Close()
	src, dst := mysqltype.QuoteIdent(dbName(source)), mysqltype.QuoteIdent(dbName(target))
	var id string
	if err := db.QueryRow("SELECT user_id FROM " + src + ".users ORDER BY user_id LIMIT 1").Scan(&id); err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, "CREATE DATABASE IF NOT EXISTS "+dst)
	mustExec(t, db, "CREATE TABLE IF NOT EXISTS "+dst+".users LIKE "+src+".users")
	mustExec(t, db, "INSERT INTO "+dst+".users SELECT * FROM "+src+".users WHERE user_id = ?", id)
	mustExec(t, db, "UPDATE "+dst+".users "+set+" WHERE user_id = ?", id)
	return id
}

var autoIncrement = regexp.MustCompile(` AUTO_INCREMENT=\d+`)

// dumpMySQL reads every table of the URL's database but imbundle's: one
// record for each table's DDL (without its AUTO_INCREMENT counter) and one
// per row, keyed by primary key, or for a table without one by the row's
// values and their occurrence.
func dumpMySQL(t *testing.T, u string) enginetest.State {
	t.Helper()
	name := dbName(u)
	st := enginetest.State{}
	if !schemaPresent(t, name) {
		return st
	}
	db := admin(t)
	defer db.Close()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "USE "+mysqltype.QuoteIdent(name)); err != nil {
		t.Fatal(err)
	}
	tables := queryStrings(t, conn, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' AND TABLE_NAME NOT LIKE 'imbundle%' ORDER BY TABLE_NAME", name)
	for _, table := range tables {
		var n, ddl string
		if err := conn.QueryRowContext(ctx, "SHOW CREATE TABLE "+mysqltype.QuoteIdent(table)).Scan(&n, &ddl); err != nil {
			t.Fatal(err)
		}
		st["ddl "+table] = enginetest.Record{Value: autoIncrement.ReplaceAllString(ddl, "")}
		pk := queryStrings(t, conn, "SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION", name, table)
		dumpRows(t, conn, table, pk, st)
	}
	return st
}

func dumpRows(t *testing.T, conn *sql.Conn, table string, pk []string, st enginetest.State) {
	t.Helper()
	rows, err := conn.QueryContext(context.Background(), "SELECT * FROM "+mysqltype.QuoteIdent(table))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	at := map[string]int{}
	for i, c := range cols {
		at[c] = i
	}
	vals := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	seen := map[string]int{}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for i, v := range vals {
			if i > 0 {
				b.WriteByte(',')
			}
			if v == nil {
				b.WriteString("NULL")
			} else {
				fmt.Fprintf(&b, "%q", v)
			}
		}
		row := b.String()
		var key string
		if len(pk) > 0 {
			var k []string
			for _, c := range pk {
				k = append(k, fmt.Sprintf("%q", vals[at[c]]))
			}
			key = table + "/" + strings.Join(k, ",")
		} else {
			seen[row]++
			key = fmt.Sprintf("%s/[%s]#%d", table, row, seen[row])
		}
		st[key] = enginetest.Record{Value: row}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}

func queryStrings(t *testing.T, conn *sql.Conn, q string, args ...any) []string {
	t.Helper()
	rows, err := conn.QueryContext(context.Background(), q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// residueMySQL lists imbundle's tables in the URL's database, and rows of
// the separate imbundle schema (resume state) that name the database. The
// schema itself may exist: other tests share the server.
func residueMySQL(t *testing.T, u string) []string {
	t.Helper()
	name := dbName(u)
	db := admin(t)
	defer db.Close()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var left []string
	for _, tb := range queryStrings(t, conn, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME LIKE 'imbundle%'", name) {
		left = append(left, name+"."+tb)
	}
	// The last-applied record outlives the import (SPEC.md §14.3).
	for _, tb := range queryStrings(t, conn, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'imbundle' AND TABLE_NAME <> 'applied'") {
		cols := queryStrings(t, conn, "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'imbundle' AND TABLE_NAME = ? AND DATA_TYPE IN ('char','varchar','text','tinytext','mediumtext','longtext','binary','varbinary','blob')", tb)
		if len(cols) == 0 {
			continue
		}
		var conds []string
		for _, c := range cols {
			conds = append(conds, mysqltype.QuoteIdent(c)+" LIKE CONCAT('%', ?, '%')")
		}
		args := make([]any, len(cols))
		for i := range args {
			args[i] = name
		}
		var n int
		if err := conn.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM imbundle."+mysqltype.QuoteIdent(tb)+" WHERE "+strings.Join(conds, " OR "), args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			left = append(left, fmt.Sprintf("%d row(s) of imbundle.%s naming %s", n, tb, name))
		}
	}
	return left
}
