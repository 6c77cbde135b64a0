package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/imbundle/imbundle/internal/testenv"
)

// TestMySQLImportLeavesNothingAndVerifyComparesSchema, through the CLI: an
// import leaves only the bundle's tables (the state schema imbundle holds
// only the last-applied record), a second import of the same bundle reports it already imported
// (and, once the target drifted, is refused), and verify
// --against exits 3 naming a table whose definition drifted while its rows
// still match.
func TestMySQLImportLeavesNothingAndVerifyComparesSchema(t *testing.T) {
	srcURL, src := testenv.MySQLDatabase(t, "cli_schema_src")
	for _, q := range []string{
		"CREATE TABLE users (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(20), KEY k_name (name)) ENGINE=InnoDB",
		"CREATE TABLE posts (id INT PRIMARY KEY, user_id INT, KEY k_user (user_id), CONSTRAINT fk_user FOREIGN KEY (user_id) REFERENCES users (id)) ENGINE=InnoDB",
		"INSERT INTO users (name) VALUES ('ann'), ('bob')",
		"INSERT INTO posts VALUES (1, 1), (2, 2)",
	} {
		if _, err := src.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "b.imb")
	if out, err := runCLI(t, "-q", "export", "--source", srcURL, "-o", path, "--param", "lock-wait=2"); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	dstURL, dst := testenv.MySQLDatabase(t, "cli_schema_dst")
	// A state schema of this test's own: another import running on the
	// same server at the same time keeps the default one (correctly).
	stateSchema := testenv.Name("cli_state")
	if out, err := runCLI(t, "-q", "import", path, "--target", dstURL, "--param", "state-schema="+stateSchema); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	var tables string
	if err := dst.QueryRow("SELECT GROUP_CONCAT(TABLE_NAME ORDER BY TABLE_NAME) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()").Scan(&tables); err != nil || tables != "posts,users" {
		t.Errorf("target tables after the import: %q (%v), want posts,users", tables, err)
	}
	// The state schema holds only the last-applied record (SPEC.md §14.3).
	t.Cleanup(func() { dst.Exec("DROP DATABASE IF EXISTS `" + stateSchema + "`") })
	if left := queryStrings(t, dst, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '"+stateSchema+"'"); strings.Join(left, ",") != "applied" {
		t.Errorf("the state schema %s holds %v after the import, want only applied", stateSchema, left)
	}
	out, err := runCLI(t, "-q", "import", path, "--target", dstURL)
	if err != nil || !strings.Contains(out, "already imported") {
		t.Errorf("second import of the same bundle: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "verify", path, "--against", dstURL); err != nil {
		t.Fatalf("verify --against right after the import: %v\n%s", err, out)
	}

	if _, err := dst.Exec("ALTER TABLE posts DROP FOREIGN KEY fk_user"); err != nil {
		t.Fatal(err)
	}
	// The target no longer equals the bundle: a second import is refused.
	if out, err := runCLI(t, "-q", "import", path, "--target", dstURL); err == nil || !strings.Contains(err.Error(), "--mode replace") {
		t.Errorf("import into a drifted target: %v\n%s", err, out)
	}
	out, err = runCLI(t, "verify", path, "--against", dstURL)
	if code := exitCodeOf(err); code != exitMismatch {
		t.Fatalf("verify --against after dropping a foreign key: exit %d (%v), want %d\n%s", code, err, exitMismatch, out)
	}
	if !strings.Contains(out, "MISMATCH schema: table "+dstURL[strings.LastIndex(dstURL, "/")+1:]+".posts: constraint `fk_user` missing on the target") {
		t.Errorf("verify output does not name the dropped foreign key:\n%s", out)
	}
	if strings.Contains(out, "MISMATCH ") && strings.Count(out, "MISMATCH") != 1 {
		t.Errorf("rows reported as differing too:\n%s", out)
	}
}

// A column whose DEFAULT takes the next value of a sequence names the
// sequence's database; imported into a database of another name, the
// import renames it (the sequence is the target's), and verify --against
// maps it back as it maps a foreign key's. Before, verify reported the
// renamed qualifier as schema drift, exit 3, after a clean import (found
// by the import fault harness run on sakila's invoice table).
func TestVerifyAgainstARenamedDatabaseWithASequenceDefault(t *testing.T) {
	srcURL, src := testenv.MySQLDatabase(t, "cli_seq_src")
	mustExecAll(t, src,
		"CREATE SEQUENCE invoice_seq",
		"CREATE TABLE invoice (id BIGINT NOT NULL DEFAULT nextval(invoice_seq) PRIMARY KEY, v INT)",
		"INSERT INTO invoice (v) VALUES (1), (2)")
	path := filepath.Join(t.TempDir(), "seq.imb")
	if out, err := runCLI(t, "-q", "export", "--source", srcURL, "-o", path); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	dstURL, _ := testenv.MySQLDatabase(t, "cli_seq_dst")
	if out, err := runCLI(t, "-q", "import", path, "--target", dstURL); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "verify", path, "--against", dstURL); err != nil {
		t.Fatalf("verify --against a renamed database: %v\n%s", err, out)
	}
}
