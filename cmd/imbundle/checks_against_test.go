package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imbundle/imbundle/internal/testenv"
)

// TestChecksAgainstTargets: verify --against with a mapping that has
// checks runs them on each database too, by the bundle's dataset names:
// a dirty source's one-way friendship and ownerless group are found in
// the bundle, in the MySQL copy and in the MongoDB copy of it alike;
// --strict makes them exit 3 though every dataset matches, and a
// violation added on the target alone is found there.
func TestChecksAgainstTargets(t *testing.T) {
	_, path := exportedMySQL(t, "chk_src", []string{
		"CREATE TABLE friends (owner_user_id VARCHAR(16), friend_user_id VARCHAR(16), PRIMARY KEY (owner_user_id, friend_user_id))",
		"INSERT INTO friends VALUES ('a', 'b'), ('b', 'a'), ('a', 'c')", // a -> c has no c -> a
		"CREATE TABLE `groups` (group_id VARCHAR(16) PRIMARY KEY)",
		"INSERT INTO `groups` VALUES ('g1'), ('g2')",
		"CREATE TABLE group_members (group_id VARCHAR(16), user_id VARCHAR(16), role_level INT, PRIMARY KEY (group_id, user_id))",
		"INSERT INTO group_members VALUES ('g1', 'a', 100), ('g1', 'b', 20), ('g2', 'c', 20)", // g2 has no owner
	})
	checks := filepath.Join(t.TempDir(), "checks.yaml")
	os.WriteFile(checks, []byte(`version: 1
checks:
  - name: friendship-mirrored
    relation:
      from: "*.friends(owner_user_id, friend_user_id)"
      to: "*.friends(friend_user_id, owner_user_id)"
  - name: group-has-one-owner
    compare:
      left: "*.groups(group_id)"
      right: "*.group_members(group_id)"
      counts:
        owners: "role_level == 100"
      assert: "owners == 1"
`), 0o644)
	out, err := runCLI(t, "verify", path, "--map", checks)
	if err != nil || !strings.Contains(out, "check friendship-mirrored (relation): 3 rows, 1 VIOLATIONS") || !strings.Contains(out, "check group-has-one-owner (compare): 2 rows, 1 VIOLATIONS") {
		t.Fatalf("offline checks: %v\n%s", err, out)
	}

	mysqlURL, mdb := testenv.MySQLDatabase(t, "chk_dst")
	mongoURL, _ := testenv.MongoDatabase(t, "chk_dst")
	for _, target := range []string{mysqlURL, mongoURL} {
		if out, err := runCLI(t, "-q", "import", path, "--target", target); err != nil {
			t.Fatalf("import into %s: %v\n%s", target, err, out)
		}
		out, err := runCLI(t, "verify", path, "--against", target, "--map", checks)
		if err != nil || !strings.Contains(out, "OK: 3 dataset(s)") ||
			!strings.Contains(out, "check friendship-mirrored (relation) on ") || !strings.Contains(out, "3 rows, 1 VIOLATIONS, first: (\"a\", \"c\")") ||
			!strings.Contains(out, "check group-has-one-owner (compare) on ") {
			t.Errorf("verify --against %s with checks: %v\n%s", target, err, out)
		}
		if out, err := runCLI(t, "verify", path, "--against", target, "--map", checks, "--strict"); exitCodeOf(err) != exitMismatch || !strings.Contains(err.Error(), "found violations on ") {
			t.Errorf("--strict against %s: exit %d (%v), want %d\n%s", target, exitCodeOf(err), err, exitMismatch, out)
		}
	}
	// A check written for another layout (a field these documents lack)
	// reads nothing on the MongoDB copy: it is "not checked", never "0
	// rows, ok".
	other := filepath.Join(t.TempDir(), "other.yaml")
	os.WriteFile(other, []byte(`version: 1
checks:
  - name: remark-names-a-friend
    relation:
      from: "*.friends(remark)"
      to: "*.friends(owner_user_id)"
`), 0o644)
	out, err = runCLI(t, "verify", path, "--against", mongoURL, "--map", other)
	if err != nil || !strings.Contains(out, "check remark-names-a-friend (relation) on ") || !strings.Contains(out, ": not checked: no row of the datasets its globs match had a value") || strings.Contains(out, "0 rows, ok") {
		t.Errorf("a check of another layout on the MongoDB copy: %v\n%s", err, out)
	}

	// A violation on the target alone: the copy differs, and its checks say how.
	if _, err := mdb.Exec("INSERT INTO friends VALUES ('d', 'a')"); err != nil {
		t.Fatal(err)
	}
	out, err = runCLI(t, "verify", path, "--against", mysqlURL, "--map", checks)
	if exitCodeOf(err) != exitMismatch || !strings.Contains(out, "4 rows, 2 VIOLATIONS") {
		t.Errorf("verify after a one-way friendship on the target: exit %d (%v)\n%s", exitCodeOf(err), err, out)
	}
}
