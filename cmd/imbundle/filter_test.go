package main

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/testenv"
	"github.com/imbundle/imbundle/spec"
)

// Export's filters against the real MySQL server: table patterns, an
// exclusion, a row filter; the manifest records them, and verify --against
// reads the target through the same filter.
func TestExportFiltersMySQL(t *testing.T) {
	url, db := testenv.MySQLDatabase(t, "clifilter")
	mustExecAll(t, db,
		"CREATE TABLE t_messages_0 (id INT PRIMARY KEY)",
		"CREATE TABLE t_messages_1 (id INT PRIMARY KEY)",
		"CREATE TABLE t_user (id INT PRIMARY KEY)",
		"CREATE TABLE chat_logs (id INT PRIMARY KEY, send_time DATETIME NOT NULL)",
		"INSERT INTO t_messages_0 VALUES (1), (2)",
		"INSERT INTO t_messages_1 VALUES (3)",
		"INSERT INTO t_user VALUES (1)",
		`INSERT INTO chat_logs VALUES (1, '2024-12-31 23:59:59'), (2, '2025-01-01 00:00:00'), (3, '2025-06-01 12:00:00')`)
	dbName := url[strings.LastIndex(url, "/")+1:]
	path := filepath.Join(t.TempDir(), "f.imb")
	where := `chat_logs:send_time >= "2025-01-01"`
	if out, err := runCLI(t, "export", "-q", "--source", url, "-o", path,
		"--tables", "t_messages_*,chat_logs", "--exclude", "t_messages_1", "--where", where); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	m := readManifest(t, path)
	got := map[string]int64{}
	for _, ds := range m.Datasets {
		got[ds.Object] = ds.Rows
	}
	if len(got) != 2 || got["t_messages_0"] != 2 || got["chat_logs"] != 2 {
		t.Fatalf("datasets %v, want t_messages_0 (2 rows) and chat_logs (2 rows of 2025)", got)
	}
	for _, ds := range m.Datasets {
		want := ""
		if ds.Object == "chat_logs" {
			want = `send_time >= "2025-01-01"`
		}
		if ds.Filter != want {
			t.Errorf("%s: filter %q, want %q", ds.Name, ds.Filter, want)
		}
	}
	f := m.Sources[0].Filter
	if f == nil || strings.Join(f.Tables, ",") != "t_messages_*,chat_logs" || strings.Join(f.Exclude, ",") != "t_messages_1" || len(f.Where) != 1 || f.Where[0] != where {
		t.Fatalf("manifest filter %+v", f)
	}
	// inspect says the bundle is partial.
	if out, err := runCLI(t, "inspect", path); err != nil || !strings.Contains(out, "filtered export") {
		t.Errorf("inspect: %v\n%s", err, out)
	}

	// The target holds a 2024 row the bundle does not: verify reads with
	// the bundle's filter and matches. A change inside the filter does not.
	if out, err := runCLI(t, "verify", path, "--against", url); err != nil {
		t.Fatalf("verify --against the source: %v\n%s", err, out)
	}
	mustExecAll(t, db, "UPDATE chat_logs SET send_time = '2024-01-01' WHERE id = 1")
	if out, err := runCLI(t, "verify", path, "--against", url); err != nil {
		t.Fatalf("a row outside the filter changed: %v\n%s", err, out)
	}
	mustExecAll(t, db, "UPDATE chat_logs SET send_time = '2025-02-02' WHERE id = 3")
	if _, err := runCLI(t, "verify", path, "--against", url); exitCode(err) != exitMismatch {
		t.Fatalf("a row inside the filter changed: exit %d, %v", exitCode(err), err)
	}

	// Mistakes name what they are about and write nothing.
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.imb")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--where", "nosuch:id = 1"}, "--where nosuch: no such table"},
		{[]string{"--tables", "zz*"}, "--tables zz*: no such table"},
		{[]string{"--where", "chat_logs:nosuchcol = 1"}, "--where " + dbName + ".chat_logs:nosuchcol = 1: the server refused the filter"},
		{[]string{"--where", "chat_logs"}, `--where "chat_logs": want TABLE:FILTER`},
		{[]string{"--where", "t_*:id > 0", "--where", "t_user:id > 1"}, "both match " + dbName + ".t_user"},
		{[]string{"--tables", "[a"}, `--tables "[a": not a valid pattern`},
		{[]string{"--all-databases"}, "--all-databases: the URL"},
	} {
		args := append([]string{"export", "-q", "--source", url, "-o", bad}, tc.args...)
		_, err := runCLI(t, args...)
		if exitCode(err) != exitUsage || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: exit %d, %v\nwant exit 2 and %q", tc.args, exitCode(err), err, tc.want)
		}
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Fatalf("refused exports left %v", names)
	}
}

// --all-databases reads every database of the server; a database pattern
// picks some of them.
func TestExportAllDatabasesMySQL(t *testing.T) {
	token := strings.ToLower(testenv.Name("clfall"))
	url1, db1 := testenv.MySQLDatabase(t, token+"a")
	_, db2 := testenv.MySQLDatabase(t, token+"b")
	mustExecAll(t, db1, "CREATE TABLE users (id INT PRIMARY KEY)", "CREATE TABLE logs (id INT PRIMARY KEY)", "INSERT INTO users VALUES (1)")
	mustExecAll(t, db2, "CREATE TABLE users (id INT PRIMARY KEY)", "INSERT INTO users VALUES (1), (2)")
	server := url1[:strings.LastIndex(url1, "/")]
	path := filepath.Join(t.TempDir(), "all.imb")
	if out, err := runCLI(t, "export", "-q", "--source", server, "--all-databases", "--tables", token+"*.users", "-o", path); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	m := readManifest(t, path)
	var names []string
	for _, ds := range m.Datasets {
		names = append(names, ds.Name)
	}
	n1, n2 := url1[strings.LastIndex(url1, "/")+1:], ""
	for _, ds := range m.Datasets {
		if ds.Namespace != n1 {
			n2 = ds.Namespace
		}
	}
	if len(names) != 2 || !strings.HasPrefix(n2, token+"b") || names[0] != n1+".users" {
		t.Fatalf("datasets %v", names)
	}
	if f := m.Sources[0].Filter; f == nil || !f.AllDatabases {
		t.Fatalf("manifest filter %+v", f)
	}
	// Without --all-databases the same pattern still lists the server's
	// databases (its database part is a glob).
	path2 := filepath.Join(t.TempDir(), "glob.imb")
	if out, err := runCLI(t, "export", "-q", "--source", server, "--tables", token+"*.users", "-o", path2); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if n := len(readManifest(t, path2).Datasets); n != 2 {
		t.Fatalf("%d datasets, want 2", n)
	}
}

// MongoDB's row filter is a query document in Extended JSON, as
// mongodump --query takes it; verify --against applies it again.
func TestExportFiltersMongo(t *testing.T) {
	url, db := testenv.MongoDatabase(t, "clifiltm")
	ctx := context.Background()
	var docs []any
	for i := 0; i < 10; i++ {
		docs = append(docs, bson.D{{Key: "_id", Value: i}, {Key: "n", Value: i}})
	}
	if _, err := db.Collection("msgs").InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Collection("logs").InsertOne(ctx, bson.D{{Key: "_id", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.imb")
	if out, err := runCLI(t, "export", "-q", "--source", url, "-o", path, "--exclude", "log*", "--where", `msgs:{"n": {"$gte": 7}}`); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	m := readManifest(t, path)
	if len(m.Datasets) != 1 || m.Datasets[0].Object != "msgs" || m.Datasets[0].Rows != 3 {
		t.Fatalf("datasets %+v", m.Datasets)
	}
	if out, err := runCLI(t, "verify", path, "--against", url); err != nil {
		t.Fatalf("verify --against: %v\n%s", err, out)
	}
	if _, err := db.Collection("msgs").UpdateOne(ctx, bson.D{{Key: "_id", Value: 8}}, bson.D{{Key: "$set", Value: bson.D{{Key: "x", Value: 1}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := runCLI(t, "verify", path, "--against", url); exitCode(err) != exitMismatch {
		t.Fatalf("a document inside the filter changed: exit %d, %v", exitCode(err), err)
	}
	_, err := runCLI(t, "export", "-q", "--source", url, "-o", filepath.Join(t.TempDir(), "x.imb"), "--where", `msgs:{"n": `)
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), "not a query document in Extended JSON") {
		t.Fatalf("bad query: exit %d, %v", exitCode(err), err)
	}
}

func mustExecAll(t *testing.T, db *sql.DB, qs ...string) {
	t.Helper()
	for _, q := range qs {
		mustExec(t, db, q)
	}
}

func readManifest(t *testing.T, path string) *spec.Manifest {
	t.Helper()
	r, err := bundle.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	return r.Manifest()
}
