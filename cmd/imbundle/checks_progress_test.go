package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// checkRecords are the "checks" progress records of a --log-format json
// stderr: the run's (msg "checks") and the datasets' ("checks dataset").
func checkRecords(stderr string) (runs, datasets []map[string]any) {
	for _, line := range strings.Split(stderr, "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil {
			continue
		}
		switch rec["msg"] {
		case "checks":
			runs = append(runs, rec)
		case "checks dataset":
			datasets = append(datasets, rec)
		}
	}
	return runs, datasets
}

// TestOfflineChecksShowProgress: verify FILE --relations and --map's
// checks, which read whole datasets after the parts were checked, log
// their progress when stderr is not a terminal: a record as the checking
// stage begins, and counts that reach the rows the checks read (the
// relation reads openim.groups' 40 rows and openim.users' 3000; the
// unique check openim.users').
func TestOfflineChecksShowProgress(t *testing.T) {
	defer func(d time.Duration) { logInterval = d }(logInterval)
	logInterval = time.Millisecond // the periodic records of a short run
	path := cliBundle(t)
	mapping := filepath.Join(t.TempDir(), "checks.yaml")
	if err := os.WriteFile(mapping, []byte("version: 1\nchecks:\n  - name: users-unique\n    unique: {of: \"openim.users(id)\"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		flag []string
		rows float64
		task string // a dataset bar the checks show
	}{
		{[]string{"--relations"}, 3040, "relation openim.groups(id) -> openim.users(id): openim.users"},
		{[]string{"--map", mapping}, 3000, "check users-unique: openim.users"},
	} {
		text, err := stderrOf(t, append([]string{"--log-format", "json", "verify", path}, c.flag...)...)
		if err != nil {
			t.Fatalf("verify %v: %v\n%s", c.flag, err, text)
		}
		runs, datasets := checkRecords(text)
		if len(runs) < 2 {
			t.Fatalf("verify %v: %d checks records, want the stage's first and the final one:\n%s", c.flag, len(runs), text)
		}
		if first := runs[0]; first["stage"] != "checking" || first["final"] != false || first["total_estimate"] != true {
			t.Errorf("verify %v: the first checks record is %v, want stage checking, its total an estimate (checks to come)", c.flag, first)
		}
		last := runs[len(runs)-1]
		if last["final"] != true || last["rows"] != c.rows || last["total_rows"] != c.rows || last["total_estimate"] != false {
			t.Errorf("verify %v: final checks record %v, want %v of %v rows read, exactly", c.flag, last, c.rows, c.rows)
		}
		for _, d := range datasets {
			if d["stage"] != "checking" {
				t.Errorf("verify %v: a check's bar in stage %v: %v", c.flag, d["stage"], d)
			}
			if d["dataset"] == c.task && d["total_rows"] != float64(3000) {
				t.Errorf("verify %v: %s counts towards %v rows, want 3000", c.flag, c.task, d["total_rows"])
			}
		}
	}
}
