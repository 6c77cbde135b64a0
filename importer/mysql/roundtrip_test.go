package mysql_test

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/fixtures"
	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/testenv"
)

// TestRoundTripEdges exports every type's edge values, imports them into
// another database by each load method, and checks the target three ways:
// verify --against (same reader, content digest), and direct SELECTs on both
// databases of each column's exact form (hex bytes, decimal text, float bits
// over the binary protocol, dates as text).
func TestRoundTripEdges(t *testing.T) {
	srcURL, src := testenv.MySQLDatabase(t, "edge_src")
	if err := fixtures.MySQLEdgeTypes(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	path := exportBundle(t, srcURL, exporter.Options{}, bundle.Options{})
	for _, method := range []string{"loaddata", "insert"} {
		t.Run(method, func(t *testing.T) {
			dstURL, dst := testenv.MySQLDatabase(t, "edge_dst")
			run := importBundle(t, context.Background(), path, dstURL, importer.ModeFail, map[string]string{"load": method}, nil)
			if run.err != nil {
				t.Fatal(run.err)
			}
			if len(run.rejects) > 0 {
				t.Fatalf("rejects: %+v", run.rejects)
			}
			for _, d := range run.report.Datasets {
				if d.Written != d.Rows || d.Rows == 0 {
					t.Errorf("%s: wrote %d of %d rows", d.Dataset, d.Written, d.Rows)
				}
			}
			mustMatch(t, path, dstURL)
			compareTables(t, src, dst, "type_edges", "id")
			compareTables(t, src, dst, "no_pk_dups", "user_id, note, n")
			if n := count(t, dst, "SELECT COUNT(*) FROM no_pk_dups WHERE user_id = 'u1'"); n != 3 {
				t.Errorf("no_pk_dups has %d rows of u1, want the 3 duplicates", n)
			}
			checkKnownValues(t, dst)
			checkNullRow(t, dst)
		})
	}
}

// columnExpr is the SELECT expression that shows a column's stored value
// exactly, by its type.
func columnExpr(name, dataType string) string {
	c := "`" + name + "`"
	switch dataType {
	case "float", "double":
		return c // compared as bits, read through the binary protocol
	case "bit":
		return "CAST(" + c + " AS UNSIGNED)"
	case "char", "varchar", "tinytext", "text", "mediumtext", "longtext", "binary", "varbinary",
		"tinyblob", "blob", "mediumblob", "longblob", "enum", "set", "json",
		"point", "geometry", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon", "geometrycollection":
		return "HEX(" + c + ")"
	}
	return "CAST(" + c + " AS CHAR)"
}

// snapshotTable returns every row of table as strings, in order, read
// through a prepared statement (the dummy argument forces the binary
// protocol, so FLOAT and DOUBLE arrive as exact bits).
func snapshotTable(t *testing.T, db *sql.DB, table, order string) [][]string {
	t.Helper()
	rows, err := db.Query("SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION", table)
	if err != nil {
		t.Fatal(err)
	}
	var exprs, types []string
	for rows.Next() {
		var n, dt string
		rows.Scan(&n, &dt)
		exprs = append(exprs, columnExpr(n, dt))
		types = append(types, dt)
	}
	rows.Close()
	rows, err = db.Query("SELECT "+strings.Join(exprs, ", ")+" FROM `"+table+"` WHERE 1 = ? ORDER BY "+order, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out [][]string
	for rows.Next() {
		vals := make([]any, len(exprs))
		ptrs := make([]any, len(exprs))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(vals))
		for i, v := range vals {
			switch x := v.(type) {
			case nil:
				row[i] = "NULL"
			case float32:
				row[i] = fmt.Sprintf("f32:%08x", math.Float32bits(x))
			case float64:
				if types[i] == "float" {
					t.Fatalf("FLOAT column %d arrived as float64", i)
				}
				row[i] = fmt.Sprintf("f64:%016x", math.Float64bits(x))
			case []byte:
				row[i] = string(x)
			default:
				row[i] = fmt.Sprint(x)
			}
		}
		out = append(out, row)
	}
	return out
}

func compareTables(t *testing.T, src, dst *sql.DB, table, order string) {
	t.Helper()
	a := snapshotTable(t, src, table, order)
	b := snapshotTable(t, dst, table, order)
	if len(a) == 0 {
		t.Fatalf("%s: source is empty", table)
	}
	if len(a) != len(b) {
		t.Fatalf("%s: %d rows on the source, %d on the target", table, len(a), len(b))
	}
	for i := range a {
		for j := range a[i] {
			if a[i][j] != b[i][j] {
				t.Errorf("%s row %d column %d: source %.80s, target %.80s", table, i, j, a[i][j], b[i][j])
			}
		}
	}
}

// checkKnownValues pins a few target values to what the fixture wrote, so
// that a source and target wrong in the same way cannot pass.
func checkKnownValues(t *testing.T, dst *sql.DB) {
	t.Helper()
	var u64, dec, d3, dt4, tm1, l1, b64, y3 string
	var f32max, f32min float32
	var f64sub float64
	err := dst.QueryRow(`SELECT
		(SELECT CAST(u64 AS CHAR) FROM type_edges WHERE id = 2),
		(SELECT CAST(dec65 AS CHAR) FROM type_edges WHERE id = 1),
		(SELECT CAST(d AS CHAR) FROM type_edges WHERE id = 3),
		(SELECT CAST(dt AS CHAR) FROM type_edges WHERE id = 4),
		(SELECT CAST(tm AS CHAR) FROM type_edges WHERE id = 1),
		(SELECT HEX(l1) FROM type_edges WHERE id = 3),
		(SELECT CAST(b64 AS UNSIGNED) FROM type_edges WHERE id = 2),
		(SELECT CAST(y AS CHAR) FROM type_edges WHERE id = 3)
		FROM DUAL WHERE 1 = ?`, 1).Scan(&u64, &dec, &d3, &dt4, &tm1, &l1, &b64, &y3)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ got, want string }{
		{u64, "18446744073709551615"},
		{dec, "-99999999999999999999999999999999999.999999999999999999999999999999"},
		{d3, "0000-00-00"},
		{dt4, "2024-02-00 10:20:30.123456"},
		{tm1, "-838:59:59.000000"},
		{l1, "E9FF80818D8F909D"},
		{b64, "18446744073709551615"},
		{y3, "0000"},
	}
	for i, w := range want {
		if w.got != w.want {
			t.Errorf("known value %d: got %q, want %q", i, w.got, w.want)
		}
	}
	err = dst.QueryRow(`SELECT (SELECT f32 FROM type_edges WHERE id = 2), (SELECT f32 FROM type_edges WHERE id = 4), (SELECT f64 FROM type_edges WHERE id = 3) FROM DUAL WHERE 1 = ?`, 1).Scan(&f32max, &f32min, &f64sub)
	if err != nil {
		t.Fatal(err)
	}
	if f32max != math.MaxFloat32 || f32min != float32(1.17549435e-38) || f64sub != math.SmallestNonzeroFloat64 {
		t.Errorf("floats: %g %g %g", f32max, f32min, f64sub)
	}
	// The server reports a FLOAT -0 as +0; its sign shows in ATAN2.
	if n := count(t, dst, "SELECT COUNT(*) FROM type_edges WHERE id = 6 AND f32 = 0 AND ATAN2(f32, -1) < 0"); n != 1 {
		t.Errorf("FLOAT -0 of row 6 arrived as +0")
	}
}

// checkNullRow checks that row 7 is NULL in every nullable column.
func checkNullRow(t *testing.T, dst *sql.DB) {
	t.Helper()
	rows, err := dst.Query("SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'type_edges' AND IS_NULLABLE = 'YES'")
	if err != nil {
		t.Fatal(err)
	}
	var conds []string
	for rows.Next() {
		var c string
		rows.Scan(&c)
		conds = append(conds, "`"+c+"` IS NULL")
	}
	rows.Close()
	if len(conds) < 30 {
		t.Fatalf("only %d nullable columns", len(conds))
	}
	if n := count(t, dst, "SELECT COUNT(*) FROM type_edges WHERE id = 7 AND "+strings.Join(conds, " AND ")); n != 1 {
		t.Errorf("row 7 is not NULL in all %d nullable columns", len(conds))
	}
}

// TestRoundTripTypedStrings covers MariaDB's UUID/INET4/INET6 (loaded as
// text: a binary string would be read as their 16- or 4-byte form) and
// spatial columns (exported as the stored bytes), by both load methods.
func TestRoundTripTypedStrings(t *testing.T) {
	srcURL, src := testenv.MySQLDatabase(t, "ts_src")
	if _, err := src.Exec("CREATE TABLE odd (id INT PRIMARY KEY, u UUID, i4 INET4, i6 INET6, p POINT, g GEOMETRY)"); err != nil {
		t.Skipf("server lacks UUID/INET4/INET6 (MariaDB 10.10+): %v", err)
	}
	exec(t, src, `INSERT INTO odd VALUES
		(1, '123e4567-e89b-12d3-a456-426614174000', '10.0.0.255', '2001:db8::ff00:42:8329', ST_GeomFromText('POINT(1.5 -2)'), ST_GeomFromText('POLYGON((0 0,1 0,1 1,0 0))', 4326)),
		(2, NULL, NULL, '::ffff:1.2.3.4', NULL, NULL)`)
	path := exportBundle(t, srcURL, exporter.Options{}, bundle.Options{})
	for _, method := range []string{"loaddata", "insert"} {
		t.Run(method, func(t *testing.T) {
			dstURL, dst := testenv.MySQLDatabase(t, "ts_dst")
			run := importBundle(t, context.Background(), path, dstURL, importer.ModeFail, map[string]string{"load": method}, nil)
			if run.err != nil || len(run.rejects) > 0 {
				t.Fatalf("import: %v, rejects %+v", run.err, run.rejects)
			}
			mustMatch(t, path, dstURL)
			compareTables(t, src, dst, "odd", "id")
			var u, p string
			if err := dst.QueryRow("SELECT CAST(u AS CHAR), ST_AsText(p) FROM odd WHERE id = 1").Scan(&u, &p); err != nil {
				t.Fatal(err)
			}
			if u != "123e4567-e89b-12d3-a456-426614174000" || p != "POINT(1.5 -2)" {
				t.Errorf("uuid %q point %q", u, p)
			}
		})
	}
}
