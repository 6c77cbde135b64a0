package main

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/imbundle/imbundle/internal/testenv"
)

// TestImportTargetRestarts: the target server goes down in the middle of
// an import (SIGKILL: a crash, an OOM kill) after some of the bundle was
// written, and comes back on the same port and data. The import must not
// say it finished: it stops (or, had it reconnected, ends whole), and the
// same command run again ends with the target holding exactly the bundle,
// verify --against green and the target read back independently equal to
// the source. The servers are second instances the test starts itself, so
// that killing them touches no other test.
func TestImportTargetRestarts(t *testing.T) {
	bin := builtCLI(t)
	t.Run("redis", func(t *testing.T) {
		// With an append-only file synced at every write, the keys the
		// server acknowledged survive, and the import marker with them:
		// the re-run resumes over a partial target. Without persistence
		// the server comes back empty, marker gone: the re-run is a new
		// import. Either way nothing may be missing at the end.
		for _, persist := range []bool{true, false} {
			name := map[bool]string{true: "appendonly", false: "empty"}[persist]
			t.Run(name, func(t *testing.T) { redisTargetRestart(t, bin, persist) })
		}
	})
	t.Run("mysql", func(t *testing.T) { mysqlTargetRestart(t, bin) })
}

// serverBinary finds a server's binary: a missing one skips the test, or
// fails it under CI=true, where every engine must be proved.
func serverBinary(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		testenv.Unavailable(t, name+" (to start a second server instance)", err)
	}
	return p
}

// freePort is a loopback TCP port nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// serverProcess is a database server the test runs in the foreground and
// kills, started again with the same arguments (same port, same data).
type serverProcess struct {
	t     *testing.T
	name  string
	args  []string
	log   string                         // the server's output, for failures
	ready func(wait time.Duration) error // answers once it serves
	cmd   *exec.Cmd
	done  chan struct{}
}

func (s *serverProcess) start() {
	s.t.Helper()
	logf, err := os.OpenFile(s.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		s.t.Fatal(err)
	}
	defer logf.Close()
	s.cmd = exec.Command(s.args[0], s.args[1:]...)
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start %s: %v", s.name, err)
	}
	s.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { cmd.Wait(); close(done) }(s.cmd, s.done)
	s.t.Cleanup(s.kill)
	if err := s.ready(60 * time.Second); err != nil {
		b, _ := os.ReadFile(s.log)
		s.t.Fatalf("%s does not answer: %v\n%s", s.name, err, lastLines(string(b), 20))
	}
}

// kill is SIGKILL, waiting until the process is gone (a no-op once it is).
func (s *serverProcess) kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

// poll calls f every 50 ms until it is true or wait has passed.
func poll(wait time.Duration, f func() error) error {
	end := time.Now().Add(wait)
	for {
		err := f()
		if err == nil || time.Now().After(end) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// restartSource is the Redis fixture of the restart test: database 10 of
// the test Redis (flushed), 60,000 strings and hashes of about 100 bytes,
// several 1 MiB parts.
const restartSourceDB = 10

func redisRestartBundle(t *testing.T, bin string) string {
	t.Helper()
	ctx := context.Background()
	c := testenv.Redis(t, restartSourceDB)
	if err := c.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.FlushDB(context.Background()) })
	p := c.Pipeline()
	for i := 0; i < 60000; i++ {
		k := fmt.Sprintf("k:%d", i)
		if i%5 == 0 {
			p.HSet(ctx, k, "a", strconv.Itoa(i), "b", strings.Repeat("y", 80))
		} else {
			p.Set(ctx, k, strings.Repeat(strconv.Itoa(i%10), 100), 0)
		}
	}
	if _, err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cache.imb")
	if r := runExport(t, bin, 0, "export", "-q", "-o", path, "--part-size", "1", "--source", "redis://"+testenv.RedisAddr(), "--db", strconv.Itoa(restartSourceDB)); r.code != 0 {
		t.Fatalf("export of the fixture: exit %d\n%s", r.code, r.stderr)
	}
	return path
}

func redisTargetRestart(t *testing.T, bin string, persist bool) {
	server := serverBinary(t, "redis-server")
	path := redisRestartBundle(t, bin)
	dir := t.TempDir()
	port := freePort(t)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	args := []string{server, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--daemonize", "no"}
	if persist {
		args = append(args, "--appendonly", "yes", "--appendfsync", "always")
	} else {
		args = append(args, "--appendonly", "no")
	}
	client := redis.NewClient(&redis.Options{Addr: addr, DB: restartSourceDB, MaxRetries: -1})
	t.Cleanup(func() { client.Close() })
	srv := &serverProcess{t: t, name: "redis-server on " + addr, args: args, log: filepath.Join(dir, "server.log"),
		ready: func(wait time.Duration) error {
			return poll(wait, func() error { return client.Ping(context.Background()).Err() })
		}}
	srv.start()

	// Small pipelines on one connection: many round trips, so that the
	// import is still writing when the server goes down.
	importArgs := []string{"import", "-q", path, "--target", "redis://" + addr, "-j", "1", "--param", "connections=1", "--param", "batch=200"}
	cmd := exec.Command(bin, importArgs...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	// Down once a good share of the keys is written (Redis keeps no
	// per-part progress: the keys are what was committed).
	var written int64
	for written < 15000 {
		select {
		case <-exited:
			t.Fatalf("the import ended (exit %d) before the server could be killed: %d keys written\n%s", cmd.ProcessState.ExitCode(), written, stderr.String())
		case <-time.After(5 * time.Millisecond):
		}
		written, _ = client.DBSize(context.Background()).Result()
	}
	srv.kill()
	srv.start()
	kept, _ := client.DBSize(context.Background()).Result()
	<-exited
	code := cmd.ProcessState.ExitCode()
	t.Logf("server killed after %d keys were written, %d there after the restart; the import exited %d:\n%s", written, kept, code, lastLines(stderr.String(), 5))
	if persist && kept < written {
		t.Errorf("appendfsync always lost acknowledged keys: %d before the kill, %d after", written, kept)
	}
	if code == 0 {
		// It must then have written every key, on the restarted server.
		t.Logf("the import finished across the restart")
	} else {
		if code != exitError || !strings.Contains(stderr.String(), "run the same command again") {
			t.Errorf("the import whose server went down: exit %d, want %d saying to run the same command again\n%s", code, exitError, stderr.String())
		}
		if persist && redisUnfinished(t, addr, []int{restartSourceDB}) == "" {
			t.Errorf("the restarted server holds %d keys of the import and no import marker: a re-run could not tell them from another's", kept)
		}
		r := runExport(t, bin, 0, importArgs...)
		if r.code != 0 {
			t.Fatalf("the re-run after the restart: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	}
	if out, err := exec.Command(bin, "verify", path, "--against", "redis://"+addr).CombinedOutput(); err != nil {
		t.Fatalf("verify --against after the restart: %v\n%s", err, out)
	}
	want := redisKeyStates(t, testenv.RedisAddr(), []int{restartSourceDB})
	if d := diffStates(redisKeyStates(t, addr, []int{restartSourceDB}), want); d != "" {
		t.Errorf("the target differs from the source: %s", d)
	}
	if u := redisUnfinished(t, addr, []int{restartSourceDB}); u != "" {
		t.Errorf("a finished import left %s", u)
	}
}

func mysqlTargetRestart(t *testing.T, bin string) {
	install := serverBinary(t, "mariadb-install-db")
	server := serverBinary(t, "mariadbd")
	srcURL := resumeMySQLSource(t)
	_, srcDB := testenv.MySQLDatabase(t, "clisrc") // a handle on the shared server
	path := filepath.Join(t.TempDir(), "site.imb")
	if r := runExport(t, bin, 0, "export", "-q", "-o", path, "--part-size", "1", "--source", srcURL); r.code != 0 {
		t.Fatalf("export of the fixture: exit %d\n%s", r.code, r.stderr)
	}
	want := mysqlTableStates(t, srcDB, testDBName(srcURL))

	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if out, err := exec.Command(install, "--no-defaults", "--datadir="+data, "--auth-root-authentication-method=normal", "--user=root", "--skip-test-db").CombinedOutput(); err != nil {
		t.Fatalf("mariadb-install-db: %v\n%s", err, lastLines(string(out), 20))
	}
	port := freePort(t)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	admin, err := sql.Open("mysql", "root@tcp("+addr+")/?timeout=2s")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	srv := &serverProcess{t: t, name: "mariadbd on " + addr, log: filepath.Join(dir, "server.log"),
		args: []string{server, "--no-defaults", "--datadir=" + data, "--socket=" + filepath.Join(dir, "s"), "--port=" + strconv.Itoa(port),
			"--bind-address=127.0.0.1", "--user=root", "--skip-name-resolve", "--skip-log-bin", "--innodb-buffer-pool-size=64M",
			"--pid-file=" + filepath.Join(dir, "pid"), "--log-error=" + filepath.Join(dir, "server.log")},
		ready: func(wait time.Duration) error {
			return poll(wait, func() error { return admin.Ping() })
		}}
	srv.start()

	const name = "restarted"
	target := "mysql://root@" + addr + "/" + name
	importArgs := []string{"import", "-q", path, "--target", target, "-j", "1"}
	cmd := exec.Command(bin, importArgs...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	committed := 0
	for committed == 0 {
		select {
		case <-exited:
			t.Fatalf("the import ended (exit %d) before a part was committed and the server killed\n%s", cmd.ProcessState.ExitCode(), stderr.String())
		case <-time.After(5 * time.Millisecond):
		}
		admin.QueryRow("SELECT COUNT(*) FROM imbundle.progress WHERE db = ?", name).Scan(&committed)
	}
	srv.kill()
	srv.start() // InnoDB's crash recovery on the same datadir
	<-exited
	code := cmd.ProcessState.ExitCode()
	t.Logf("server killed after %d committed part(s); the import exited %d:\n%s", committed, code, lastLines(stderr.String(), 5))
	if code != 0 {
		if code != exitError || !strings.Contains(stderr.String(), "run the same command again to resume") {
			t.Errorf("the import whose server went down: exit %d, want %d saying to run the same command again\n%s", code, exitError, stderr.String())
		}
		r := runExport(t, bin, 0, importArgs...)
		if r.code != 0 || !regexpResumed.MatchString(r.stdout) {
			t.Fatalf("the re-run after the restart: exit %d, want 0 and parts resumed\n%s%s", r.code, r.stdout, r.stderr)
		}
	}
	if out, err := exec.Command(bin, "verify", path, "--against", target).CombinedOutput(); err != nil {
		t.Fatalf("verify --against after the restart: %v\n%s", err, out)
	}
	if d := diffStates(mysqlTableStates(t, admin, name), want); d != "" {
		t.Errorf("the target differs from the source: %s", d)
	}
	if u := mysqlUnfinished(t, admin, name); u != "" {
		t.Errorf("a finished import left %s", u)
	}
}
