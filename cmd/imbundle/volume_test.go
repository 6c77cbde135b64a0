package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/testenv"
	"github.com/imbundle/imbundle/spec"
)

// A MySQL fixture exported with a small --volume-size and --sign makes an
// index and several volumes, which verify, import and verify --against
// read in place; a volume set with a volume swapped for another export's,
// renamed, missing or extra is refused by verify and import with exit 5,
// naming the volume, before the target is touched.
func TestVolumeExport(t *testing.T) {
	srcURL, _ := testenv.MySQLDatabase(t, "vol_src")
	if out, err := runCLI(t, "-q", "fixtures", "mysql", "--target", srcURL, "--seed", "5", "--users", "300", "--groups", "12", "--messages", "4000"); err != nil {
		t.Fatalf("fixtures: %v\n%s", err, out)
	}
	dir := t.TempDir()
	key := filepath.Join(dir, "k")
	if out, err := runCLI(t, "keygen", "-o", key); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var said string
	export := func(sub string) string {
		t.Helper()
		os.MkdirAll(filepath.Join(dir, sub), 0o755)
		p := filepath.Join(dir, sub, "site.imb")
		out, err := runCLI(t, "-q", "export", "--source", srcURL, "-o", p, "--param", "lock-wait=2", "--volume-size", "64K", "--sign", key)
		if err != nil || !strings.Contains(out, "volumes beside it") || !strings.Contains(out, "signed by key") {
			t.Fatalf("export: %v\n%s", err, out)
		}
		if sub == "a" {
			said = out
		}
		return p
	}
	good := export("a")
	other := export("b")
	r, err := bundle.Open(good)
	if err != nil {
		t.Fatal(err)
	}
	vols := r.Volumes()
	r.Close()
	if len(vols) < 3 {
		t.Fatalf("%d volumes of 64K, want several", len(vols))
	}
	for _, v := range vols {
		// Only a part larger than a volume makes one larger, and the
		// export says so.
		if v.Bytes > 64<<10 && !strings.Contains(said, fmt.Sprintf("it has volume %d (%s) to itself", v.Number, v.File)) {
			t.Fatalf("volume %d is %d bytes, over 64K, and the export did not say why:\n%s", v.Number, v.Bytes, said)
		}
	}
	if out, err := runCLI(t, "-q", "export", "--source", srcURL, "-o", filepath.Join(dir, "a", "site.imb.001"), "--volume-size", "64K"); exitCodeOf(err) != exitUsage {
		t.Fatalf("export over an existing volume: %v\n%s", err, out)
	}

	out, err := runCLI(t, "verify", good, "--pubkey", key+".pub")
	if err != nil || !strings.Contains(out, "signature: good") || !strings.Contains(out, "OK: bundle") {
		t.Fatalf("verify: %v\n%s", err, out)
	}
	dstURL, dst := testenv.MySQLDatabase(t, "vol_dst")
	tables := func() int {
		t.Helper()
		var n int
		if err := dst.QueryRow("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE()").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// Each damaged set is a copy of the good one with one thing changed.
	copySet := func(name string) string {
		t.Helper()
		d := filepath.Join(dir, name)
		os.MkdirAll(d, 0o755)
		files, _ := filepath.Glob(filepath.Join(dir, "a", "site.imb*"))
		for _, f := range files {
			raw, _ := os.ReadFile(f)
			os.WriteFile(filepath.Join(d, filepath.Base(f)), raw, 0o644)
		}
		return filepath.Join(d, "site.imb")
	}
	cases := []struct {
		name, want string
		damage     func(p string)
	}{
		{"swapped", "volume 2 (site.imb.002) belongs to another bundle", func(p string) {
			raw, _ := os.ReadFile(filepath.Join(filepath.Dir(other), "site.imb.002"))
			os.WriteFile(p+".002", raw, 0o644)
		}},
		{"reordered", "volume 1 (site.imb.001) is volume 2 of this set", func(p string) {
			os.Rename(p+".001", p+".x")
			os.Rename(p+".002", p+".001")
			os.Rename(p+".x", p+".002")
		}},
		{"missing", "missing: volume 3 (site.imb.003)", func(p string) { os.Remove(p + ".003") }},
		{"extra", "site.imb.900 (volume 900)", func(p string) {
			raw, _ := os.ReadFile(p + ".001")
			os.WriteFile(p+".900", raw, 0o644)
		}},
	}
	for _, c := range cases {
		p := copySet(c.name)
		c.damage(p)
		out, err := runCLI(t, "verify", p, "--pubkey", key+".pub")
		if exitCodeOf(err) != exitBadInput || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("%s: verify exit %d, want 5 with %q: %v\n%s", c.name, exitCodeOf(err), c.want, err, out)
		}
		out, err = runCLI(t, "-q", "import", p, "--target", dstURL, "--pubkey", key+".pub")
		if exitCodeOf(err) != exitBadInput || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "nothing was written") {
			t.Fatalf("%s: import exit %d, want 5: %v\n%s", c.name, exitCodeOf(err), err, out)
		}
		if n := tables(); n != 0 {
			t.Fatalf("%s: the refused import created %d table(s)", c.name, n)
		}
	}

	if out, err := runCLI(t, "-q", "import", good, "--target", dstURL, "--pubkey", key+".pub"); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "-q", "verify", good, "--against", dstURL); err != nil {
		t.Fatalf("verify --against: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "inspect", good); err != nil || !strings.Contains(out, "volumes") {
		t.Fatalf("inspect: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "plan", good, "--target", dstURL); err != nil {
		t.Fatalf("plan: %v\n%s", err, out)
	}
	// extract reads a dataset's rows from the volumes: every users row.
	var users string
	var want int
	for _, ds := range bundleManifest(t, good).Datasets {
		if strings.HasSuffix(ds.Name, ".users") {
			users, want = ds.Name, int(ds.Rows)
		}
	}
	jsonl := filepath.Join(dir, "users.jsonl")
	if out, err := runCLI(t, "extract", good, "--dataset", users, "-o", jsonl); err != nil {
		t.Fatalf("extract: %v\n%s", err, out)
	}
	raw, _ := os.ReadFile(jsonl)
	if n := strings.Count(string(raw), "\n"); n != want || want == 0 {
		t.Fatalf("extract wrote %d rows of %s, the manifest says %d", n, users, want)
	}
}

func bundleManifest(t *testing.T, path string) *spec.Manifest {
	t.Helper()
	r, err := bundle.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	return r.Manifest()
}

func TestParseByteSize(t *testing.T) {
	for in, want := range map[string]int64{"4G": 4 << 30, "512M": 512 << 20, "100K": 100 << 10, "65536": 65536, "1T": 1 << 40, "64KiB": 64 << 10, "2mb": 2 << 20} {
		if got, err := parseByteSize("--volume-size", in); err != nil || got != want {
			t.Errorf("%q: %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "G", "-1G", "1.5G", "4X", "100", "99999999999T"} {
		if _, err := parseByteSize("--volume-size", in); exitCodeOf(err) != exitUsage {
			t.Errorf("%q: %v, want a usage error", in, err)
		}
	}
}

// A volume export refuses, loudly, to discard what a killed journaled
// export to the same -o left, and refuses -o -.
func TestVolumeExportRefusals(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "site.imb")
	os.WriteFile(bundle.PartialPath(out), []byte("x"), 0o644)
	os.WriteFile(bundle.JournalPath(out), []byte("x"), 0o644)
	_, err := runCLI(t, "-q", "export", "--source", redisURL(1), "-o", out, "--volume-size", "64K")
	if exitCodeOf(err) != exitUsage || !strings.Contains(err.Error(), "cannot resume") {
		t.Fatalf("volume export over a journal: %v", err)
	}
	if raw, _ := os.ReadFile(bundle.JournalPath(out)); string(raw) != "x" {
		t.Fatal("the refused export changed the journal")
	}
	if _, err := runCLI(t, "-q", "export", "--source", redisURL(1), "-o", "-", "--volume-size", "64K"); exitCodeOf(err) != exitUsage {
		t.Fatalf("volume export to -o -: %v", err)
	}
}
