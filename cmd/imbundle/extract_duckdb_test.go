package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// duckDBVersion is the @duckdb/node-api release the test installs.
const duckDBVersion = "1.5.6-r.1"

// duckDB returns a directory holding npm's @duckdb/node-api and
// testdata/duckdb/query.mjs, installing the package on first use into
// IMBUNDLE_DUCKDB_DIR (default: the user's cache directory, so that runs
// after the first take no network). It skips without node and npm, and
// without the package unless CI=true, where it fails.
func duckDB(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed: the DuckDB reader check needs Node.js and npm", tool)
		}
	}
	dir := os.Getenv("IMBUNDLE_DUCKDB_DIR")
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			cache = os.TempDir()
		}
		dir = filepath.Join(cache, "imbundle", "duckdb-node-"+duckDBVersion)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@duckdb", "node-api", "package.json")); err != nil {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("npm", "install", "--no-audit", "--no-fund", "--prefix", dir, "@duckdb/node-api@"+duckDBVersion)
		if out, err := cmd.CombinedOutput(); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("npm install @duckdb/node-api@%s: %v\n%s", duckDBVersion, err, out)
			}
			t.Skipf("npm install @duckdb/node-api@%s: %v\n%s", duckDBVersion, err, out)
		}
	}
	// ES modules resolve packages from the script's own directory.
	if err := os.WriteFile(filepath.Join(dir, "query.mjs"), readFile(t, filepath.Join("testdata", "duckdb", "query.mjs")), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// duckDBQuery runs sql in DuckDB and returns its rows.
func duckDBQuery(t *testing.T, dir, sql string) []map[string]any {
	t.Helper()
	out, err := exec.Command("node", filepath.Join(dir, "query.mjs"), sql).Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("duckdb %s: %v\n%s", sql, err, msg)
	}
	var rows []map[string]any
	if err := json.Unmarshal(out, &rows); err != nil {
		t.Fatalf("duckdb output %s: %v", out, err)
	}
	return rows
}

// TestExtractParquetReadByDuckDB: DuckDB, an outside reader, opens
// extract's Parquet of the MariaDB edge table and finds every checked
// value with its SQL type: UBIGINT's maximum, DECIMAL(20,4), the
// 65-digit decimal as its exact text, TIMESTAMP WITH TIME ZONE in
// milliseconds, emoji text and bytes.
func TestExtractParquetReadByDuckDB(t *testing.T) {
	dir := duckDB(t)
	path := extractEdgeBundle(t)
	out := filepath.Join(t.TempDir(), "edge.parquet")
	if msg, err := runCLI(t, "-q", "extract", path, "--dataset", datasetNamed(t, path, "edge"), "-o", out); err != nil {
		t.Fatalf("extract: %v\n%s", err, msg)
	}
	rows := duckDBQuery(t, dir, `SELECT id::VARCHAR AS id, typeof(u64) AS u64_type, u64::VARCHAR AS u64, typeof(d20) AS d20_type, d20::VARCHAR AS d20,
  d65, typeof(ts) AS ts_type, epoch_ms(ts)::VARCHAR AS ts_ms, dt3::VARCHAR AS dt3, typeof(dt3) AS dt3_type, tm, s, hex(b) AS b, big::VARCHAR AS big, f::VARCHAR AS f, n::VARCHAR AS n, dt0::VARCHAR AS dt0
FROM read_parquet('`+out+`') ORDER BY id`)
	if len(rows) != 2 {
		t.Fatalf("DuckDB reads %d rows, want 2: %v", len(rows), rows)
	}
	want := []map[string]any{{
		"id": "1", "u64_type": "UBIGINT", "u64": "18446744073709551615", "d20_type": "DECIMAL(20,4)", "d20": "-1234567890123456.7890",
		"d65": edgeText[0]["d65"], "ts_type": "TIMESTAMP WITH TIME ZONE", "ts_ms": "1893456000500",
		"dt3": "2024-02-29 23:59:59.999", "dt3_type": "TIMESTAMP", "tm": "-838:59:59.000000", "s": edgeText[0]["s"], "b": "00FF",
		"big": "9007199254740993", "f": "3.40282e+38", "n": nil, "dt0": "2024-02-29 23:59:59",
	}, {
		"id": "2", "u64": "0", "d20": "0.0000", "d65": edgeText[1]["d65"], "ts_ms": nil, "dt3": "1970-01-01 00:00:00", "tm": "838:59:59.999999", "s": "", "b": "",
		"big": "-9223372036854775808", "f": "0.1", "n": "7", "dt0": "1000-01-01 00:00:00",
	}}
	for r, w := range want {
		for k, v := range w {
			if rows[r][k] != v {
				t.Errorf("DuckDB row %d %s = %#v, want %#v", r, k, rows[r][k], v)
			}
		}
	}
}
