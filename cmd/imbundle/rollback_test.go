package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/imbundle/imbundle/internal/testenv"
)

// Rollback bundles (SPEC.md §13) against the real servers: an import with
// --mode replace or append writes the target's prior state first; rollback
// puts it back, which an independent read of the target and verify of the
// rollback bundle both confirm.

var rollbackWrote = regexp.MustCompile(`rollback bundle: (?:wrote|kept) (\S+?\.imb)`)

// importWithRollback runs import and returns the rollback bundle it names.
func importWithRollback(t *testing.T, args ...string) (string, string) {
	t.Helper()
	out, err := runCLI(t, append([]string{"-q", "import"}, args...)...)
	if err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	m := rollbackWrote.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("import named no rollback bundle:\n%s", out)
	}
	if _, err := os.Stat(m[1]); err != nil {
		t.Fatal(err)
	}
	return m[1], out
}

// rollbackAndVerify rolls target back from rb and verifies rb against it.
func rollbackAndVerify(t *testing.T, rb, target string) {
	t.Helper()
	if out, err := runCLI(t, "-q", "rollback", rb, "--target", target); err != nil {
		t.Fatalf("rollback: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "-q", "verify", rb, "--against", target); err != nil {
		t.Fatalf("verify of the rollback bundle: %v\n%s", err, out)
	}
}

// mysqlState is everything of db a rollback must restore: each table's
// definition and CHECKSUM, the views' and triggers' definitions.
func mysqlState(t *testing.T, db *sql.DB, name string) string {
	t.Helper()
	var b strings.Builder
	for _, table := range queryStrings(t, db, "SELECT CONCAT(TABLE_NAME, ' ', TABLE_TYPE) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '"+name+"' ORDER BY TABLE_NAME") {
		tn, typ, _ := strings.Cut(table, " ")
		var n, def string
		if typ == "VIEW" {
			var cs, coll string
			if err := db.QueryRow("SHOW CREATE VIEW `"+tn+"`").Scan(&n, &def, &cs, &coll); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s\n", def)
			continue
		}
		if err := db.QueryRow("SHOW CREATE TABLE `"+tn+"`").Scan(&n, &def); err != nil {
			t.Fatal(err)
		}
		var sum sql.NullInt64
		if err := db.QueryRow("CHECKSUM TABLE `"+tn+"`").Scan(&n, &sum); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s\nchecksum %d\n", def, sum.Int64)
	}
	for _, tr := range queryStrings(t, db, "SELECT CONCAT(TRIGGER_NAME, ' ', EVENT_OBJECT_TABLE, ' ', ACTION_STATEMENT) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '"+name+"' ORDER BY TRIGGER_NAME") {
		fmt.Fprintf(&b, "trigger %s\n", tr)
	}
	return b.String()
}

func rollbackMySQLSource(t *testing.T) (string, string) {
	return exportedMySQL(t, "rb_src", []string{
		"CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR(20), KEY k_name (name))",
		"INSERT INTO users VALUES (1, 'a'), (2, 'b'), (3, 'c')",
		"CREATE TABLE msgs (body TEXT)", // no primary key
		"INSERT INTO msgs VALUES ('x'), ('y'), ('y')",
		"CREATE VIEW v_users AS SELECT id FROM users",
		"CREATE TRIGGER t_users BEFORE INSERT ON users FOR EACH ROW SET NEW.name = UPPER(NEW.name)",
	})
}

func TestRollbackMySQL(t *testing.T) {
	srcURL, bundlePath := rollbackMySQLSource(t)
	for _, tc := range []struct {
		mode  string
		setup []string
	}{
		// replace: another definition of users, a view of the same name
		// (replaced), a table the bundle does not hold (untouched).
		{"replace", []string{
			"CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR(30), extra INT)",
			"INSERT INTO users VALUES (2, 'old-b', 7), (9, 'z', 8)",
			"CREATE TABLE keep (id INT PRIMARY KEY)", "INSERT INTO keep VALUES (1)",
			"CREATE VIEW v_users AS SELECT name FROM users",
		}},
		// append: rows added to users (MySQL refuses a key that is
		// there already, into the reject file) and to msgs.
		{"append", []string{
			"CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR(20), KEY k_name (name))",
			"INSERT INTO users VALUES (8, 'old-b'), (9, 'z')",
			"CREATE TABLE msgs (body TEXT)", "INSERT INTO msgs VALUES ('old')",
		}},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			dstURL, dst := testenv.MySQLDatabase(t, "rb_dst")
			mustExecAll(t, dst, tc.setup...)
			before := mysqlState(t, dst, dbName(dstURL))
			bp := filepath.Join(t.TempDir(), "site.imb")
			if err := os.Link(bundlePath, bp); err != nil {
				t.Fatal(err)
			}
			rb, _ := importWithRollback(t, bp, "--target", dstURL, "--mode", tc.mode, "--map", dbName(srcURL)+"="+dbName(dstURL))
			if filepath.Dir(rb) != filepath.Dir(bp) {
				t.Errorf("rollback bundle %s is not beside the bundle %s", rb, bp)
			}
			if after := mysqlState(t, dst, dbName(dstURL)); after == before {
				t.Fatal("the import changed nothing")
			}
			rollbackAndVerify(t, rb, dstURL)
			if got := mysqlState(t, dst, dbName(dstURL)); got != before {
				t.Errorf("after rollback:\n%s\nwant the prior state:\n%s", got, before)
			}
			// Run again (as a resume would), the rollback bundle of the
			// first run is kept, and still restores the prior state.
			_, out := importWithRollback(t, bp, "--target", dstURL, "--mode", tc.mode, "--map", dbName(srcURL)+"="+dbName(dstURL))
			if !strings.Contains(out, "rollback bundle: kept "+rb) {
				t.Errorf("second import did not keep %s:\n%s", rb, out)
			}
			rollbackAndVerify(t, rb, dstURL)
			if got := mysqlState(t, dst, dbName(dstURL)); got != before {
				t.Errorf("after the second rollback:\n%s\nwant:\n%s", got, before)
			}
		})
	}
}

func TestRollbackRefusals(t *testing.T) {
	srcURL, bundlePath := rollbackMySQLSource(t)
	dstURL, dst := testenv.MySQLDatabase(t, "rb_dst")
	otherURL, other := testenv.MySQLDatabase(t, "rb_oth")
	mustExecAll(t, other, "CREATE TABLE users (id INT PRIMARY KEY)", "INSERT INTO users VALUES (5)")
	otherBefore := mysqlState(t, other, dbName(otherURL))
	rb := filepath.Join(t.TempDir(), "undo.imb")
	out, err := runCLI(t, "-q", "import", bundlePath, "--target", dstURL, "--map", dbName(srcURL)+"="+dbName(dstURL), "--rollback-out", rb, "--no-rollback")
	if exitCodeOf(err) != exitUsage || !strings.Contains(fmt.Sprint(err), "--no-rollback and --rollback-out") {
		t.Fatalf("--no-rollback with --rollback-out: exit %d\n%s", exitCodeOf(err), out)
	}
	if _, err := os.Stat(rb); err == nil {
		t.Fatal("a refused import wrote a rollback bundle")
	}
	// --mode fail writes one only when asked; all it holds is absences.
	if got, _ := importWithRollback(t, bundlePath, "--target", dstURL, "--map", dbName(srcURL)+"="+dbName(dstURL), "--rollback-out", rb); got != rb {
		t.Fatalf("rollback bundle %s, want %s", got, rb)
	}
	out, err = runCLI(t, "-q", "rollback", rb, "--target", otherURL)
	if exitCodeOf(err) != exitRefused || !strings.Contains(fmt.Sprint(err), "not into mysql://"+testenv.MySQLAddr()[strings.IndexByte(testenv.MySQLAddr(), '@')+1:]+"/"+dbName(otherURL)) {
		t.Fatalf("rollback into another target: exit %d\n%s", exitCodeOf(err), out)
	}
	if got := mysqlState(t, other, dbName(otherURL)); got != otherBefore {
		t.Errorf("a refused rollback changed the other database:\n%s", got)
	}
	out, err = runCLI(t, "-q", "rollback", bundlePath, "--target", dstURL)
	if exitCodeOf(err) != exitBadInput || !strings.Contains(fmt.Sprint(err), "not a rollback bundle") {
		t.Fatalf("rollback of an export: exit %d\n%s", exitCodeOf(err), out)
	}
	// Before the rollback, verify of it sees the tables the import made.
	out, err = runCLI(t, "-q", "verify", rb, "--against", dstURL)
	if exitCodeOf(err) != exitMismatch || !strings.Contains(out, ".users exists, which did not before the import") {
		t.Fatalf("verify of the rollback bundle before the rollback: exit %d\n%s", exitCodeOf(err), out)
	}
	rollbackAndVerify(t, rb, dstURL)
	if got := queryStrings(t, dst, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '"+dbName(dstURL)+"'"); len(got) != 0 {
		t.Errorf("tables the import created are left: %v", got)
	}
}

// redisState is every key of the database with its DUMP and whether it
// expires.
func redisState(t *testing.T, db int) string {
	t.Helper()
	c := testenv.Redis(t, db)
	ctx := context.Background()
	keys, err := c.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		d, err := c.Dump(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		ttl, _ := c.PTTL(ctx, k).Result()
		fmt.Fprintf(&b, "%q %x expires=%v\n", k, d, ttl > 0)
	}
	return b.String()
}

func TestRollbackRedis(t *testing.T) {
	const srcDB, dstDB, emptyDB = 11, 12, 13
	src := testenv.Redis(t, srcDB)
	ctx := context.Background()
	src.FlushDB(ctx)
	src.MSet(ctx, "a", "1", "b", "2", "c", "3")
	src.RPush(ctx, "l", "x", "y")
	src.HSet(ctx, "h", "f", "v")
	bp := filepath.Join(t.TempDir(), "r.imb")
	if out, err := runCLI(t, "-q", "export", "--source", redisURL(srcDB), "-o", bp); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	for _, mode := range []string{"replace", "append"} {
		t.Run(mode, func(t *testing.T) {
			dst := testenv.Redis(t, dstDB)
			dst.FlushDB(ctx)
			dst.MSet(ctx, "b", "old", "z", "9")
			dst.RPush(ctx, "l", "q") // append adds to it, replace replaces it
			dst.Set(ctx, "ttl", "v", 0)
			dst.Expire(ctx, "ttl", 3600e9)
			before := redisState(t, dstDB)
			rb, _ := importWithRollback(t, bp, "--target", redisURL(dstDB), "--mode", mode)
			if redisState(t, dstDB) == before {
				t.Fatal("the import changed nothing")
			}
			rollbackAndVerify(t, rb, redisURL(dstDB))
			if got := redisState(t, dstDB); got != before {
				t.Errorf("after rollback:\n%s\nwant:\n%s", got, before)
			}
			os.Remove(rb)
		})
	}
	// A function library the import creates is deleted by the rollback
	// (libraries are server-wide: the source's is removed first).
	t.Run("function library", func(t *testing.T) {
		const lib = "#!lua name=rbtestlib\nredis.register_function('rbtest_f', function() return 1 end)"
		if err := src.FunctionLoadReplace(ctx, lib).Err(); err != nil {
			t.Fatal(err)
		}
		lp := filepath.Join(t.TempDir(), "lib.imb")
		if out, err := runCLI(t, "-q", "export", "--source", redisURL(srcDB), "-o", lp); err != nil {
			t.Fatalf("export: %v\n%s", err, out)
		}
		if err := src.FunctionDelete(ctx, "rbtestlib").Err(); err != nil {
			t.Fatal(err)
		}
		dst := testenv.Redis(t, dstDB)
		dst.FlushDB(ctx)
		dst.Set(ctx, "b", "old", 0)
		before := redisState(t, dstDB)
		rb, _ := importWithRollback(t, lp, "--target", redisURL(dstDB), "--mode", "replace")
		if libs, _ := dst.FunctionList(ctx, redis.FunctionListQuery{LibraryNamePattern: "rbtestlib"}).Result(); len(libs) != 1 {
			t.Fatalf("the import did not load the library: %v", libs)
		}
		rollbackAndVerify(t, rb, redisURL(dstDB))
		if libs, _ := dst.FunctionList(ctx, redis.FunctionListQuery{LibraryNamePattern: "rbtestlib"}).Result(); len(libs) != 0 {
			t.Errorf("the library the import created is left: %v", libs)
		}
		if got := redisState(t, dstDB); got != before {
			t.Errorf("after rollback:\n%s\nwant:\n%s", got, before)
		}
	})
	// Across engines: MySQL tables converted to Redis hashes (§11.7).
	t.Run("from mysql", func(t *testing.T) {
		_, myBundle := exportedMySQL(t, "rb_src", []string{
			"CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR(20))",
			"INSERT INTO users VALUES (1, 'a'), (2, 'b')",
		})
		dst := testenv.Redis(t, dstDB)
		dst.FlushDB(ctx)
		dst.Set(ctx, "keepme", "1", 0)
		before := redisState(t, dstDB)
		rb, _ := importWithRollback(t, myBundle, "--target", redisURL(dstDB), "--mode", "replace")
		if redisState(t, dstDB) == before {
			t.Fatal("the import changed nothing")
		}
		rollbackAndVerify(t, rb, redisURL(dstDB))
		if got := redisState(t, dstDB); got != before {
			t.Errorf("after rollback:\n%s\nwant:\n%s", got, before)
		}
	})
	t.Run("empty database", func(t *testing.T) {
		dst := testenv.Redis(t, emptyDB)
		dst.FlushDB(ctx)
		rb, _ := importWithRollback(t, bp, "--target", redisURL(emptyDB), "--mode", "replace")
		if n, _ := dst.DBSize(ctx).Result(); n == 0 {
			t.Fatal("the import wrote nothing")
		}
		if out, err := runCLI(t, "-q", "rollback", rb, "--target", redisURL(emptyDB)); err != nil {
			t.Fatalf("rollback: %v\n%s", err, out)
		}
		if n, _ := dst.DBSize(ctx).Result(); n != 0 {
			t.Errorf("%d keys left in a database that was empty", n)
		}
		os.Remove(rb)
	})
}

// mongoState is each collection of db with its indexes and its documents.
func mongoState(t *testing.T, db *mongo.Database) string {
	t.Helper()
	ctx := context.Background()
	names, err := db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "collection %s\n", n)
		cur, err := db.Collection(n).Indexes().List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var idx []string
		for cur.Next(ctx) {
			idx = append(idx, cur.Current.Lookup("name").StringValue()+" "+cur.Current.Lookup("key").String())
		}
		cur.Close(ctx)
		sort.Strings(idx)
		fmt.Fprintf(&b, "indexes %v\n", idx)
		for _, d := range testenv.RawDocs(t, db.Collection(n)) {
			fmt.Fprintf(&b, "%s\n", d.String())
		}
	}
	return b.String()
}

func TestRollbackMongo(t *testing.T) {
	ctx := context.Background()
	srcURL, src := testenv.MongoDatabase(t, "rb_msrc")
	if _, err := src.Collection("users").InsertMany(ctx, []any{bson.D{{Key: "_id", Value: 1}, {Key: "n", Value: "a"}}, bson.D{{Key: "_id", Value: 2}, {Key: "n", Value: "b"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Collection("users").Indexes().CreateOne(ctx, mongoIndex("n", "by_n")); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Collection("groups").InsertOne(ctx, bson.D{{Key: "_id", Value: "g"}}); err != nil {
		t.Fatal(err)
	}
	bp := filepath.Join(t.TempDir(), "m.imb")
	if out, err := runCLI(t, "-q", "export", "--source", srcURL, "-o", bp); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	for _, mode := range []string{"replace", "append"} {
		t.Run(mode, func(t *testing.T) {
			dstURL, dst := testenv.MongoDatabase(t, "rb_mdst")
			if _, err := dst.Collection("users").InsertMany(ctx, []any{bson.D{{Key: "_id", Value: 2}, {Key: "n", Value: "old"}}, bson.D{{Key: "_id", Value: 9}, {Key: "n", Value: "z"}}}); err != nil {
				t.Fatal(err)
			}
			if _, err := dst.Collection("keep").InsertOne(ctx, bson.D{{Key: "_id", Value: 1}}); err != nil {
				t.Fatal(err)
			}
			before := mongoState(t, dst)
			rb, _ := importWithRollback(t, bp, "--target", dstURL, "--mode", mode, "--map", dbName(srcURL)+"="+dbName(dstURL))
			if mongoState(t, dst) == before {
				t.Fatal("the import changed nothing")
			}
			rollbackAndVerify(t, rb, dstURL)
			if got := mongoState(t, dst); got != before {
				t.Errorf("after rollback:\n%s\nwant:\n%s", got, before)
			}
			os.Remove(rb)
		})
	}
	// Across engines: a MySQL bundle into MongoDB by the default mapping.
	t.Run("from mysql", func(t *testing.T) {
		myURL, myBundle := exportedMySQL(t, "rb_src", []string{
			"CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR(20))",
			"INSERT INTO users VALUES (1, 'a'), (2, 'b')",
			"CREATE TABLE msgs (id INT PRIMARY KEY, body TEXT)",
			"INSERT INTO msgs VALUES (1, 'x')",
		})
		dstURL, dst := testenv.MongoDatabase(t, "rb_mdst")
		if _, err := dst.Collection("users").InsertOne(ctx, bson.D{{Key: "_id", Value: 2}, {Key: "name", Value: "old"}}); err != nil {
			t.Fatal(err)
		}
		before := mongoState(t, dst)
		rb, _ := importWithRollback(t, myBundle, "--target", dstURL, "--mode", "replace", "--map", dbName(myURL)+"="+dbName(dstURL))
		if mongoState(t, dst) == before {
			t.Fatal("the import changed nothing")
		}
		rollbackAndVerify(t, rb, dstURL)
		if got := mongoState(t, dst); got != before {
			t.Errorf("after rollback:\n%s\nwant:\n%s", got, before)
		}
	})
}

// An import into a database that does not exist yet: the rollback drops
// what it created, the database too, and verify of the rollback bundle
// (which holds no dataset) is green.
func TestRollbackMySQLNewDatabase(t *testing.T) {
	srcURL, bundlePath := rollbackMySQLSource(t)
	_, admin := testenv.MySQLDatabase(t, "rb_adm")
	name := testenv.Name("rb_new")
	t.Cleanup(func() { admin.Exec("DROP DATABASE IF EXISTS `" + name + "`") })
	target := srcURL[:strings.LastIndexByte(srcURL, '/')+1] + name
	rb, _ := importWithRollback(t, bundlePath, "--target", target, "--mode", "replace", "--map", dbName(srcURL)+"="+name)
	exists := func() bool {
		return len(queryStrings(t, admin, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '"+name+"'")) == 1
	}
	if !exists() {
		t.Fatal("the import created no database")
	}
	rollbackAndVerify(t, rb, target)
	if exists() {
		t.Error("the database the import created is left")
	}
}

// An import that stops part-way (here: more records refused than
// --max-rejects allows) and is run again (a resume) keeps the rollback bundle of its
// first run, which still restores the state from before either.
func TestRollbackAfterStoppedImport(t *testing.T) {
	srcURL, bundlePath := rollbackMySQLSource(t)
	dstURL, dst := testenv.MySQLDatabase(t, "rb_dst")
	mustExecAll(t, dst,
		"CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR(20), KEY k_name (name))",
		"INSERT INTO users VALUES (3, 'taken'), (9, 'z')")
	before := mysqlState(t, dst, dbName(dstURL))
	args := []string{"-q", "import", bundlePath, "--target", dstURL, "--mode", "append", "--max-rejects", "0", "--map", dbName(srcURL) + "=" + dbName(dstURL)}
	out, err := runCLI(t, args...)
	if err == nil {
		t.Fatalf("import with a refused row and --max-rejects 0 succeeded:\n%s", out)
	}
	m := rollbackWrote.FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "rollback bundle: wrote") {
		t.Fatalf("the stopped import named no rollback bundle it wrote:\n%s", out)
	}
	rb := m[1]
	if mysqlState(t, dst, dbName(dstURL)) == before {
		t.Fatal("the stopped import wrote nothing")
	}
	// The rerun resumes (the parts the first run finished count as
	// loaded), and must not capture the half-imported state.
	if out, err := runCLI(t, args...); !strings.Contains(out, "rollback bundle: kept "+rb) {
		t.Fatalf("the second run did not keep %s (err %v):\n%s", rb, err, out)
	}
	rollbackAndVerify(t, rb, dstURL)
	if got := mysqlState(t, dst, dbName(dstURL)); got != before {
		t.Errorf("after rollback:\n%s\nwant:\n%s", got, before)
	}
}
