package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/imbundle/imbundle/internal/testenv"
)

// extractEdgeBundle exports a MariaDB table of edge values (the
// TestMySQLThroughMongoIntoExistingTables edge table, plus unsigned
// BIGINT's maximum and decimals of 20 and 65 digits) and returns the
// bundle's path.
func extractEdgeBundle(t *testing.T) string {
	t.Helper()
	srcURL, src := testenv.MySQLDatabase(t, "k_extract")
	for _, q := range []string{
		"SET time_zone = '+00:00'",
		`CREATE TABLE edge (
  id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
  i8 TINYINT, u64 BIGINT UNSIGNED, big BIGINT, f FLOAT, d DOUBLE,
  dt3 DATETIME(3), dt6 DATETIME(6), dte DATE, ts TIMESTAMP(3) NULL, tm TIME(6), y YEAR,
  s VARCHAR(40) CHARACTER SET utf8mb4, l1 VARCHAR(20) CHARACTER SET latin1, b VARBINARY(16), j JSON,
  n INT NULL, nn VARCHAR(8) NOT NULL DEFAULT '',
  d20 DECIMAL(20,4), d65 DECIMAL(65,30), dt0 DATETIME
) ENGINE=InnoDB`,
		"CREATE TABLE empty (id INT PRIMARY KEY, v DECIMAL(50,2))",
		`INSERT INTO edge VALUES
 (1, -128, 18446744073709551615, 9007199254740993, 3.40282e38, -2.2250738585072014e-308,
  '2024-02-29 23:59:59.999', '2024-01-01 00:00:00.123000', '1000-01-01', '2030-01-01 00:00:00.500', '-838:59:59.000000', 2155,
  'emoji 😀 ok, "q"', x'e9e8', x'00ff', '{"a": [1, 2.5, "x"]}', NULL, 'x',
  -1234567890123456.7890, 12345678901234567890123456789012345.123456789012345678901234567890, '2024-02-29 23:59:59'),
 (2, 0, 0, -9223372036854775808, 0.1, 1e-320,
  '1970-01-01 00:00:00', '2038-01-19 03:14:07', '9999-12-31', NULL, '838:59:59.999999', 1901,
  '', '', x'', 'null', 7, '',
  0, -0.000000000000000000000000000001, '1000-01-01 00:00:00')`,
	} {
		if _, err := src.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	path := filepath.Join(t.TempDir(), "edge.imb")
	if out, err := runCLI(t, "-q", "export", "--source", srcURL, "-o", path, "--param", "lock-wait=2"); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	return path
}

// edgeText is every edge row's value as extract spells it (SPEC.md
// Appendix A), by column; "" with null true is NULL.
var edgeText = []map[string]string{{
	"id": "1", "i8": "-128", "u64": "18446744073709551615", "big": "9007199254740993",
	"f": "3.40282e+38", "d": "-2.2250738585072014e-308",
	"dt3": "2024-02-29T23:59:59.999", "dt6": "2024-01-01T00:00:00.123000", "dte": "1000-01-01",
	"ts": "2030-01-01T00:00:00.500Z", "tm": "-838:59:59.000000", "y": "2155",
	"s": `emoji 😀 ok, "q"`, "l1": "6eg=", "b": "AP8=", "j": `{"a": [1, 2.5, "x"]}`, "nn": "x",
	"d20": "-1234567890123456.7890", "d65": "12345678901234567890123456789012345.123456789012345678901234567890",
	"dt0": "2024-02-29T23:59:59",
}, {
	"id": "2", "i8": "0", "u64": "0", "big": "-9223372036854775808",
	"f": "0.1", "d": "1e-320",
	"dt3": "1970-01-01T00:00:00.000", "dt6": "2038-01-19T03:14:07.000000", "dte": "9999-12-31",
	"tm": "838:59:59.999999", "y": "1901",
	"s": "", "l1": "", "b": "", "j": "null", "n": "7", "nn": "",
	"d20": "0.0000", "d65": "-0.000000000000000000000000000001", "dt0": "1000-01-01T00:00:00",
}}

// edgeNull are the NULL cells of the edge rows.
var edgeNull = []map[string]bool{{"n": true}, {"ts": true}}

func TestExtractMySQLEdgeValues(t *testing.T) {
	path := extractEdgeBundle(t)
	dir := t.TempDir()
	const ds = "k_extract_edge"
	name := datasetNamed(t, path, "edge")
	_ = ds

	t.Run("jsonl", func(t *testing.T) {
		out := filepath.Join(dir, "edge.jsonl")
		if msg, err := runCLI(t, "extract", path, "--dataset", name, "-o", out); err != nil {
			t.Fatalf("extract: %v\n%s", err, msg)
		}
		raw := readFile(t, out)
		lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
		if len(lines) != 2 {
			t.Fatalf("%d lines, want 2:\n%s", len(lines), raw)
		}
		numbers := map[string]bool{"id": true, "i8": true, "u64": true, "big": true, "f": true, "d": true, "y": true, "n": true}
		for r, line := range lines {
			dec := json.NewDecoder(strings.NewReader(line))
			dec.UseNumber()
			var row map[string]any
			if err := dec.Decode(&row); err != nil {
				t.Fatalf("line %d: %v\n%s", r, err, line)
			}
			for col, want := range edgeText[r] {
				got := row[col]
				if numbers[col] {
					if n, ok := got.(json.Number); !ok || string(n) != want {
						t.Errorf("row %d %s = %#v, want the number %s", r, col, got, want)
					}
				} else if got != want {
					t.Errorf("row %d %s = %#v, want the string %q", r, col, got, want)
				}
			}
			for col := range edgeNull[r] {
				if v, ok := row[col]; !ok || v != nil {
					t.Errorf("row %d %s = %#v, want null", r, col, v)
				}
			}
		}
	})

	t.Run("csv", func(t *testing.T) {
		out := filepath.Join(dir, "edge.csv")
		if msg, err := runCLI(t, "extract", path, "--dataset", name, "--null", `\N`, "-o", out); err != nil {
			t.Fatalf("extract: %v\n%s", err, msg)
		}
		recs, err := csv.NewReader(bytes.NewReader(readFile(t, out))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 3 {
			t.Fatalf("%d records, want a header and 2", len(recs))
		}
		for r, rec := range recs[1:] {
			for c, col := range recs[0] {
				want, ok := edgeText[r][col]
				if edgeNull[r][col] {
					want, ok = `\N`, true
				}
				if ok && rec[c] != want {
					t.Errorf("row %d %s = %q, want %q", r, col, rec[c], want)
				}
			}
		}
		// Without --null, NULL is an empty field and the empty string "".
		msg, err := runCLI(t, "-q", "extract", path, "--dataset", name, "-o", "-", "--format", "csv")
		if err != nil {
			t.Fatalf("extract: %v\n%s", err, msg)
		}
		second := strings.Split(msg, "\r\n")[2]
		if !strings.Contains(second, `,"","","",null,7,"",`) || !strings.Contains(second, `,2038-01-19T03:14:07.000000,`) {
			t.Errorf("row 2 without --null: %s", second)
		}
		if !strings.Contains(second, `1970-01-01T00:00:00.000,`) || !strings.Contains(second, `,,838:59:59.999999,`) {
			t.Errorf("row 2 without --null (ts NULL as an empty field): %s", second)
		}
	})

	t.Run("parquet", func(t *testing.T) {
		out := filepath.Join(dir, "edge.parquet")
		if msg, err := runCLI(t, "extract", path, "--dataset", name, "-o", out); err != nil {
			t.Fatalf("extract: %v\n%s", err, msg)
		}
		tbl := readParquet(t, out)
		defer tbl.Release()
		if tbl.NumRows() != 2 {
			t.Fatalf("%d rows, want 2", tbl.NumRows())
		}
		col := func(name string) arrow.Array {
			idx := tbl.Schema().FieldIndices(name)
			if len(idx) != 1 {
				t.Fatalf("no column %s in %s", name, tbl.Schema())
			}
			return tbl.Column(idx[0]).Data().Chunk(0)
		}
		if u := col("u64").(*array.Uint64); u.Value(0) != 18446744073709551615 || u.Value(1) != 0 {
			t.Errorf("u64 = %v", u)
		}
		if d := col("d20").(*array.Decimal128); d.Value(0).ToString(4) != "-1234567890123456.7890" || d.DataType().String() != "decimal(20, 4)" {
			t.Errorf("d20 = %s %v", d.DataType(), d)
		}
		if d := col("d65").(*array.LargeString); d.Value(0) != edgeText[0]["d65"] || d.Value(1) != edgeText[1]["d65"] {
			t.Errorf("d65 = %v", d)
		}
		if tm := col("tm").(*array.LargeString); tm.Value(0) != "-838:59:59.000000" {
			t.Errorf("tm = %v", tm)
		}
		ts := col("ts").(*array.Timestamp)
		if tt := ts.DataType().(*arrow.TimestampType); tt.Unit != arrow.Millisecond || tt.TimeZone == "" || ts.Value(0) != 1893456000500 || !ts.IsNull(1) {
			t.Errorf("ts = %s %v", ts.DataType(), ts)
		}
		if dt := col("dt6").(*array.Timestamp); dt.DataType().(*arrow.TimestampType).Unit != arrow.Microsecond || dt.Value(0) != 1704067200123000 {
			t.Errorf("dt6 = %s %v", dt.DataType(), dt)
		}
		// DATETIME(0) is timestamp[s], which Parquet holds in milliseconds.
		if dt := col("dt0").(*array.Timestamp); dt.DataType().(*arrow.TimestampType).Unit != arrow.Millisecond || dt.Value(0) != 1709251199000 || dt.Value(1) != -30610224000000 {
			t.Errorf("dt0 = %s %v", dt.DataType(), dt)
		}
		if f := col("f").(*array.Float32); f.Value(0) != 3.40282e38 || f.Value(1) != 0.1 {
			t.Errorf("f = %v", f)
		}
		if b := col("b").(*array.LargeBinary); !bytes.Equal(b.Value(0), []byte{0, 0xff}) || len(b.Value(1)) != 0 || b.IsNull(1) {
			t.Errorf("b = %v", b)
		}
		if s := col("s").(*array.LargeString); s.Value(0) != edgeText[0]["s"] {
			t.Errorf("s = %v", s)
		}
	})
}

// TestExtractEmptyTable: a table without rows (a dataset without parts)
// is an empty JSON lines file, a CSV header, and a Parquet file of no rows
// with the manifest's column types (the decimal256 as text, as always).
func TestExtractEmptyTable(t *testing.T) {
	path := extractEdgeBundle(t)
	name := datasetNamed(t, path, "empty")
	dir := t.TempDir()
	for format, want := range map[string]string{"jsonl": "", "csv": "id,v\r\n"} {
		out := filepath.Join(dir, "empty."+format)
		if msg, err := runCLI(t, "-q", "extract", path, "--dataset", name, "-o", out); err != nil {
			t.Fatalf("%s: %v\n%s", format, err, msg)
		}
		if got := string(readFile(t, out)); got != want {
			t.Errorf("%s: %q, want %q", format, got, want)
		}
	}
	// Parquet: the manifest's column types, no rows.
	out := filepath.Join(dir, "empty.parquet")
	if msg, err := runCLI(t, "-q", "extract", path, "--dataset", name, "-o", out); err != nil {
		t.Fatalf("parquet: %v\n%s", err, msg)
	}
	tbl := readParquet(t, out)
	defer tbl.Release()
	if f := tbl.Schema().Fields(); tbl.NumRows() != 0 || len(f) != 2 || f[0].Type.ID() != arrow.INT32 || f[1].Type.ID() != arrow.LARGE_STRING {
		t.Errorf("parquet of an empty table: %d rows, schema %s", tbl.NumRows(), tbl.Schema())
	}
}

// datasetNamed is the name of the bundle's dataset of a table.
func datasetNamed(t *testing.T, path, table string) string {
	t.Helper()
	r, err := openBundle(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, d := range r.Manifest().Datasets {
		if d.Name == table || strings.HasSuffix(d.Name, "."+table) {
			return d.Name
		}
	}
	t.Fatalf("no dataset for %s", table)
	return ""
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readParquet reads a Parquet file with arrow-go's reader.
func readParquet(t *testing.T, path string) arrow.Table {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	pf, err := file.NewParquetReader(f)
	if err != nil {
		t.Fatal(err)
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}
