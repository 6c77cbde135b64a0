package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/testenv"
)

// TestLogicalDatasetResumeAndFilter: an export of logical datasets (a
// mapping's shards) killed once one of them is journaled resumes keeping
// it, member list included, and the bundle equals a fresh export; a
// member changed since the killed run makes its logical dataset export
// again. --tables naming a logical dataset selects its members.
func TestLogicalDatasetResumeAndFilter(t *testing.T) {
	bin := builtCLI(t)
	url, db := testenv.MySQLDatabase(t, "clilog")
	for _, fam := range []string{"sa", "sb", "sc"} {
		for n := 0; n < 3; n++ {
			tbl := fmt.Sprintf("%s_%d", fam, n)
			mustExec(t, db, "CREATE TABLE "+tbl+" (id INT PRIMARY KEY, v TEXT)")
			if n < 2 { // the last shard of each family stays empty: still a member
				mustExec(t, db, "INSERT INTO "+tbl+" SELECT seq, CONCAT(MD5(seq), SHA1(seq)) FROM seq_1_to_20000")
			}
		}
	}
	dir := t.TempDir()
	mapFile := filepath.Join(dir, "shards.yaml")
	if err := os.WriteFile(mapFile, []byte("version: 1\nshards:\n  - {match: \"*.sa_*\", dataset: sa}\n  - {match: \"*.sb_*\", dataset: sb}\n  - {match: \"*.sc_*\", dataset: sc}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "site.imb")
	args := []string{"export", "-o", out, "--map", mapFile, "--part-size", "1", "-j", "1", "-q", "--log-level", "info", "--log-format", "json", "--source", url}
	killWhenJournaled(t, bin, out, args...)
	r := runExport(t, bin, 0, args...)
	if r.code != 0 || keptDatasets(r.stderr) < 1 {
		t.Fatalf("re-run: exit %d, kept %d, want at least the logical dataset journaled\n%s", r.code, keptDatasets(r.stderr), r.stderr)
	}
	fresh := filepath.Join(t.TempDir(), "fresh.imb")
	if r := runExport(t, bin, 0, "export", "-q", "--map", mapFile, "-o", fresh, "--source", url); r.code != 0 {
		t.Fatalf("fresh export: %s", r.stderr)
	}
	if got, want := bundleSummary(t, out), bundleSummary(t, fresh); fmt.Sprint(got) != fmt.Sprint(want) || len(got) != 3 {
		t.Fatalf("resumed:\n%v\nfresh export:\n%v", got, want)
	}
	if got, want := memberSummary(t, out), memberSummary(t, fresh); got != want || !strings.Contains(got, "sa_2:0") {
		t.Errorf("members after the resume %s, fresh %s", got, want)
	}

	// A member changed between the killed run and the re-run: its
	// logical dataset is exported again.
	os.Remove(out)
	killWhenJournaled(t, bin, out, args...)
	for _, tbl := range []string{"sa_2", "sb_2", "sc_2"} {
		mustExec(t, db, "INSERT INTO "+tbl+" VALUES (1, 'new')")
	}
	r = runExport(t, bin, 0, args...)
	if r.code != 0 || keptDatasets(r.stderr) != 0 || !strings.Contains(r.stderr, "the source changed since the killed run") {
		t.Fatalf("re-run after a member changed: exit %d, kept %d\n%s", r.code, keptDatasets(r.stderr), r.stderr)
	}

	// --tables by the logical name.
	part := filepath.Join(dir, "sa.imb")
	if r := runExport(t, bin, 0, "export", "-q", "--map", mapFile, "--tables", "sa", "-o", part, "--source", url); r.code != 0 {
		t.Fatalf("--tables sa: exit %d\n%s", r.code, r.stderr)
	}
	if got := memberSummary(t, part); got != testDBName(url)+".sa[sa_0:20000 sa_1:20000 sa_2:1]" {
		t.Errorf("--tables sa wrote %s", got)
	}
}

// memberSummary is each logical dataset of a bundle with its members'
// rows, in manifest order.
func memberSummary(t *testing.T, path string) string {
	t.Helper()
	r, err := bundle.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []string
	for _, ds := range r.Manifest().Datasets {
		var ms []string
		for _, m := range ds.Members {
			ms = append(ms, fmt.Sprintf("%s:%d", m.Object, m.Rows))
		}
		out = append(out, ds.Name+"["+strings.Join(ms, " ")+"]")
	}
	return strings.Join(out, ";")
}
