package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/internal/testenv"
)

// Exit codes and leftovers, through the same commands users run, against
// the real servers (README.md, "Exit codes").

func runCLIContext(t *testing.T, ctx context.Context, args ...string) (string, error) {
	t.Helper()
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return out.String(), err
}

func redisURL(db int) string { return fmt.Sprintf("redis://%s/%d", testenv.RedisAddr(), db) }

func TestUsageMistakesExit2(t *testing.T) {
	path := cliBundle(t)
	out := filepath.Join(t.TempDir(), "x.imb")
	my := "mysql://root@127.0.0.1:3306/nodb"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"export", "--nope"}, "unknown flag: --nope"},
		{[]string{"export", "-j", "abc", "--source", my, "-o", out}, `invalid argument "abc" for "-j, --jobs"`},
		{[]string{"export", "-j", "0", "--source", my, "-o", out}, "--jobs 0: want 1 or more"},
		{[]string{"export", "--part-size", "0", "--source", my, "-o", out}, "--part-size 0: want 1 or more"},
		{[]string{"export", "extra", "--source", my, "-o", out}, `unknown command "extra"`},
		{[]string{"export", "--source", my}, "need at least one --source URL and -o FILE"},
		{[]string{"export", "--source", "postgres://u:pw1234@h/db", "-o", out}, `unknown scheme "postgres"`},
		{[]string{"export", "--source", my, "-o", out, "--param", "reader=2"}, "--param reader: unknown key for mysql; valid: mysql: discover-relations, history, lock-wait, readers, relations, users"},
		{[]string{"export", "--source", my, "--source", redisURL(9), "-o", out, "--param", "sort=_id"}, "--param sort: unknown key for mysql or redis; valid: mysql: "},
		{[]string{"export", "--source", my, "-o", out, "--db", "0"}, "--db does not apply to mysql"},
		{[]string{"export", "--source", my, "-o", out, "--param", "discover-relations=maybe"}, `--param discover-relations="maybe": want true or false`},
		{[]string{"import", path}, "need --target URL"},
		{[]string{"import", path, "--target", redisURL(9), "--max-rejects", "-2"}, "--max-rejects -2: want a count, or -1 for no limit"},
		{[]string{"import", path, "--target", redisURL(9), "--mode", "merge"}, `--mode "merge": want fail, append or replace`},
		{[]string{"import", path, "--target", redisURL(9), "--ttl", "forever"}, `--param ttl="forever": want absolute or relative`},
		{[]string{"import", path, "--target", redisURL(9), "--param", "load=insert"}, "--param load: unknown key for redis; valid: redis: batch, connections, elements, functions, key-prefix, ttl"},
		{[]string{"import", path, "--target", my, "--key-prefix", "a"}, "--key-prefix does not apply to mysql"},
		{[]string{"verify"}, "requires at least 1 arg(s), only received 0"},
		{[]string{"verify", path, "--against", redisURL(9), "--param", "readers=2"}, "--param readers: unknown key for redis; valid: redis: batch, connections, db"},
		{[]string{"inspect", path, "--log-format", "xml"}, `--log-format "xml": want auto, text or json`},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"fixtures", "postgres"}, `unknown command "postgres"`},
		{[]string{"verify", path, "--param", "sort=_id"}, "apply to verify --against only"},
	} {
		outText, err := runCLI(t, tc.args...)
		if code := exitCode(err); code != exitUsage || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: exit %d, %v\nwant exit 2 and %q", tc.args, code, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error()+outText, "pw1234") {
			t.Errorf("%v: the password leaked: %v", tc.args, err)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("a refused command wrote %s", out)
	}
}

func TestHelpListsEachEnginesParams(t *testing.T) {
	for cmd, want := range map[string][]string{
		"export": {"mysql (mysql://, mariadb://)", "readers", "discover-relations", "mongodb (mongodb://, mongodb+srv://)", "cursor-batch", "redis (redis://, rediss://)", "scan-count", "--allow-empty", "--temp-dir"},
		"import": {"mysql (mysql://, mariadb://)", "defer-indexes", "ttl-indexes", "insert-workers", "elements", "--max-rejects"},
		"verify": {"ttl-tolerance", "sort"},
	} {
		out, err := runCLI(t, cmd, "--help")
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("%s --help lacks %q:\n%s", cmd, w, out)
			}
		}
	}
}

// The bundle holds MySQL tables only: a Redis target takes none of them.
// That is an error, after connecting: a wrong password says so first.
func TestImportThatLoadsNothingFails(t *testing.T) {
	path := cliBundle(t)
	testenv.Redis(t, 9)
	_, err := runCLI(t, "import", path, "--target", redisURL(9))
	if code := exitCode(err); code != exitRefused || !strings.Contains(err.Error(), "takes none of the 2 dataset(s)") ||
		!strings.Contains(err.Error(), "openim.users (mysql table)") || !strings.Contains(err.Error(), "nothing was written") {
		t.Fatalf("exit %d: %v", code, err)
	}
	wrong := fmt.Sprintf("redis://:pw5678@%s/9", testenv.RedisAddr())
	_, err = runCLI(t, "import", path, "--target", wrong)
	if code := exitCode(err); code != exitError || !strings.Contains(err.Error(), "authenticate") || strings.Contains(err.Error(), "pw5678") {
		t.Fatalf("wrong password: exit %d: %v", code, err)
	}
	// --datasets naming one the target takes is the way out; naming one
	// it does not take is still nothing to load.
	_, err = runCLI(t, "import", path, "--target", redisURL(9), "--datasets", "openim.groups")
	if exitCode(err) != exitRefused || !strings.Contains(err.Error(), "takes none of the 1 dataset(s) asked for: openim.groups") {
		t.Fatalf("--datasets: %v", err)
	}
}

// An export that finds nothing read a mistyped database, most likely.
func TestExportOfNothingFailsUnlessAllowed(t *testing.T) {
	url, _ := testenv.MySQLDatabase(t, "cliempty")
	dir := t.TempDir()
	out := filepath.Join(dir, "empty.imb")
	_, err := runCLI(t, "export", "-q", "--source", url, "-o", out)
	if code := exitCode(err); code != exitUsage || !strings.Contains(err.Error(), "no dataset to export from "+exporter.Redact(url)) || !strings.Contains(err.Error(), "--allow-empty") {
		t.Fatalf("exit %d: %v", code, err)
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Fatalf("a failed export left %v", names)
	}
	if msg, err := runCLI(t, "export", "-q", "--source", url, "-o", out, "--allow-empty"); err != nil || !strings.Contains(msg, "0 datasets") {
		t.Fatalf("--allow-empty: %v\n%s", err, msg)
	}
	// The case: a MongoDB database name with a typo. With a good
	// source beside it, the export still fails, naming the empty one.
	good, db := testenv.MongoDatabase(t, "cligood")
	if _, err := db.Collection("users").InsertOne(context.Background(), map[string]any{"_id": 1}); err != nil {
		t.Fatal(err)
	}
	typo := testenv.MongoURI(t) + "cligood_no_such_db"
	out = filepath.Join(dir, "typo.imb")
	_, err = runCLI(t, "export", "-q", "--source", good, "--source", typo, "-o", out)
	if code := exitCode(err); code != exitUsage || !strings.Contains(err.Error(), `database "cligood_no_such_db" does not exist`) {
		t.Fatalf("mistyped MongoDB database: exit %d: %v", code, err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("the failed export wrote %s", out)
	}
	// The same typo in a MySQL URL: the server's unknown database, exit 2.
	_, err = runCLI(t, "export", "-q", "--source", url+"_no_such_db", "-o", out)
	if code := exitCode(err); code != exitUsage || !strings.Contains(err.Error(), "Unknown database") || !strings.Contains(err.Error(), "SHOW DATABASES") {
		t.Fatalf("mistyped MySQL database: exit %d: %v", code, err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("the failed export wrote %s", out)
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// bigDatabase holds two tables of about 25 MB each: an export of it takes
// long enough to be interrupted while parts are staged.
func bigDatabase(t *testing.T) string {
	url, db := testenv.MySQLDatabase(t, "clibig")
	for _, tbl := range []string{"a", "b"} {
		mustExec(t, db, "CREATE TABLE "+tbl+" (id INT PRIMARY KEY, v TEXT)")
		mustExec(t, db, "INSERT INTO "+tbl+" SELECT seq, CONCAT(MD5(seq), MD5(seq+1), MD5(seq+2), SHA1(seq)) FROM seq_1_to_200000")
	}
	return url
}

func mustExec(t *testing.T, db *sql.DB, q string) {
	t.Helper()
	if _, err := db.Exec(q); err != nil {
		t.Fatal(err)
	}
}

// waitStaged returns once the export to out has a part staged: it is
// reading, writing and compressing.
func waitStaged(t *testing.T, out string, exited <-chan struct{}) {
	t.Helper()
	for {
		if staged, _ := bundle.StagedFiles(out, ""); len(staged) > 0 {
			return
		}
		select {
		case <-exited:
			t.Fatal("the export ended before a part was staged")
		case <-time.After(time.Millisecond):
		}
	}
}

// Cancelling an export (what Ctrl-C does) leaves no partial bundle and no
// staging file.
func TestExportCancelledLeavesNothing(t *testing.T) {
	url := bigDatabase(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "big.imb")
	ctx, cancel := context.WithCancel(context.Background())
	exited := make(chan struct{})
	var err error
	go func() {
		defer close(exited)
		_, err = runCLIContext(t, ctx, "export", "-q", "--source", url, "-o", out, "-j", "2")
	}()
	waitStaged(t, out, exited)
	cancel()
	<-exited
	if err == nil || !strings.Contains(err.Error(), "no bundle written") {
		t.Fatalf("cancelled export: %v", err)
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Fatalf("a cancelled export left %v", names)
	}
}

// A real SIGINT and SIGTERM to the built binary: exit 130 and 143, say how
// to resume, leave nothing. Then a killed run's leftovers are removed by
// the next run, which succeeds.
func TestExportSignalsToTheBinary(t *testing.T) {
	bin := builtCLI(t)
	url := bigDatabase(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "big.imb")
	run := func(sig syscall.Signal) (int, string) {
		cmd := exec.Command(bin, "export", "-q", "--source", url, "-o", out, "-j", "2")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		waitStaged(t, out, exited)
		cmd.Process.Signal(sig)
		<-exited
		return cmd.ProcessState.ExitCode(), stderr.String()
	}
	for sig, want := range map[syscall.Signal]int{syscall.SIGINT: 130, syscall.SIGTERM: 143} {
		code, stderr := run(sig)
		if code != want || !strings.Contains(stderr, "interrupted by "+signalName(sig)) || !strings.Contains(stderr, "run the same command again") {
			t.Fatalf("%v: exit %d, want %d; stderr:\n%s", sig, code, want, stderr)
		}
		if names := dirNames(t, dir); len(names) != 0 {
			t.Fatalf("%v left %v", sig, names)
		}
	}
	// SIGKILL cannot be caught: the partial file and staged parts stay ...
	code, _ := run(syscall.SIGKILL)
	if code != -1 {
		t.Fatalf("SIGKILL: exit %d", code)
	}
	if staged, _ := bundle.StagedFiles(out, ""); len(staged) == 0 {
		t.Fatal("a killed export left no staged part: nothing to test")
	}
	// ... until the next run of the same export.
	if b, err := exec.Command(bin, "export", "-q", "--source", url, "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("re-run: %v\n%s", err, b)
	}
	if names := dirNames(t, dir); len(names) != 1 || names[0] != "big.imb" {
		t.Fatalf("after the re-run the directory holds %v", names)
	}
	if _, err := runCLI(t, "verify", out); err != nil {
		t.Fatal(err)
	}
}

// SIGINT during an import: exit 130, the parts committed so far stay, and
// the same command again resumes and ends equal to the bundle.
func TestImportSIGINTThenResume(t *testing.T) {
	bin := builtCLI(t)
	path := bigBundle(t, bin)
	verifyInterrupted(t, bin, path)
	ri := startImport(t, bin, path, "clisig")
	// Interrupt once a part is committed, and before the last one is.
	for !ri.committed() {
		select {
		case <-ri.exited:
			t.Fatalf("the import ended before it could be interrupted:\n%s", ri.stderr.String())
		case <-time.After(5 * time.Millisecond):
		}
	}
	ri.cmd.Process.Signal(syscall.SIGINT)
	<-ri.exited
	if code := ri.cmd.ProcessState.ExitCode(); code != 130 || !strings.Contains(ri.stderr.String(), "interrupted by SIGINT") || !strings.Contains(ri.stderr.String(), "run the same command again to resume") {
		t.Fatalf("exit %d; stderr:\n%s", code, ri.stderr.String())
	}
	out, err := exec.Command(bin, ri.args...).CombinedOutput()
	if err != nil || !regexpResumed.Match(out) {
		t.Fatalf("resume: %v\n%s", err, out)
	}
	t.Logf("resumed:\n%s", out)
	if out, err := exec.Command(bin, "verify", path, "--against", ri.target).CombinedOutput(); err != nil {
		t.Fatalf("verify after resume: %v\n%s", err, out)
	}
}

// regexpResumed matches an import report row with at least one part resumed.
var regexpResumed = regexp.MustCompile(`(?m)\s[1-9][0-9]*\s*$`)

// verifyInterrupted sends SIGINT to a deep verify once it reported its first
// part: exit 130, and no verdict.
func verifyInterrupted(t *testing.T, bin, path string) {
	t.Helper()
	cmd := exec.Command(bin, "verify", "--deep", "-j", "1", path)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	if !sc.Scan() {
		t.Fatalf("verify printed nothing: %s", stderr.String())
	}
	cmd.Process.Signal(syscall.SIGINT)
	var rest strings.Builder
	for sc.Scan() {
		rest.WriteString(sc.Text() + "\n")
	}
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 130 || !strings.Contains(stderr.String(), "interrupted by SIGINT: nothing was concluded") || strings.Contains(rest.String(), "OK:") {
		t.Fatalf("verify: exit %d\nstdout after the signal:\n%s\nstderr:\n%s", code, rest.String(), stderr.String())
	}
}

// An export onto a full disk fails saying what to do, and leaves nothing
// there. The disk is a 1 MiB tmpfs (root only).
func TestExportOnAFullDisk(t *testing.T) {
	url, db := testenv.MySQLDatabase(t, "clifull")
	mustExec(t, db, "CREATE TABLE t (id INT PRIMARY KEY, v TEXT)")
	mustExec(t, db, "INSERT INTO t SELECT seq, CONCAT(MD5(seq), SHA1(seq)) FROM seq_1_to_50000")
	full := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1M", "tmpfs", full).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", full).Run() })
	for _, staging := range []string{"beside the bundle", "in --temp-dir"} {
		args := []string{"export", "-q", "--source", url, "-o", filepath.Join(full, "t.imb")}
		temp := t.TempDir()
		if staging == "in --temp-dir" {
			args = append(args, "--temp-dir", temp)
		}
		_, err := runCLI(t, args...)
		if code := exitCode(err); code != exitError || !strings.Contains(err.Error(), "no space left on device") || !strings.Contains(err.Error(), "--temp-dir") {
			t.Fatalf("%s: exit %d: %v", staging, code, err)
		}
		if names := append(dirNames(t, full), dirNames(t, temp)...); len(names) != 0 {
			t.Fatalf("%s: the failed export left %v", staging, names)
		}
	}
}

// One --param list serves sources of several engines: each gets the keys
// its engine takes (before, strict engines would refuse the others').
func TestParamsSplitBetweenSourcesOfTwoEngines(t *testing.T) {
	url, db := testenv.MySQLDatabase(t, "clisplit")
	mustExec(t, db, "CREATE TABLE t (id INT PRIMARY KEY)")
	mustExec(t, db, "INSERT INTO t VALUES (1), (2)")
	r := testenv.Redis(t, 9)
	r.FlushDB(context.Background())
	r.Set(context.Background(), "k", "v", 0)
	out := filepath.Join(t.TempDir(), "two.imb")
	msg, err := runCLI(t, "export", "-q", "--source", url, "--source", redisURL(9), "-o", out,
		"--param", "readers=1", "--param", "scan-count=10", "--db", "9")
	// The table, the keyspace and its stream state.
	if err != nil || !strings.Contains(msg, "3 datasets, 3 rows") {
		t.Fatalf("%v\n%s", err, msg)
	}
}
