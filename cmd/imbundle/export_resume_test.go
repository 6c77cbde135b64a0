package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/testenv"
	"github.com/imbundle/imbundle/spec"
)

// The export fault harness: the built binary exports a fixture of each
// engine, is SIGKILLed at seeded moments spread over an uninterrupted
// export's duration (and, every other round, killed again while it
// resumes), and is then run again with the same command, which must end
// with the digests and row counts of the uninterrupted export and leave
// nothing beside the bundle. IMBUNDLE_TEST_EXPORT_KILLS rounds per engine
// (default 20 under CI=true, else 5), moments drawn with
// IMBUNDLE_TEST_KILL_SEED (default 1): a failing round can be run again.

func exportKills(t *testing.T) (kills, seed int) {
	return killRounds(t, "IMBUNDLE_TEST_EXPORT_KILLS"), envCount(t, "IMBUNDLE_TEST_KILL_SEED", 1)
}

// killRounds is how many rounds a kill harness runs: the count in the
// environment variable name, else 20 under CI=true and 5 elsewhere.
func killRounds(t *testing.T, name string) int {
	def := 5
	if os.Getenv("CI") == "true" {
		def = 20
	}
	return envCount(t, name, def)
}

// envCount is the number in the environment variable name, else def.
func envCount(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		t.Fatalf("%s=%q: want a number", name, v)
	}
	return n
}

func TestExportResumesAfterSIGKILL(t *testing.T) {
	bin := builtCLI(t)
	kills, seed := exportKills(t)
	t.Run("mysql", func(t *testing.T) {
		url, db := resumeMySQLFixture(t)
		// A table of several 8 MiB record batches, so of several parts
		// that finish before it does: a kill while it is read leaves
		// parts a re-run keeps.
		mustExec(t, db, "CREATE TABLE long_t (id INT PRIMARY KEY, v TEXT)")
		mustExec(t, db, "INSERT INTO long_t SELECT seq, CONCAT(MD5(seq), SHA1(seq), MD5(seq), SHA1(seq)) FROM seq_1_to_150000")
		exportKillRounds(t, bin, []string{"--source", url}, kills, seed, true, true)
	})
	t.Run("mongodb", func(t *testing.T) {
		exportKillRounds(t, bin, []string{"--source", resumeMongoSource(t)}, kills, seed, true, false)
	})
	t.Run("redis", func(t *testing.T) {
		// Redis cannot tell whether a database changed (no snapshot, no
		// cheap summary): every resume exports each database again.
		exportKillRounds(t, bin, append([]string{"--source", "redis://" + testenv.RedisAddr()}, resumeRedisSource(t)...), kills, seed, false, false)
	})
}

// resumeMySQLSource: five keyed tables of about 2.5 MiB (several 1 MiB
// parts each), one with a composite key, and one without a primary key
// holding duplicate rows.
func resumeMySQLSource(t *testing.T) string {
	url, _ := resumeMySQLFixture(t)
	return url
}

func resumeMySQLFixture(t *testing.T) (string, *sql.DB) {
	url, db := testenv.MySQLDatabase(t, "clires")
	for i := 1; i <= 4; i++ {
		tbl := "t" + strconv.Itoa(i)
		mustExec(t, db, "CREATE TABLE "+tbl+" (id INT PRIMARY KEY, v TEXT)")
		mustExec(t, db, "INSERT INTO "+tbl+" SELECT seq, CONCAT(MD5(seq), SHA1(seq), MD5(seq+"+strconv.Itoa(i)+")) FROM seq_1_to_25000")
	}
	mustExec(t, db, "CREATE TABLE pair (a INT, b VARCHAR(8), v TEXT, PRIMARY KEY (a, b))")
	mustExec(t, db, "INSERT INTO pair SELECT seq DIV 3, CONCAT('k', seq MOD 3), SHA1(seq) FROM seq_1_to_30000")
	mustExec(t, db, "CREATE TABLE nopk (a INT, v VARCHAR(64))")
	mustExec(t, db, "INSERT INTO nopk SELECT seq MOD 500, MD5(seq MOD 500) FROM seq_1_to_30000")
	mustExec(t, db, "INSERT INTO nopk VALUES (NULL, NULL), (NULL, NULL), (1, NULL)")
	return url, db
}

// resumeMongoSource: four collections of 1,000 documents (FerretDB reads
// slowly: this keeps a round to a few seconds).
func resumeMongoSource(t *testing.T) string {
	url, db := testenv.MongoDatabase(t, "clires")
	ctx := context.Background()
	for c := 1; c <= 4; c++ {
		docs := make([]any, 0, 1000)
		for i := 0; i < 1000; i++ {
			docs = append(docs, bson.D{{Key: "_id", Value: i}, {Key: "n", Value: i * c}, {Key: "v", Value: strings.Repeat(strconv.Itoa(i), 20)}})
		}
		if _, err := db.Collection("c"+strconv.Itoa(c)).InsertMany(ctx, docs); err != nil {
			t.Fatal(err)
		}
	}
	return url
}

// resumeRedisSource fills logical databases 1 to 4 (flushed first) and
// returns the flags that select them.
func resumeRedisSource(t *testing.T) []string {
	ctx := context.Background()
	for db := 1; db <= 4; db++ {
		c := testenv.Redis(t, db)
		if err := c.FlushDB(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.FlushDB(context.Background()) })
		p := c.Pipeline()
		for i := 0; i < 8000; i++ {
			k := fmt.Sprintf("k:%d:%d", db, i)
			if i%4 == 0 {
				p.HSet(ctx, k, "a", strconv.Itoa(i), "b", strings.Repeat("x", i%50))
			} else {
				p.Set(ctx, k, strings.Repeat(strconv.Itoa(i), 10), 0)
			}
		}
		if _, err := p.Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return []string{"--db", "1,2,3,4"}
}

// bundleSummary is each dataset's digest and row count, every part
// verified.
func bundleSummary(t *testing.T, path string) map[string]string {
	t.Helper()
	r, err := bundle.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer r.Close()
	var parts []spec.Part
	out := map[string]string{}
	for _, ds := range r.Manifest().Datasets {
		parts = append(parts, ds.Parts...)
		out[ds.Name] = fmt.Sprintf("digest %s:%s, %d rows", ds.Digest.Algorithm, ds.Digest.Sum, ds.Rows)
	}
	if err := bundle.VerifyAll(context.Background(), r, parts, 2, nil); err != nil {
		t.Fatalf("verify %s: %v", path, err)
	}
	return out
}

type exportRun struct {
	code           int
	killed         bool
	stdout, stderr string
	took           time.Duration
}

// runExport runs bin with args (an export, or an import: any command),
// SIGKILLed after delay if it is still running then (0: never).
func runExport(t *testing.T, bin string, delay time.Duration, args ...string) exportRun {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var r exportRun
	var err error
	guard := time.After(2 * time.Minute) // a hang guard, no threshold
	var kill <-chan time.Time
	if delay > 0 {
		kill = time.After(delay)
	}
	select {
	case err = <-done:
	case <-kill:
		cmd.Process.Kill()
		err = <-done
		r.killed = true
	case <-guard:
		cmd.Process.Kill()
		<-done
		t.Fatalf("imbundle %s: still running after 2 minutes\n%s", strings.Join(args, " "), stderr.String())
	}
	r.took, r.stdout, r.stderr = time.Since(start), stdout.String(), stderr.String()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.code = ee.ExitCode()
		if r.killed && r.code != -1 {
			r.killed = false // it had ended on its own first
		}
	} else if r.killed {
		r.killed = false
	}
	return r
}

// keeps: the engine can keep finished datasets; continues: it can keep the
// finished parts of a dataset the killed run was reading (MySQL).
func exportKillRounds(t *testing.T, bin string, source []string, kills, seed int, keeps, continues bool) {
	dir := t.TempDir()
	out := filepath.Join(dir, "site.imb")
	args := append([]string{"export", "-o", out, "--part-size", "1", "-j", "2", "-q", "--log-level", "info", "--log-format", "json"}, source...)
	ref := runExport(t, bin, 0, args...)
	if ref.code != 0 {
		t.Fatalf("uninterrupted export: exit %d\n%s", ref.code, ref.stderr)
	}
	want := bundleSummary(t, out)
	if len(want) < 4 {
		t.Fatalf("the fixture exports %d datasets; the harness needs several", len(want))
	}
	os.Remove(out)
	// The first run pays for cold caches: the kill moments are drawn
	// within the faster of it and a second one.
	span := ref.took
	if again := runExport(t, bin, 0, args...); again.code == 0 {
		span = min(span, again.took)
	}
	os.Remove(out)
	rng := rand.New(rand.NewSource(int64(seed)))
	interrupted, resumedWithKept, resumedWithParts := 0, 0, 0
	for i := 1; i <= kills; i++ {
		delays := []time.Duration{time.Duration(rng.Int63n(int64(span)) + 1)}
		if i%2 == 0 {
			delays = append(delays, time.Duration(rng.Int63n(int64(span))+1))
		}
		var log []string
		var r exportRun
		for _, d := range delays {
			r = runExport(t, bin, d, args...)
			log = append(log, fmt.Sprintf("SIGKILL at %s: killed %v, exit %d", d, r.killed, r.code))
			if !r.killed {
				break // it ended first; it must have ended right
			}
			if _, err := os.Stat(out); err == nil {
				// The kill came after the bundle was complete (renamed
				// into place) and before the process exited: then it must
				// be a whole bundle, which the checks below compare.
				rb, err := bundle.Open(out)
				if err != nil {
					t.Fatalf("round %d (seed %d): a killed export left %s, which looks finished and does not open: %v", i, seed, out, err)
				}
				rb.Close()
				r.killed, r.code = false, 0
				break
			}
			interrupted++
		}
		if r.killed {
			r = runExport(t, bin, 0, args...)
		}
		if r.code != 0 {
			t.Fatalf("round %d (seed %d; %s): the re-run exited %d\n%s", i, seed, strings.Join(log, "; "), r.code, r.stderr)
		}
		if keptDatasets(r.stderr) > 0 {
			resumedWithKept++
		}
		if len(keptParts(r.stderr)) > 0 {
			resumedWithParts++
		}
		got := bundleSummary(t, out)
		for name, w := range want {
			if got[name] != w {
				t.Errorf("round %d (seed %d; %s): %s: resumed %q, uninterrupted %q\n%s", i, seed, strings.Join(log, "; "), name, got[name], w, r.stderr)
			}
		}
		if len(got) != len(want) {
			t.Errorf("round %d: %d datasets, uninterrupted %d", i, len(got), len(want))
		}
		if names := dirNames(t, dir); len(names) != 1 || names[0] != "site.imb" {
			sort.Strings(names)
			t.Fatalf("round %d: after the re-run the directory holds %v", i, names)
		}
		os.Remove(out)
	}
	t.Logf("%d rounds, %d SIGKILLs interrupted an export (of about %s); %d re-runs kept finished datasets, %d kept parts of unfinished ones", kills, interrupted, span, resumedWithKept, resumedWithParts)
	if keeps && kills >= 10 && resumedWithKept == 0 {
		t.Errorf("no re-run kept a dataset: the harness never exercised a resume")
	}
	if !keeps && resumedWithKept > 0 {
		t.Errorf("%d re-runs kept datasets of an engine that cannot tell whether they changed", resumedWithKept)
	}
	if continues && kills >= 10 && resumedWithParts == 0 {
		t.Errorf("no re-run kept parts of an unfinished dataset: the harness never exercised a resume by part")
	}
	if !continues && resumedWithParts > 0 {
		t.Errorf("%d re-runs kept parts of an unfinished dataset of an engine that cannot continue one", resumedWithParts)
	}
}

// keptParts is, by dataset, how many parts of an unfinished dataset a
// resumed export's log says it kept ("resume: kept N parts of dataset
// X, reading after key K").
func keptParts(stderr string) map[string]int {
	out := map[string]int{}
	for _, l := range strings.Split(stderr, "\n") {
		if !strings.Contains(l, `"msg":"resume: kept `) || !strings.Contains(l, " parts of dataset ") {
			continue
		}
		var rec struct {
			Dataset string
			Parts   int
		}
		if err := json.Unmarshal([]byte(l), &rec); err == nil {
			out[rec.Dataset] = rec.Parts
		}
	}
	return out
}

// journalLines counts the journal's dataset lines and, by the object
// named, its part lines (of datasets not yet finished).
func journalLines(out string) (datasets int, parts map[string]int) {
	parts = map[string]int{}
	b, _ := os.ReadFile(bundle.JournalPath(out))
	lines := strings.Split(string(b), "\n")
	if len(lines) < 2 {
		return 0, parts
	}
	for _, l := range lines[1 : len(lines)-1] { // the header; a line cut short
		var rec struct {
			PartOf *struct{ Object string } `json:"part_of"`
		}
		if json.Unmarshal([]byte(l), &rec) != nil {
			continue
		}
		if rec.PartOf != nil {
			parts[rec.PartOf.Object]++
		} else {
			datasets++
		}
	}
	return datasets, parts
}

// keptDatasets is how many datasets a resumed export's log says it kept.
func keptDatasets(stderr string) int {
	for _, l := range strings.Split(stderr, "\n") {
		if !strings.Contains(l, `"msg":"resume: kept the datasets`) {
			continue
		}
		var rec struct{ Kept int }
		if err := json.Unmarshal([]byte(l), &rec); err == nil {
			return rec.Kept
		}
	}
	return 0
}

// killWhenJournaled starts an export and SIGKILLs it once its journal
// lists a finished dataset (or fails t if it ends first).
func killWhenJournaled(t *testing.T, bin, out string, args ...string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	for {
		if n, _ := journalLines(out); n >= 1 {
			cmd.Process.Kill()
			<-exited
			return
		}
		select {
		case <-exited:
			t.Fatalf("the export ended before a dataset was journaled\n%s", stderr.String())
		case <-time.After(time.Millisecond):
		}
	}
}

// A table changed between the killed run and the re-run is exported
// again, named in the log, and the others are kept; the bundle equals a
// fresh export of the changed source. Another command is refused with
// exit 2 and the way out, which --restart takes.
func TestExportResumeAfterTheSourceChanged(t *testing.T) {
	bin := builtCLI(t)
	url, db := testenv.MySQLDatabase(t, "clichg")
	for _, tbl := range []string{"a", "b", "c"} {
		mustExec(t, db, "CREATE TABLE "+tbl+" (id INT PRIMARY KEY, v TEXT)")
		mustExec(t, db, "INSERT INTO "+tbl+" SELECT seq, CONCAT(MD5(seq), SHA1(seq)) FROM seq_1_to_40000")
	}
	mustExec(t, db, "CREATE TABLE nopk (a INT, v TEXT)")
	mustExec(t, db, "INSERT INTO nopk SELECT seq MOD 10, MD5(seq MOD 10) FROM seq_1_to_1000")
	dir := t.TempDir()
	out := filepath.Join(dir, "site.imb")
	args := []string{"export", "-o", out, "--part-size", "1", "-j", "1", "-q", "--log-level", "info", "--log-format", "json", "--source", url}
	killWhenJournaled(t, bin, out, args...)
	_, jds, _ := strings.Cut(readJournalText(t, out), "\n")
	finished := map[string]bool{}
	for _, name := range []string{"a", "b", "c", "nopk"} {
		if strings.Contains(jds, `"object":"`+name+`"`) {
			finished[name] = true
		}
	}
	// Change every table: the finished ones must all be redone. A keyed
	// table gains a row; the table without a key has a value updated in
	// place (only its checksum sees that).
	for _, tbl := range []string{"a", "b", "c"} {
		mustExec(t, db, "INSERT INTO "+tbl+" VALUES (40001, 'new')")
	}
	mustExec(t, db, "UPDATE nopk SET v = 'changed' WHERE a = 3 LIMIT 1")

	other := append(append([]string{}, args...), "--tables", "a")
	r := runExport(t, bin, 0, other...)
	if r.code != 2 || !strings.Contains(r.stderr, "different export") || !strings.Contains(r.stderr, "--restart") {
		t.Fatalf("another command on the partial file: exit %d\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(bundle.PartialPath(out)); err != nil {
		t.Fatalf("the refused command touched the partial file: %v", err)
	}

	r = runExport(t, bin, 0, args...)
	if r.code != 0 {
		t.Fatalf("re-run: exit %d\n%s", r.code, r.stderr)
	}
	for name := range finished {
		if !strings.Contains(r.stderr, "the source changed since the killed run") || !strings.Contains(r.stderr, `"dataset":"`+testDBName(url)+"."+name+`"`) {
			t.Errorf("the re-run does not say %s changed:\n%s", name, r.stderr)
		}
	}
	if k := keptDatasets(r.stderr); k != 0 {
		t.Errorf("the re-run kept %d changed datasets", k)
	}
	got := bundleSummary(t, out)
	fresh := filepath.Join(t.TempDir(), "fresh.imb")
	if r := runExport(t, bin, 0, "export", "-q", "-o", fresh, "--source", url); r.code != 0 {
		t.Fatalf("fresh export: %s", r.stderr)
	}
	want := bundleSummary(t, fresh)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("resumed after the change:\n%v\nfresh export:\n%v", got, want)
	}

	// --restart discards a partial file of another command.
	os.Remove(out)
	killWhenJournaled(t, bin, out, args...)
	if r := runExport(t, bin, 0, append(other, "--restart")...); r.code != 0 {
		t.Fatalf("--restart: exit %d\n%s", r.code, r.stderr)
	}
	if m := bundleSummary(t, out); len(m) != 1 {
		t.Fatalf("--restart --tables a wrote %v", m)
	}
}

// testDBName is the database a mysql:// URL names.
func testDBName(url string) string { return url[strings.LastIndex(url, "/")+1:] }

func readJournalText(t *testing.T, out string) string {
	b, err := os.ReadFile(bundle.JournalPath(out))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// An export onto a disk that fills up after some datasets finished fails
// with the full disk's error and how to go on, and leaves nothing: no
// bundle, no partial file, no journal (a 4 MiB tmpfs; root only).
func TestExportFullDiskLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=4M", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	url := resumeMySQLSource(t)
	out := filepath.Join(dir, "site.imb")
	msg, err := runCLI(t, "export", "-q", "--part-size", "1", "-j", "1", "--source", url, "-o", out)
	if err == nil || !strings.Contains(err.Error(), "no space left on device") || !strings.Contains(err.Error(), "removed its partial files") {
		t.Fatalf("export onto a full disk: %v\n%s", err, msg)
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Fatalf("the full disk holds %v", names)
	}
}

// An export whose server connections are killed after a dataset finished
// fails (exit 1), says what it kept and how to resume, and the same
// command again ends with the bundle an uninterrupted export writes.
func TestExportResumesAfterALostConnection(t *testing.T) {
	bin := builtCLI(t)
	url := resumeMySQLSource(t)
	_, admin := testenv.MySQLDatabase(t, "clilost") // a connection of our own to kill from
	name := testDBName(url)
	dir := t.TempDir()
	out := filepath.Join(dir, "site.imb")
	argsTo := func(out string) []string {
		return []string{"export", "-o", out, "--part-size", "1", "-j", "1", "-q", "--log-level", "info", "--log-format", "json", "--source", url}
	}
	args := argsTo(out)
	ref := filepath.Join(t.TempDir(), "ref.imb")
	if r := runExport(t, bin, 0, argsTo(ref)...); r.code != 0 {
		t.Fatalf("uninterrupted export: %s", r.stderr)
	}
	want := bundleSummary(t, ref)

	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	killed := 0
	for killed == 0 {
		if n, _ := journalLines(out); n >= 1 {
			killed += killConnectionsTo(t, admin, name)
		}
		select {
		case <-exited:
			if killed == 0 {
				t.Fatalf("the export ended before its connections could be killed\n%s", stderr.String())
			}
		case <-time.After(time.Millisecond):
		}
	}
	<-exited
	if code := cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(stderr.String(), "run the same command again to resume") {
		t.Fatalf("export that lost its connections: exit %d\n%s", code, stderr.String())
	}
	// The operator raises the waits, as the error of a server that did
	// not answer says to, and runs the export again: waits change no
	// content, so it resumes.
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	args[len(args)-1] = url + sep + "timeout=60s&readTimeout=2m"
	r := runExport(t, bin, 0, args...)
	if r.code != 0 || keptDatasets(r.stderr) == 0 {
		t.Fatalf("re-run with longer waits: exit %d, kept %d\n%s", r.code, keptDatasets(r.stderr), r.stderr)
	}
	if got := bundleSummary(t, out); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("resumed:\n%v\nuninterrupted:\n%v", got, want)
	}
	if names := dirNames(t, dir); len(names) != 1 {
		t.Fatalf("after the re-run the directory holds %v", names)
	}
}
