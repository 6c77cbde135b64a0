package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/internal/testenv"
)

// TestConvertedSourcesObjects: a MySQL database's view and trigger have no
// conversion to MongoDB or Redis. An import that converts the database
// stops before writing, naming them (the MySQL importer used to skip
// another engine's objects silently, the Redis importer refused with no
// way out); --without-objects imports the data and leaves them out.
func TestConvertedSourcesObjects(t *testing.T) {
	_, path := exportedMySQL(t, "cobj", []string{
		"CREATE TABLE t (id INT PRIMARY KEY, v INT)",
		"INSERT INTO t VALUES (1, 2), (2, 3)",
		"CREATE VIEW vv AS SELECT id FROM t",
		"CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.v = NEW.v + 1",
	})
	mURL, mdb := testenv.MongoDatabase(t, "cobj_mg")
	rc := testenv.Redis(t, redisTargetDB)
	ctx := context.Background()
	rc.FlushDB(ctx)
	t.Cleanup(func() { rc.FlushDB(context.Background()) })
	for _, tg := range []struct {
		args  []string
		count func() int64
	}{
		{[]string{"--target", mURL}, func() int64 {
			n, err := mdb.Collection("t").CountDocuments(ctx, bson.D{})
			if err != nil {
				t.Fatal(err)
			}
			return n
		}},
		{[]string{"--target", "redis://" + testenv.RedisAddr(), "--db-map", fmt.Sprintf("0:%d", redisTargetDB)}, func() int64 {
			return rc.DBSize(ctx).Val()
		}},
	} {
		out, err := runCLI(t, append([]string{"-q", "import", path}, tg.args...)...)
		if exitCodeOf(err) != exitRefused || !strings.Contains(err.Error(), "mysql view") || !strings.Contains(err.Error(), ".vv") ||
			!strings.Contains(err.Error(), "mysql trigger") || !strings.Contains(err.Error(), "--without-objects") {
			t.Fatalf("import %v with objects no conversion carries: exit %d (%v), want %d naming them and --without-objects\n%s", tg.args, exitCodeOf(err), err, exitRefused, out)
		}
		if n := tg.count(); n != 0 {
			t.Fatalf("the refused import %v wrote %d records", tg.args, n)
		}
		if out, err := runCLI(t, append([]string{"-q", "import", path, "--without-objects"}, tg.args...)...); err != nil {
			t.Fatalf("import %v --without-objects: %v\n%s", tg.args, err, out)
		}
		if n := tg.count(); n == 0 {
			t.Fatalf("import %v --without-objects wrote nothing", tg.args)
		}
	}
}

// TestEmptyTableIntoRedisWarns: a table without rows writes no Redis key,
// not even its schema key, so the way back cannot recreate it; plan and
// the import say so as a warning instead of a note among notes.
func TestEmptyTableIntoRedisWarns(t *testing.T) {
	_, path := exportedMySQL(t, "cempty", []string{
		"CREATE TABLE t (id INT PRIMARY KEY)", "INSERT INTO t VALUES (1)",
		"CREATE TABLE e (id INT PRIMARY KEY)",
	})
	rc := testenv.Redis(t, redisTargetDB)
	ctx := context.Background()
	rc.FlushDB(ctx)
	t.Cleanup(func() { rc.FlushDB(context.Background()) })
	target := []string{"--target", "redis://" + testenv.RedisAddr(), "--db-map", fmt.Sprintf("0:%d", redisTargetDB)}
	out, err := runCLI(t, "plan", path, "--target", target[1])
	if err != nil || !strings.Contains(out, "WARNING: table ") || !strings.Contains(out, ".e has no rows") || strings.Contains(out, ".t has no rows") {
		t.Fatalf("plan: %v, want a warning for the empty table e only\n%s", err, out)
	}
	text, err := stderrOf(t, append([]string{"import", path, "--log-format", "json"}, target...)...)
	if err != nil {
		t.Fatalf("import: %v\n%s", err, text)
	}
	if !strings.Contains(text, `"level":"WARN"`) || !strings.Contains(text, ".e has no rows") {
		t.Errorf("the import did not warn of the empty table:\n%s", text)
	}
}
