package mysql_test

import (
	"context"
	"strings"
	"testing"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/testenv"
	"github.com/imbundle/imbundle/verify"
)

// schemaDrift runs verify.Schema of the bundle at path against url.
func schemaDrift(t *testing.T, path, url string) []string {
	t.Helper()
	ctx := context.Background()
	r, err := bundle.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	src, err := exporter.Open(ctx, url, exporter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	diffs, ok, err := verify.Schema(ctx, r, src, verify.AgainstOptions{})
	if err != nil || !ok {
		t.Fatalf("verify.Schema: ok=%v err=%v", ok, err)
	}
	return diffs
}

// TestSchemaDrift: after an import the target's schema equals the
// bundle's; a dropped foreign key, a dropped index, a widened column, a
// changed AUTO_INCREMENT and a dropped table are each named, while the
// rows still match.
func TestSchemaDrift(t *testing.T) {
	srcURL, src := testenv.MySQLDatabase(t, "drift_src")
	exec(t, src, "CREATE TABLE users (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(20), email VARCHAR(40), KEY k_name (name), KEY k_email (email)) ENGINE=InnoDB")
	exec(t, src, "CREATE TABLE posts (id INT PRIMARY KEY, user_id INT, KEY k_user (user_id), CONSTRAINT fk_user FOREIGN KEY (user_id) REFERENCES users (id)) ENGINE=InnoDB")
	exec(t, src, "CREATE TABLE tags (id INT PRIMARY KEY) ENGINE=InnoDB")
	exec(t, src, "INSERT INTO users (name, email) VALUES ('ann', 'a@x'), ('bob', 'b@x')")
	exec(t, src, "INSERT INTO posts VALUES (1, 1), (2, 2)")
	path := exportBundle(t, srcURL, exporter.Options{}, bundle.Options{})

	dstURL, dst := testenv.MySQLDatabase(t, "drift_dst")
	params, _ := stateParams(t, dst)
	if run := importBundle(t, context.Background(), path, dstURL, importer.ModeFail, params, nil); run.err != nil {
		t.Fatal(run.err)
	}
	if d := schemaDrift(t, path, dstURL); len(d) != 0 {
		t.Fatalf("schema drift right after the import: %q", d)
	}
	db := dbName(dstURL)

	exec(t, dst, "ALTER TABLE posts DROP FOREIGN KEY fk_user")
	exec(t, dst, "ALTER TABLE users DROP INDEX k_name, MODIFY email VARCHAR(80)")
	exec(t, dst, "ALTER TABLE users AUTO_INCREMENT = 100")
	exec(t, dst, "DROP TABLE tags")
	diffs := schemaDrift(t, path, dstURL)
	all := strings.Join(diffs, "\n")
	for _, want := range []string{
		"table " + db + ".posts: constraint `fk_user` missing on the target",
		"table " + db + ".users: ",
		"index `k_name` missing on the target",
		"column `email` differs (bundle: `email` varchar(40)",
		"target: `email` varchar(80)",
		"table options differs",
		"AUTO_INCREMENT=100",
		"table " + db + ".tags: missing on the target",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("drift report lacks %q:\n%s", want, all)
		}
	}
	if len(diffs) != 3 {
		t.Errorf("%d drifted tables reported, want posts, users and tags:\n%s", len(diffs), all)
	}
	for name, d := range verifyAgainst(t, path, dstURL) {
		if strings.HasSuffix(name, ".tags") {
			continue
		}
		if !d.Match {
			t.Errorf("%s: rows no longer match (%v), but only the schema changed", name, d.Err)
		}
	}
}

// TestSchemaOrderDrift: the same indexes in another order are a drift.
func TestSchemaOrderDrift(t *testing.T) {
	srcURL, src := testenv.MySQLDatabase(t, "order_src")
	exec(t, src, "CREATE TABLE t (id INT PRIMARY KEY, a INT, b INT, KEY ka (a), KEY kb (b)) ENGINE=InnoDB")
	path := exportBundle(t, srcURL, exporter.Options{}, bundle.Options{})
	dstURL, dst := testenv.MySQLDatabase(t, "order_dst")
	exec(t, dst, "CREATE TABLE t (id INT PRIMARY KEY, a INT, b INT, KEY kb (b), KEY ka (a)) ENGINE=InnoDB")
	diffs := schemaDrift(t, path, dstURL)
	if len(diffs) != 1 || !strings.Contains(diffs[0], "order differs at line") || !strings.Contains(diffs[0], "index `ka`") {
		t.Errorf("drift %q, want the index order named", diffs)
	}
}
