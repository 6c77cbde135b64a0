package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imbundle/imbundle/internal/testenv"
	"github.com/imbundle/imbundle/report"
)

func readReport(t *testing.T, path string) report.Report {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r report.Report
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return r
}

// chromium is the headless browser the HTML report is opened in (Debian's
// chromium package); missing, the test skips, or fails under CI=true.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	testenv.Unavailable(t, "chromium (apt-get install -y chromium)", exec.ErrNotFound)
	return ""
}

// TestReportHTMLInChromium writes verify --relations' report as HTML and
// JSON, opens the page in headless Chromium, and checks what it rendered:
// the totals, the verdict, the relation, both charts, and a screenshot.
func TestReportHTMLInChromium(t *testing.T) {
	browser := chromium(t)
	path := cliBundle(t)
	dir := t.TempDir()
	page, js := filepath.Join(dir, "verify.html"), filepath.Join(dir, "verify.json")
	if out, err := runCLI(t, "verify", "-q", "--relations", path, "--report", page, "--report", js); err != nil {
		t.Fatalf("verify: %v\n%s", err, out)
	}
	r := readReport(t, js)
	if !r.OK || r.Command != "verify" || r.Totals.Datasets != 2 || r.Totals.Rows != 3040 || r.Totals.BadParts != 0 || len(r.Relations) != 1 || r.Relations[0].Values != 40 {
		t.Fatalf("report: %+v", r)
	}
	for _, d := range r.Datasets {
		if d.Verify == nil || !d.Verify.Match || d.Parts == 0 || d.PartBytes == 0 {
			t.Fatalf("dataset %+v: want every part verified", d)
		}
	}
	if len(r.Throughput) < 2 {
		t.Fatalf("throughput samples: %+v", r.Throughput)
	}
	for _, f := range []string{page, js} {
		if _, err := os.Stat(f + ".partial"); !os.IsNotExist(err) {
			t.Fatalf("%s.partial left behind", f)
		}
	}
	// Each run its own profile directory: Chromium refuses a second
	// instance on one, and the user's must stay untouched.
	run := func(args ...string) []byte {
		t.Helper()
		args = append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + t.TempDir(), "--window-size=1200,1600"}, args...)
		cmd := exec.Command(browser, append(args, "file://"+page)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
		}
		return out
	}
	dom := string(run("--dump-dom"))
	for _, want := range []string{
		`id="total-rows">3040<`, `id="total-datasets">2<`, `id="total-orphans">0<`,
		"verified 2 datasets, 3040 rows: 0 bad parts, 0 mismatches; 0 orphans in 1 relations",
		`id="throughput-chart"`, `id="size-chart"`, "openim.groups(id)", "openim.users",
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("the rendered page lacks %q", want)
		}
	}
	if strings.Contains(dom, "http://") || strings.Contains(dom, "https://") {
		t.Errorf("the page refers to the network")
	}
	shot := filepath.Join(dir, "verify.png")
	run("--screenshot=" + shot)
	png, err := os.ReadFile(shot)
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) || len(png) < 10000 {
		t.Fatalf("screenshot %s: %d bytes, %v", shot, len(png), err)
	}
	if keep := os.Getenv("IMBUNDLE_REPORT_SCREENSHOT"); keep != "" {
		os.WriteFile(keep, png, 0o644) // to look at it
	}
}

// TestReportImportRejects: an import whose target refuses every record
// still writes its report, which counts the rejects by reason with the
// first of them, and says the run did not succeed.
func TestReportImportRejects(t *testing.T) {
	path := zsetBundle(t)
	js := filepath.Join(t.TempDir(), "import.json")
	rejects := filepath.Join(t.TempDir(), "rejects.jsonl")
	_, err := runCLI(t, "import", "-q", path, "--target", redisURL(10), "--db-map", "9:10", "--mode", "append", "--rejects", rejects, "--report", js)
	if exitCode(err) != exitRejects {
		t.Fatalf("import: exit %d (%v), want %d", exitCode(err), err, exitRejects)
	}
	r := readReport(t, js)
	// The bundle holds 40 rows for the 20 keys (redis.db9), and an empty
	// stream-state dataset.
	if r.OK || r.Command != "import" || r.Totals.Datasets != 2 || r.Totals.Rows != 40 || r.Totals.Rejected != 20 {
		t.Fatalf("report totals: ok=%v %+v\n%+v", r.OK, r.Totals, r.Datasets)
	}
	if r.Rejects == nil || r.Rejects.Total != 20 || r.Rejects.File != rejects || len(r.Rejects.Reasons) == 0 {
		t.Fatalf("rejects: %+v", r.Rejects)
	}
	var n int64
	for _, reason := range r.Rejects.Reasons {
		n += reason.Count
		if len(reason.First) == 0 || len(reason.First) > 3 || !strings.Contains(reason.Reason, "WRONGTYPE") {
			t.Fatalf("reason %+v", reason)
		}
	}
	if n != 20 {
		t.Fatalf("reasons count %d rejects, want 20", n)
	}
	if r.Datasets[0].Name != "redis.db9" || r.Datasets[0].Import == nil || r.Datasets[0].Import.Rejected != 20 {
		t.Fatalf("datasets: %+v", r.Datasets)
	}
	if !strings.Contains(r.Verdict, "FAILED") || !strings.Contains(r.Error, "refused") {
		t.Fatalf("verdict %q, error %q", r.Verdict, r.Error)
	}
}

// TestReportDamagedBundle: verify of a damaged bundle exits 5 and its
// report names the bad part.
func TestReportDamagedBundle(t *testing.T) {
	path := cliBundle(t)
	damage(t, path, 1)
	js := filepath.Join(t.TempDir(), "v.json")
	_, err := runCLI(t, "verify", "-q", path, "--report", js)
	if exitCode(err) != exitBadInput {
		t.Fatalf("verify: exit %d (%v)", exitCode(err), err)
	}
	r := readReport(t, js)
	if r.OK || r.Totals.BadParts != 1 {
		t.Fatalf("report: ok=%v %+v", r.OK, r.Totals)
	}
	bad := 0
	for _, d := range r.Datasets {
		if d.Verify != nil && !d.Verify.Match {
			bad++
			if !strings.Contains(d.Verify.Error, "part 1") {
				t.Fatalf("dataset %s: error %q does not name part 1", d.Name, d.Verify.Error)
			}
		}
	}
	if bad != 1 {
		t.Fatalf("%d datasets marked bad, want 1", bad)
	}
}

// TestReportFormatRefused: a --report file of no known extension is a
// usage error, before anything runs or is written.
func TestReportFormatRefused(t *testing.T) {
	path := cliBundle(t)
	txt := filepath.Join(t.TempDir(), "r.txt")
	_, err := runCLI(t, "verify", path, "--report", txt)
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), ".html or .json") {
		t.Fatalf("exit %d: %v", exitCode(err), err)
	}
	if _, err := os.Stat(txt); !os.IsNotExist(err) {
		t.Fatal("wrote the refused report")
	}
}

// TestReportVerifyAgainst: verify --against's report has each dataset's
// verdict read back from the database, and the database's URL.
func TestReportVerifyAgainst(t *testing.T) {
	path := zsetBundle(t)
	js := filepath.Join(t.TempDir(), "against.json")
	if out, err := runCLI(t, "verify", "-q", path, "--against", redisURL(9), "--report", js); err != nil {
		t.Fatalf("verify: %v\n%s", err, out)
	}
	r := readReport(t, js)
	if !r.OK || len(r.Targets) != 1 || r.Targets[0] != redisURL(9) || r.Totals.Mismatches != 0 {
		t.Fatalf("report: %+v", r)
	}
	d := r.Datasets[0]
	if d.Name != "redis.db9" || d.Verify == nil || !d.Verify.Match || d.Verify.Against != redisURL(9) || d.Verify.TargetRows != 40 {
		t.Fatalf("dataset %+v verify %+v", d, d.Verify)
	}
	if r.Verdict != "compared 2 of 2 datasets with the database: 2 match, 0 differ, 0 unreadable" {
		t.Fatalf("verdict %q", r.Verdict)
	}
}
