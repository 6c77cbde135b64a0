package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/testenv"
)

// The bundles under testdata/format-1.0 were written by imbundle in format
// 1.0 (commit 305d304, the last before format 2) from the fixtures, small:
//
//	imbundle fixtures mysql --target mysql://…/imb_v10_src --users 40 --groups 4 --messages 200
//	imbundle fixtures redis --target redis://…/14 --users 40 --groups 4 --messages 200 --big 300 --token-ttl-hours 200000
//	imbundle fixtures mongo --target mongodb://…/imb_v10_src --users 40 --groups 4 --messages 200
//
// each exported alone. They hold utf8/binary columns and microsecond times
// where format 2 writes large types and coarser units. A backup made by an
// earlier release must still restore: each is verified offline, imported
// into a fresh target and verified against it, through the CLI.
func TestFormat1BundlesRestore(t *testing.T) {
	dir := filepath.Join("testdata", "format-1.0")
	restore := func(t *testing.T, name, target string, verifyArgs ...string) {
		t.Helper()
		path := filepath.Join(dir, name)
		out, err := runCLI(t, "inspect", path)
		if err != nil || !strings.Contains(out, "format   imbundle 1.0") {
			t.Fatalf("inspect: %v\n%s", err, out)
		}
		if out, err := runCLI(t, "verify", path); err != nil {
			t.Fatalf("verify: %v\n%s", err, out)
		}
		importArgs := []string{"-q", "import", path, "--target", target}
		if strings.HasPrefix(target, "redis:") {
			importArgs = append(importArgs, "--ttl", "relative")
		}
		if out, err := runCLI(t, importArgs...); err != nil {
			t.Fatalf("import: %v\n%s", err, out)
		}
		out, err = runCLI(t, append([]string{"-q", "verify", path, "--against", target}, verifyArgs...)...)
		if err != nil || strings.Contains(out, "MISMATCH") {
			t.Fatalf("verify --against: %v\n%s", err, out)
		}
		t.Logf("%s", out)
	}
	t.Run("mysql", func(t *testing.T) {
		url, db := testenv.MySQLDatabase(t, "compat")
		restore(t, "mysql.imb", url)
		// A DATETIME(3) restored from microseconds keeps its milliseconds.
		var got string
		if err := db.QueryRow("SELECT MAX(send_time) FROM chat_logs WHERE send_time LIKE '%.___'").Scan(&got); err != nil || !strings.Contains(got, ".") {
			t.Fatalf("chat_logs.send_time: %q %v", got, err)
		}
	})
	t.Run("redis", func(t *testing.T) {
		c := testenv.Redis(t, 14)
		ctx := context.Background()
		if err := c.FlushDB(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.FlushDB(context.Background()) })
		// The edge keys' TTLs were an hour at export: restore them relative
		// to now (restore does), or they are past; the expiry times then
		// move by the bundle's age, which verify must tolerate (SPEC.md 8.7).
		r, err := bundle.Open(filepath.Join(dir, "redis.imb"))
		if err != nil {
			t.Fatal(err)
		}
		age := time.Since(r.Manifest().CreatedAt)
		r.Close()
		restore(t, "redis.imb", "redis://"+testenv.RedisAddr(), "--param", "ttl-tolerance="+(age+time.Minute).Round(time.Second).String())
		if n := c.DBSize(ctx).Val(); n < 700 {
			t.Fatalf("db 14 holds %d keys after the import", n)
		}
	})
	t.Run("mongo", func(t *testing.T) {
		url, _ := testenv.MongoDatabase(t, "compat")
		restore(t, "mongo.imb", url)
	})
}
