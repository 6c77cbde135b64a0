package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imbundle/imbundle/convert"
)

// TestProfiles: every shipped profile parses; profiles lists them and show
// prints one; --profile applies it as --map FILE would (a copy edited and
// used with --map gives the same plan), and the two together are refused.
func TestProfiles(t *testing.T) {
	list := convert.Profiles()
	if len(list) == 0 {
		t.Fatal("no profile shipped")
	}
	for _, p := range list {
		if _, err := convert.LoadProfile(p.Name); err != nil {
			t.Errorf("profile %s: %v", p.Name, err)
		}
		if p.Summary == "" {
			t.Errorf("profile %s has no leading comment", p.Name)
		}
	}
	out, err := runCLI(t, "profiles")
	if err != nil || !strings.Contains(out, "example-mysql-to-mongodb") {
		t.Fatalf("profiles: %v\n%s", err, out)
	}
	shown, err := runCLI(t, "profiles", "show", "example-mysql-to-mongodb")
	if err != nil || !strings.Contains(shown, "version: 1") {
		t.Fatalf("profiles show: %v\n%s", err, shown)
	}
	if _, err := runCLI(t, "profiles", "show", "nope"); exitCodeOf(err) != exitUsage || !strings.Contains(err.Error(), "example-mysql-to-mongodb") {
		t.Errorf("an unknown profile: exit %d %v", exitCodeOf(err), err)
	}

	srcURL, path := exportedMySQL(t, "pf_src", []string{
		"CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR(20), password_hash VARBINARY(32), deleted_at DATETIME)",
		"INSERT INTO users VALUES (1, 'ann', x'00', NULL)",
	})
	dir := t.TempDir()
	db := srcURL[strings.LastIndexByte(srcURL, '/')+1:]
	// The copy a user makes of the profile, edited to their database.
	mine := filepath.Join(dir, "mine.yaml")
	os.WriteFile(mine, []byte(strings.ReplaceAll(shown, "example_app.", db+".")), 0o644)
	out, err = runCLI(t, "plan", path, "--target", "mongodb://127.0.0.1:1/x", "--map", mine)
	if err != nil || !strings.Contains(out, "-> collection "+db+".people") || !strings.Contains(out, "name becomes nickname") || !strings.Contains(out, "password_hash left out") {
		t.Errorf("plan with the edited profile: %v\n%s", err, out)
	}
	// As shipped, it matches example_app only: this database goes by the default mapping.
	out, err = runCLI(t, "plan", path, "--target", "mongodb://127.0.0.1:1/x", "--profile", "example-mysql-to-mongodb")
	if err != nil || !strings.Contains(out, "-> collection "+db+".users") {
		t.Errorf("plan with the profile as shipped: %v\n%s", err, out)
	}
	if _, err := runCLI(t, "plan", path, "--target", "mongodb://127.0.0.1:1/x", "--profile", "example-mysql-to-mongodb", "--map", mine); exitCodeOf(err) != exitUsage {
		t.Errorf("--profile with --map: exit %d %v, want %d", exitCodeOf(err), err, exitUsage)
	}
}
