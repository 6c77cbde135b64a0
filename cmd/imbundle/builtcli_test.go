package main

import (
	"bytes"
	"context"
	"database/sql"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/imbundle/imbundle/internal/redistype"
	"github.com/imbundle/imbundle/internal/testenv"
)

// builtCLI builds the imbundle binary for the tests that run it as a
// process: the ones that kill it, pipe it or read what ps would show.
func builtCLI(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "imbundle")
	if b, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return bin
}

// killConnectionsTo kills, from db, every connection whose current
// database is name (the server is shared with other tests: only those),
// and says how many it killed.
func killConnectionsTo(t *testing.T, db *sql.DB, name string) int {
	t.Helper()
	rows, err := db.Query("SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()", name)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for rows.Next() {
		var id string
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	killed := 0
	for _, id := range ids {
		if _, err := db.Exec("KILL CONNECTION " + id); err == nil {
			killed++
		}
	}
	return killed
}

// bigBundle exports bigDatabase with the built binary, in 8 MiB parts.
func bigBundle(t *testing.T, bin string) string {
	t.Helper()
	src := bigDatabase(t)
	path := filepath.Join(t.TempDir(), "big.imb")
	if b, err := exec.Command(bin, "export", "-q", "--source", src, "-o", path, "--part-size", "8").CombinedOutput(); err != nil {
		t.Fatalf("export: %v\n%s", err, b)
	}
	return path
}

// runningImport is an import of the built binary into a fresh MySQL
// database, one part at a time, for tests that interrupt it.
type runningImport struct {
	target, dbName string
	db             *sql.DB
	args           []string
	cmd            *exec.Cmd
	stderr         bytes.Buffer
	exited         chan struct{}
}

func startImport(t *testing.T, bin, path, name string) *runningImport {
	t.Helper()
	ri := &runningImport{exited: make(chan struct{})}
	ri.target, ri.db = testenv.MySQLDatabase(t, name)
	ri.dbName = ri.target[strings.LastIndex(ri.target, "/")+1:]
	ri.args = []string{"import", "-q", path, "--target", ri.target, "-j", "1"}
	ri.cmd = exec.Command(bin, ri.args...)
	ri.cmd.Stderr = &ri.stderr
	if err := ri.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { ri.cmd.Wait(); close(ri.exited) }()
	return ri
}

// committed reports whether a part is committed: the import's resume
// state lives in the imbundle schema while it runs.
func (ri *runningImport) committed() bool {
	loaded := 0
	ri.db.QueryRow("SELECT COUNT(*) FROM imbundle.progress WHERE db = ? AND `rows` > 0", ri.dbName).Scan(&loaded)
	return loaded > 0
}

// userKeys is a Redis database's DBSIZE without imbundle's last-applied
// record, which a finished import leaves by design (SPEC.md §14.3).
func userKeys(ctx context.Context, c *redis.Client) int64 {
	return c.DBSize(ctx).Val() - c.Exists(ctx, redistype.AppliedKey).Val()
}
