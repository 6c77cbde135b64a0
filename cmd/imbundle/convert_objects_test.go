package main

import (
	"context"
	"fmt"
	"sort"
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

// TestEmptyTableIntoRedis: a table without rows writes its schema key
// alone, so that the way back creates it (TestMySQLTablesThroughRedis
// takes one there and back); plan has nothing to warn of.
func TestEmptyTableIntoRedis(t *testing.T) {
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
	if err != nil || strings.Contains(out, "WARNING") || !strings.Contains(out, "a table without rows writes its schema key only") {
		t.Fatalf("plan: %v\n%s", err, out)
	}
	if out, err := runCLI(t, append([]string{"-q", "import", path}, target...)...); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	keys, err := rc.Keys(ctx, "*").Result()
	sort.Strings(keys)
	if err != nil || strings.Join(keys, " ") != "imbundle:applied imbundle:table:e imbundle:table:t t:1" {
		t.Errorf("keys %q (%v), want the schema keys of e and t and t's row", keys, err)
	}
	if out, err := runCLI(t, append([]string{"verify", path, "--against"}, target[1:]...)...); err != nil {
		t.Errorf("verify --against: %v\n%s", err, out)
	}
}
