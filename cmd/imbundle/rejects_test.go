package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/imbundle/imbundle/internal/testenv"
)

// zsetBundle exports 20 sorted sets from Redis db 9, then makes each a
// string in db 10: importing the bundle there with --mode append has Redis
// refuse every ZADD (WRONGTYPE), 20 rejects.
func zsetBundle(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	src, dst := testenv.Redis(t, 9), testenv.Redis(t, 10)
	src.FlushDB(ctx)
	dst.FlushDB(ctx)
	for i := 0; i < 20; i++ {
		k := fmt.Sprintf("z%02d", i)
		if err := src.ZAdd(ctx, k, redis.Z{Score: 1.5, Member: "m"}).Err(); err != nil {
			t.Fatal(err)
		}
		if err := dst.Set(ctx, k, "a string where the bundle has a zset", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "z.imb")
	if out, err := runCLI(t, "export", "-q", "--source", redisURL(9), "--db", "9", "-o", path); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	return path
}

func lines(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	for s := bufio.NewScanner(f); s.Scan(); n++ {
	}
	return n
}

func TestRejects(t *testing.T) {
	path := zsetBundle(t)
	dir := t.TempDir()
	target := "redis://" + testenv.RedisAddr()
	args := func(rejects string, more ...string) []string {
		return append([]string{"import", "-q", path, "--target", target, "--db-map", "9:10", "--mode", "append", "-j", "1", "--rejects", rejects}, more...)
	}

	// All 20 refused: exit 4, each in the file with its reason.
	all := filepath.Join(dir, "all.jsonl")
	_, err := runCLI(t, args(all)...)
	if code := exitCode(err); code != exitRejects || !strings.Contains(err.Error(), "20 record(s) were refused") {
		t.Fatalf("exit %d: %v", code, err)
	}
	if b, _ := os.ReadFile(all); lines(t, all) != 20 || !strings.Contains(string(b), "WRONGTYPE") {
		t.Fatalf("reject file:\n%s", b)
	}

	// --max-rejects 5: stops once the sixth is refused, with that one kept.
	some := filepath.Join(dir, "some.jsonl")
	_, err = runCLI(t, args(some, "--max-rejects", "5")...)
	if code := exitCode(err); code != exitError || !strings.Contains(err.Error(), "more than 5 (--max-rejects)") || !strings.Contains(err.Error(), some) {
		t.Fatalf("--max-rejects: exit %d: %v", code, err)
	}
	if n := lines(t, some); n < 6 || n >= 20 {
		t.Fatalf("--max-rejects 5: %d rejects written, want the 6 that stopped it (a pipeline round may hold a few more)", n)
	}

	// A reject file that cannot be opened fails the import.
	_, err = runCLI(t, args(filepath.Join(dir, "no-such-dir", "r.jsonl"))...)
	if code := exitCode(err); code != exitError || !strings.Contains(err.Error(), "open reject file") {
		t.Fatalf("unwritable reject file: exit %d: %v", code, err)
	}
}

// A reject file on a full disk fails the import, naming the file.
func TestRejectsOnAFullDisk(t *testing.T) {
	path := zsetBundle(t)
	full := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=4k", "tmpfs", full).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", full).Run() })
	if err := os.WriteFile(filepath.Join(full, "filler"), make([]byte, 4096), 0o644); err != nil {
		t.Fatal(err)
	}
	rej := filepath.Join(full, "r.jsonl")
	_, err := runCLI(t, "import", "-q", path, "--target", "redis://"+testenv.RedisAddr(), "--db-map", "9:10", "--mode", "append", "--rejects", rej)
	if code := exitCode(err); code != exitError || !strings.Contains(err.Error(), "write reject file "+rej) || !strings.Contains(err.Error(), "no space left on device") {
		t.Fatalf("exit %d: %v", code, err)
	}
}
