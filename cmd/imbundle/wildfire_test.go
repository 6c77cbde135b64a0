package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imbundle/imbundle/fixtures"
	"github.com/imbundle/imbundle/internal/testenv"
)

// TestWildfireRoundTrip moves a WildfireChat-shaped site (36 month-ring
// message shards, 128 uid-hash inbox shards, 128 _mid-keyed super-group
// shards, mostly empty, beside the side tables) through a bundle into a
// fresh database: every table verifies by digest, so every row came back
// to its own shard.
func TestWildfireRoundTrip(t *testing.T) {
	srcURL, src := testenv.MySQLDatabase(t, "cli_wf_src")
	dstURL, _ := testenv.MySQLDatabase(t, "cli_wf_dst")
	counts, _, err := fixtures.LoadWildfireMySQL(context.Background(), src, fixtures.WildfireOptions{Users: 80, Groups: 8, Messages: 1500, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "wf.imb")
	if out, err := runCLI(t, "export", "-q", "--source", srcURL, "-o", file); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "import", "-q", file, "--target", dstURL); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	out, err := runCLI(t, "verify", "-q", file, "--against", dstURL)
	if err != nil {
		t.Fatalf("verify --against: %v\n%s", err, out)
	}
	got := 0
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "match ") {
			got++
		}
	}
	if got != len(counts) {
		t.Fatalf("%d datasets matched, want %d tables:\n%s", got, len(counts), out)
	}
}
