package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/internal/testenv"
	"github.com/imbundle/imbundle/progress"
	"github.com/imbundle/imbundle/report"
)

// finalProgress is the last progress record of label ("export", "import",
// "verify") in a --log-format json stderr: the run's total, written at
// its end whatever its length.
func finalProgress(t *testing.T, stderr, label string) map[string]any {
	t.Helper()
	var last map[string]any
	for _, line := range strings.Split(stderr, "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil {
			continue
		}
		if rec["msg"] == label && rec["final"] == true {
			last = rec
		}
	}
	if last == nil {
		t.Fatalf("no final %q progress record in:\n%s", label, stderr)
	}
	return last
}

// TestRedisProgressCountsKeys: a keyspace of a few big keys, each split
// over many bundle rows, and many small strings is counted in keys by the
// progress of export, import, verify and verify --against, and by the
// report: the counts equal DBSIZE, not the bundle's rows.
func TestRedisProgressCountsKeys(t *testing.T) {
	const srcDB, dstDB = 6, 7
	ctx := context.Background()
	src, dst := testenv.Redis(t, srcDB), testenv.Redis(t, dstDB)
	for _, c := range []*redis.Client{src, dst} {
		if err := c.FlushDB(ctx).Err(); err != nil {
			t.Fatal(err)
		}
	}
	pipe := src.Pipeline()
	for h := 0; h < 3; h++ {
		fields := make([]any, 0, 6000)
		for f := 0; f < 3000; f++ {
			fields = append(fields, fmt.Sprintf("f%d", f), "v")
		}
		pipe.HSet(ctx, fmt.Sprintf("big:hash:%d", h), fields...)
	}
	members := make([]redis.Z, 2000)
	for i := range members {
		members[i] = redis.Z{Score: float64(i), Member: fmt.Sprintf("m%d", i)}
	}
	pipe.ZAdd(ctx, "big:zset", members...)
	for i := 0; i < 1000; i++ {
		pipe.Set(ctx, fmt.Sprintf("small:%d", i), "x", 0)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	keys := src.DBSize(ctx).Val()
	if keys != 1004 {
		t.Fatalf("DBSIZE %d, want 1004", keys)
	}
	addr := testenv.RedisAddr()
	dir := t.TempDir()
	path, rep := filepath.Join(dir, "keys.imb"), filepath.Join(dir, "export.json")
	counts := func(label string, rec map[string]any) {
		t.Helper()
		if rec["keys"] != float64(keys) || rec["total_keys"] != float64(keys) || rec["total_estimate"] != false {
			t.Errorf("%s: final progress counts keys %v of total_keys %v (estimate %v), want %d of %d exactly (DBSIZE); record %v",
				label, rec["keys"], rec["total_keys"], rec["total_estimate"], keys, keys, rec)
		}
		if _, ok := rec["rows"]; ok {
			t.Errorf("%s: a Redis run's progress counts rows: %v", label, rec)
		}
	}

	// The export's bar counts towards DBSIZE from the start: the source
	// tells it when it describes the database.
	prog := progress.New(progress.Options{Label: "export", Unit: "keys"})
	src0, err := exporter.Open(ctx, fmt.Sprintf("redis://%s/%d", addr, srcDB), exporter.Options{Progress: prog})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src0.Describe(ctx); err != nil {
		t.Fatal(err)
	}
	src0.Close()
	prog.StageOf(fmt.Sprintf("redis.db%d", srcDB), progress.StageReading)
	if s := prog.Snapshot(); len(s.Running) != 1 || s.Running[0].Total != keys || s.Running[0].Estimate || s.Running[0].Unit != "keys" {
		t.Errorf("described, the export's bar is %+v, want a total of %d keys, exact", s.Running, keys)
	}

	html := filepath.Join(dir, "export.html")
	text, err := stderrOf(t, "--log-format", "json", "export", "--source", fmt.Sprintf("redis://%s/%d", addr, srcDB), "-o", path, "--report", rep, "--report", html)
	if err != nil {
		t.Fatalf("export: %v\n%s", err, text)
	}
	counts("export", finalProgress(t, text, "export"))
	b, err := os.ReadFile(rep)
	if err != nil {
		t.Fatal(err)
	}
	var r report.Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("redis.db%d", srcDB)
	found := false
	for _, d := range r.Datasets {
		if d.Name != name {
			continue
		}
		found = true
		// 3 hashes of 3000 fields and a zset of 2000: 11000 element
		// rows and a key row per key.
		if d.Unit != "keys" || d.Records != keys || d.Rows != 11000+keys {
			t.Errorf("report: %s counts %d %s (%d rows), want %d keys (%d rows)", name, d.Records, d.Unit, d.Rows, keys, 11000+keys)
		}
	}
	if !found {
		t.Fatalf("report has no dataset %s: %s", name, b)
	}
	if want := fmt.Sprintf("%d keys (%d rows)", keys, 11000+keys); !strings.Contains(r.Verdict, want) {
		t.Errorf("report verdict %q does not say %q", r.Verdict, want)
	}
	page, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf(`<td class="n">%d keys<br>`, keys); !strings.Contains(string(page), want) || !strings.Contains(string(page), `id="total-records">1004<`) {
		t.Errorf("the HTML report does not count the dataset's keys (%s, total-records)", want)
	}

	text, err = stderrOf(t, "--log-format", "json", "import", path, "--target", "redis://"+addr, "--db-map", fmt.Sprintf("%d:%d", srcDB, dstDB))
	if err != nil {
		t.Fatalf("import: %v\n%s", err, text)
	}
	counts("import", finalProgress(t, text, "import"))
	if n := userKeys(ctx, dst); n != keys {
		t.Fatalf("target DBSIZE %d after the import, want %d", n, keys)
	}

	text, err = stderrOf(t, "--log-format", "json", "verify", path)
	if err != nil {
		t.Fatalf("verify: %v\n%s", err, text)
	}
	counts("verify", finalProgress(t, text, "verify"))

	text, err = stderrOf(t, "--log-format", "json", "verify", path, "--against", "redis://"+addr, "--db-map", fmt.Sprintf("%d:%d", srcDB, dstDB))
	if err != nil {
		t.Fatalf("verify --against: %v\n%s", err, text)
	}
	counts("verify --against", finalProgress(t, text, "verify"))
}
