package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/imbundle/imbundle/internal/enginetest"
	"github.com/imbundle/imbundle/internal/testenv"
)

// Redis databases of the tables-in-Redis tests (SPEC.md §11.7, §11.8).
const rcTables, rcCollections = 2, 3

// edgeTables is a MySQL schema of edge values: every type, a zero date, a
// composite key with ':' and '\' in a key part, a table without a key
// with duplicate rows.
var edgeTables = []string{
	"SET SESSION sql_mode = ''",
	`CREATE TABLE edge (
  id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
  i8 TINYINT, u64 BIGINT UNSIGNED, big BIGINT, f FLOAT, d DOUBLE,
  dt3 DATETIME(3), dt6 DATETIME(6), dte DATE, zd DATE, ts TIMESTAMP(3) NULL, tm TIME(6), y YEAR, bt BIT(12),
  s VARCHAR(40) CHARACTER SET utf8mb4, l1 VARCHAR(20) CHARACTER SET latin1, b VARBINARY(16), j JSON,
  dec65 DECIMAL(65,30), n INT NULL, nn VARCHAR(8) NOT NULL DEFAULT '',
  KEY k_s (s)
) ENGINE=InnoDB`,
	`INSERT INTO edge VALUES
 (18446744073709551615, -128, 18446744073709551615, 9007199254740993, 3.40282e38, -2.2250738585072014e-308,
  '2024-02-29 23:59:59.999', '2024-01-01 00:00:00.123456', '1000-01-01', '0000-00-00', '2030-01-01 00:00:00.500', '-838:59:59.000000', 2155, b'101010101010',
  'emoji 😀 ok', x'e9e8', x'00ff', '{"a": [1, 2.5, "x"]}', '-12345678901234567890123456789012345.123456789012345678901234567890', NULL, 'x'),
 (2, 0, 0, -9223372036854775808, 0.1, 1e-320,
  '1970-01-01 00:00:00', '2038-01-19 03:14:07', '9999-12-31', '2024-00-10', NULL, '838:59:59.999999', 1901, 0,
  '', '', x'', 'null', 0, 7, '')`,
	"CREATE TABLE pair (a VARCHAR(8) NOT NULL, b VARCHAR(8) NOT NULL, v INT, PRIMARY KEY (a, b))",
	`INSERT INTO pair VALUES ('x:y', 'z', 10), ('x', 'y:z', 11), ('a\\', ':b', 12)`,
	"CREATE TABLE nopk (v INT, w VARCHAR(4))",
	"INSERT INTO nopk VALUES (1, 'a'), (1, 'a'), (NULL, 'b')",
}

func TestMySQLTablesThroughRedis(t *testing.T) {
	ctx := context.Background()
	rdb := testenv.Redis(t, rcTables)
	rdb.FlushDB(ctx)
	t.Cleanup(func() { rdb.FlushDB(context.Background()) })
	// vacant has no rows: its schema key alone brings it back.
	_, mysqlBundle := exportedMySQL(t, "h_t2r", append(slices.Clone(edgeTables), "CREATE TABLE vacant (id INT PRIMARY KEY, v VARCHAR(4)) DEFAULT CHARSET=latin1"))
	redisURL := "redis://" + testenv.RedisAddr()
	dbMap := fmt.Sprintf("0:%d", rcTables)

	if out, err := runCLI(t, "-q", "import", mysqlBundle, "--target", redisURL, "--db-map", dbMap); err != nil {
		t.Fatalf("import into Redis: %v\n%s", err, out)
	}
	if v, err := rdb.HGetAll(ctx, `pair:a\\:\:b`).Result(); err != nil || v["a"] != `a\` || v["b"] != ":b" || v["v"] != "12" {
		t.Errorf(`hash pair:a\\:\:b = %v (%v)`, v, err)
	}
	if v, err := rdb.HGetAll(ctx, "edge:2").Result(); err != nil || v["zd"] != "2024-00-10" || v["f"] != "0.1" || v["j"] != "null" {
		t.Errorf("hash edge:2 = %v (%v)", v, err)
	}
	if v := rdb.HGetAll(ctx, "edge:18446744073709551615").Val(); v["n"] != "" || len(v) != 20 || v["zd"] != "0000-00-00" || v["tm"] != "-838:59:59.000000" {
		t.Errorf("hash edge:18446744073709551615 = %q: want 20 fields, none for the NULL column n", v)
	}
	if n, err := rdb.Exists(ctx, "nopk:0", "nopk:1", "nopk:2", "imbundle:table:edge", "imbundle:table:vacant").Result(); err != nil || n != 5 {
		t.Errorf("nopk rows and the schema keys: %d of 5 exist (%v)", n, err)
	}
	if out, err := runCLI(t, "verify", mysqlBundle, "--against", redisURL, "--db-map", dbMap); err != nil {
		t.Fatalf("verify the MySQL bundle against Redis: %v\n%s", err, out)
	}

	t.Run("changed field", func(t *testing.T) {
		rdb.HSet(ctx, "pair:x:y\\:z", "v", "99")
		defer rdb.HSet(ctx, "pair:x:y\\:z", "v", "11")
		out, err := runCLI(t, "verify", mysqlBundle, "--against", redisURL, "--db-map", dbMap)
		if exitCodeOf(err) != exitMismatch || !strings.Contains(out, `"pair:x:y\\:z"`) {
			t.Fatalf("verify after a changed field: exit %d (%v), want %d naming the key\n%s", exitCodeOf(err), err, exitMismatch, out)
		}
	})

	// Back: the Redis database as a bundle, into a MySQL database with no
	// tables; the original bundle then matches it.
	redisBundle := filepath.Join(t.TempDir(), "redis.imb")
	if out, err := runCLI(t, "-q", "export", "--source", redisURL, "--db", fmt.Sprint(rcTables), "-o", redisBundle); err != nil {
		t.Fatalf("export Redis: %v\n%s", err, out)
	}
	want := fmt.Sprintf("redis.db%d holds the tables and collections of schema keys: imbundle:table:edge, imbundle:table:nopk, imbundle:table:pair, imbundle:table:vacant", rcTables)
	if out, err := runCLI(t, "inspect", redisBundle); err != nil || !strings.Contains(out, want) {
		t.Errorf("inspect the Redis bundle: %v\n%s", err, out)
	}
	backURL, backDB := testenv.MySQLDatabase(t, "h_t2r_back")
	if out, err := runCLI(t, "plan", redisBundle, "--target", backURL); err != nil || !strings.Contains(out, "redis-hashes to mysql-table v1") || !strings.Contains(out, fmt.Sprintf("redis.db%d/pair", rcTables)) {
		t.Fatalf("plan into MySQL: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "-q", "import", redisBundle, "--target", backURL); err != nil {
		t.Fatalf("import the Redis bundle into MySQL: %v\n%s", err, out)
	}
	var tables string
	if err := backDB.QueryRow("SELECT GROUP_CONCAT(TABLE_NAME ORDER BY TABLE_NAME) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()").Scan(&tables); err != nil || tables != "edge,nopk,pair,vacant" {
		t.Errorf("tables back: %q (%v), want edge,nopk,pair,vacant and nothing else (no empty stream state)", tables, err)
	}
	if out, err := runCLI(t, "verify", redisBundle, "--against", backURL); err != nil {
		t.Fatalf("verify the Redis bundle against MySQL: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "verify", mysqlBundle, "--against", backURL); err != nil {
		t.Fatalf("MySQL -> Redis -> MySQL is not the database it was: %v\n%s", err, out)
	}
}

// TestTablesInRedisRejects: a row of NULLs only has no hash; on the way
// back a key of no listed table, a field's text that does not parse, a
// field of no column and a missing NOT NULL column are rejects naming the
// key and field, and a schema key that does not describe a table refuses
// the import before anything is written. --mode replace and a second
// --mode fail import keep every table's keys.
func TestTablesInRedisRejects(t *testing.T) {
	ctx := context.Background()
	rdb := testenv.Redis(t, rcTables)
	rdb.FlushDB(ctx)
	t.Cleanup(func() { rdb.FlushDB(context.Background()) })
	_, mysqlBundle := exportedMySQL(t, "h_t2r_rj", []string{
		"CREATE TABLE t (id INT NOT NULL PRIMARY KEY, i8 TINYINT, nn VARCHAR(4) NOT NULL)",
		"INSERT INTO t VALUES (1, 1, 'a'), (2, 2, 'b'), (3, 3, 'c'), (4, 4, 'd'), (5, 5, 'e')",
		"CREATE TABLE opt (a INT, b INT)",
		"INSERT INTO opt VALUES (1, NULL), (NULL, NULL)",
	})
	redisURL := "redis://" + testenv.RedisAddr()
	dbMap := fmt.Sprintf("0:%d", rcTables)
	dir := t.TempDir()
	rejects := filepath.Join(dir, "to-redis.jsonl")
	out, err := runCLI(t, "-q", "import", mysqlBundle, "--target", redisURL, "--db-map", dbMap, "--rejects", rejects)
	if exitCodeOf(err) != exitRejects {
		t.Fatalf("import into Redis: exit %d (%v), want %d\n%s", exitCodeOf(err), err, exitRejects, out)
	}
	if r := rejectReasons(t, rejects); len(r) != 1 || !strings.Contains(r[0], "conversion mysql-table to redis-hashes v1: every column is NULL") {
		t.Errorf("rejects %q, want the row of NULLs", r)
	}
	out, err = runCLI(t, "verify", mysqlBundle, "--against", redisURL, "--db-map", dbMap)
	if err != nil || !strings.Contains(out, "1 refused by the conversion") {
		t.Fatalf("verify against Redis: %v\n%s", err, out)
	}
	for _, mode := range []string{"replace", "fail"} {
		out, err := runCLI(t, "import", mysqlBundle, "--target", redisURL, "--db-map", dbMap, "--mode", mode, "--rejects", filepath.Join(dir, mode+".jsonl"))
		if mode == "replace" && exitCodeOf(err) != exitRejects || mode == "fail" && !strings.Contains(out, "already imported") {
			t.Fatalf("import again, --mode %s: exit %d (%v)\n%s", mode, exitCodeOf(err), err, out)
		}
	}
	if n, err := rdb.Exists(ctx, "t:1", "t:5", "opt:0", "imbundle:table:t", "imbundle:table:opt").Result(); err != nil || n != 5 {
		t.Fatalf("after --mode replace: %d of the 5 keys (%v)", n, err)
	}

	// Edits only Redis allows.
	rdb.Set(ctx, "stray", "x", 0)
	rdb.HSet(ctx, "t:2", "i8", "two")
	rdb.HSet(ctx, "t:3", "extra", "1")
	rdb.HDel(ctx, "t:4", "nn")
	redisBundle := filepath.Join(dir, "redis.imb")
	if out, err := runCLI(t, "-q", "export", "--source", redisURL, "--db", fmt.Sprint(rcTables), "-o", redisBundle); err != nil {
		t.Fatalf("export Redis: %v\n%s", err, out)
	}
	backURL, back := testenv.MySQLDatabase(t, "h_t2r_rjb")
	rejects = filepath.Join(dir, "to-mysql.jsonl")
	out, err = runCLI(t, "-q", "import", redisBundle, "--target", backURL, "--rejects", rejects)
	if exitCodeOf(err) != exitRejects {
		t.Fatalf("import into MySQL: exit %d (%v), want %d\n%s", exitCodeOf(err), err, exitRejects, out)
	}
	reasons := rejectReasons(t, rejects)
	sort.Strings(reasons)
	want := []string{
		`hash "t:2": field i8: cannot read tinyint(4) value "two"`,
		`hash "t:3": field "extra" is no column of table t`,
		`hash "t:4": no field nn, and column nn is NOT NULL`,
		`key "stray" belongs to no table the keyspace lists`,
	}
	if len(reasons) != len(want) {
		t.Fatalf("rejects %q, want %d", reasons, len(want))
	}
	for i, w := range want {
		if !strings.Contains(reasons[i], "conversion redis-hashes to mysql-table v1: ") || !strings.Contains(reasons[i], w) {
			t.Errorf("reject %q, want it to say %q", reasons[i], w)
		}
	}
	var n int
	if err := back.QueryRow("SELECT COUNT(*) FROM t").Scan(&n); err != nil || n != 2 {
		t.Errorf("table t holds %d rows (%v), want the 2 unchanged", n, err)
	}

	// A schema key that describes no table: refused, nothing written.
	rdb.Set(ctx, "imbundle:table:t", `{"format":"imbundle-description-v1","kind":"table","name":"x","object":"t","columns":[{"name":"c","type":"list<item: int32>","nullable":true}]}`, 0)
	if out, err := runCLI(t, "-q", "export", "--source", redisURL, "--db", fmt.Sprint(rcTables), "-o", redisBundle+"2"); err != nil {
		t.Fatalf("export Redis: %v\n%s", err, out)
	}
	empty, edb := testenv.MySQLDatabase(t, "h_t2r_rjr")
	out, err = runCLI(t, "plan", redisBundle+"2", "--target", empty)
	if err == nil || !strings.Contains(out, `REFUSED: schema key "imbundle:table:t": column c`) {
		t.Fatalf("plan of a keyspace with a bad schema key: %v\n%s", err, out)
	}
	out, err = runCLI(t, "-q", "import", redisBundle+"2", "--target", empty)
	if err == nil || !strings.Contains(err.Error()+out, `schema key "imbundle:table:t": column c`) || !strings.Contains(err.Error()+out, "nothing was written") {
		t.Fatalf("import of a keyspace with a bad schema key: %v\n%s", err, out)
	}
	if err := edb.QueryRow("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()").Scan(&n); err != nil || n != 0 {
		t.Errorf("%d tables were created (%v)", n, err)
	}
}

// TestTablesFromRedisResume: an import of a keyspace holding two tables
// into MySQL (two target datasets from one bundle dataset, each reading
// every part) that fails after some parts, run again with the same
// command, ends with every row once and the original bundle green.
func TestTablesFromRedisResume(t *testing.T) {
	ctx := context.Background()
	rdb := testenv.Redis(t, rcTables)
	rdb.FlushDB(ctx)
	t.Cleanup(func() { rdb.FlushDB(context.Background()) })
	var a, b []string
	for i := 1; i <= 1500; i++ {
		a = append(a, fmt.Sprintf("(%d, 'message %d %s')", i, i, strings.Repeat("x", i%40)))
		b = append(b, fmt.Sprintf("(%d, %d.25)", i, i))
	}
	_, mysqlBundle := exportedMySQL(t, "h_t2r_res", []string{
		"CREATE TABLE msgs (id BIGINT PRIMARY KEY, body VARCHAR(80))",
		"INSERT INTO msgs VALUES " + strings.Join(a, ","),
		"CREATE TABLE amounts (id BIGINT PRIMARY KEY, v DECIMAL(10,2))",
		"INSERT INTO amounts VALUES " + strings.Join(b, ","),
	})
	redisURL := "redis://" + testenv.RedisAddr()
	if out, err := runCLI(t, "-q", "import", mysqlBundle, "--target", redisURL, "--db-map", fmt.Sprintf("0:%d", rcTables)); err != nil {
		t.Fatalf("import into Redis: %v\n%s", err, out)
	}
	path := filepath.Join(t.TempDir(), "redis.imb")
	m := enginetest.ExportSmallParts(t, fmt.Sprintf("%s/%d", redisURL, rcTables), path, 200)
	if n := len(m.Datasets[0].Parts); n < 4 {
		t.Fatalf("%d parts, want several", n)
	}
	backURL, back := testenv.MySQLDatabase(t, "h_t2r_resb")
	enginetest.ImportFailing(t, path, backURL, nil, len(m.Datasets[0].Parts))
	if out, err := runCLI(t, "-q", "import", path, "--target", backURL); err != nil || strings.Contains(out, "rejects:") {
		t.Fatalf("the re-run: %v\n%s", err, out)
	}
	for _, tb := range []string{"msgs", "amounts"} {
		var n int
		if err := back.QueryRow("SELECT COUNT(*) FROM " + tb).Scan(&n); err != nil || n != 1500 {
			t.Errorf("%s: %d rows (%v) after the re-run, want 1500", tb, n, err)
		}
	}
	if out, err := runCLI(t, "verify", mysqlBundle, "--against", backURL); err != nil {
		t.Errorf("verify the original bundle after the resumed import: %v\n%s", err, out)
	}
}

// TestTableFilterIntoRedis: a mapping's filter on a table going to Redis
// leaves rows out, counted as filtered by import and verify; an entry that
// would rename a column is refused before anything is written.
func TestTableFilterIntoRedis(t *testing.T) {
	ctx := context.Background()
	rdb := testenv.Redis(t, rcTables)
	rdb.FlushDB(ctx)
	t.Cleanup(func() { rdb.FlushDB(context.Background()) })
	_, mysqlBundle := exportedMySQL(t, "h_t2r_f", []string{
		"CREATE TABLE users (id INT NOT NULL PRIMARY KEY, status INT)",
		"INSERT INTO users VALUES (1, 1), (2, 4), (3, 1)",
	})
	dir := t.TempDir()
	mapFile := filepath.Join(dir, "m.yaml")
	if err := os.WriteFile(mapFile, []byte("version: 1\ndatasets:\n  - match: \"*.users\"\n    filter: \"status != 4\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	redisURL := "redis://" + testenv.RedisAddr()
	dbMap := fmt.Sprintf("0:%d", rcTables)
	if out, err := runCLI(t, "import", mysqlBundle, "--target", redisURL, "--db-map", dbMap, "--map", mapFile); err != nil {
		t.Fatalf("import with a filter: %v\n%s", err, out)
	}
	if n, err := rdb.Exists(ctx, "users:1", "users:2", "users:3").Result(); err != nil || n != 2 {
		t.Errorf("%d of users:1 and users:3 (and not users:2) exist (%v)", n, err)
	}
	out, err := runCLI(t, "verify", mysqlBundle, "--against", redisURL, "--db-map", dbMap, "--map", mapFile)
	if err != nil || !strings.Contains(out, "1 left out by the mapping's filter") {
		t.Fatalf("verify with the filter: %v\n%s", err, out)
	}
	if err := os.WriteFile(mapFile, []byte("version: 1\ndatasets:\n  - match: \"*.users\"\n    rename: {status: state}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rdb.FlushDB(ctx)
	out, err = runCLI(t, "-q", "import", mysqlBundle, "--target", redisURL, "--db-map", dbMap, "--map", mapFile)
	if err == nil || !strings.Contains(err.Error()+out, "takes a filter only") || !strings.Contains(err.Error()+out, "nothing was written") {
		t.Fatalf("import with a rename: %v\n%s", err, out)
	}
	if n, _ := rdb.DBSize(ctx).Result(); n != 0 {
		t.Errorf("%d keys written", n)
	}
}

// TestTableNamedImbundleRefused: a table named imbundle would share its
// keys' prefix with the schema keys (its key ('table', 'x') would be the
// schema key of table x): refused before anything is written.
func TestTableNamedImbundleRefused(t *testing.T) {
	ctx := context.Background()
	rdb := testenv.Redis(t, rcTables)
	rdb.FlushDB(ctx)
	t.Cleanup(func() { rdb.FlushDB(context.Background()) })
	_, mysqlBundle := exportedMySQL(t, "h_t2r_imb", []string{
		"CREATE TABLE imbundle (a VARCHAR(8) NOT NULL, b VARCHAR(8) NOT NULL, PRIMARY KEY (a, b))",
		"INSERT INTO imbundle VALUES ('table', 'x')",
		"CREATE TABLE x (id INT NOT NULL PRIMARY KEY)",
		"INSERT INTO x VALUES (1)",
	})
	out, err := runCLI(t, "-q", "import", mysqlBundle, "--target", "redis://"+testenv.RedisAddr(), "--db-map", fmt.Sprintf("0:%d", rcTables))
	if err == nil || !strings.Contains(err.Error()+out, "a table named imbundle") || !strings.Contains(err.Error()+out, "nothing was written") {
		t.Fatalf("import of a table named imbundle: %v\n%s", err, out)
	}
	if n, _ := rdb.DBSize(ctx).Result(); n != 0 {
		t.Errorf("%d keys written", n)
	}
}
