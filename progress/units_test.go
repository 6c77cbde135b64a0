package progress

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

// A dataset that counts other records than the run's (a Redis database's
// keys in an import of MySQL tables) shows its own unit; the run's total
// says "records" when the datasets' units differ; a total of 0 that was
// told (a stream-state dataset's keys) is a count, not an unknown.
func TestDatasetUnits(t *testing.T) {
	c, ck := newFake(t, Options{Label: "import", Unit: "rows"})
	c.Records("redis.db0", "keys")
	c.Expect("redis.db0", 1004, 0)
	c.Records("redis.db0.stream-state", "keys")
	c.Expect("redis.db0.stream-state", 0, 0)
	c.Expect("app.users", 10, 0)
	c.StageOf("redis.db0", StageWriting)
	c.AddTo("redis.db0", 500, 0)
	c.StageOf("redis.db0.stream-state", StageWriting)
	ck.advance(1e9)
	s := c.Snapshot()
	if s.Unit != "records" || s.Total.Unit != "records" {
		t.Errorf("run unit %q (total %q), want records", s.Unit, s.Total.Unit)
	}
	if s.Total.Estimate || s.Total.Total != 1014 {
		t.Errorf("total %+v, want an exact 1014", s.Total)
	}
	if len(s.Running) != 2 || s.Running[0].Unit != "keys" || s.Running[0].Count(s.Running[0].Unit) != "500/1004 keys" {
		t.Fatalf("running %+v", s.Running)
	}
	var buf bytes.Buffer
	LogSnapshot(slog.New(slog.NewJSONHandler(&buf, nil)), s, false)
	var run, ds map[string]any
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	json.Unmarshal([]byte(lines[0]), &run)
	json.Unmarshal([]byte(lines[1]), &ds)
	if run["records"] != float64(500) || run["total_records"] != float64(1014) {
		t.Errorf("run record %v", run)
	}
	if ds["keys"] != float64(500) || ds["total_keys"] != float64(1004) || ds["rows"] != nil {
		t.Errorf("dataset record %v", ds)
	}
	for _, task := range c.Tasks() {
		if task.Name == "redis.db0" && task.Unit != "keys" {
			t.Errorf("task %+v, want keys", task)
		}
	}

	one, _ := newFake(t, Options{Label: "export", Unit: "keys"})
	one.Records("redis.db0", "keys")
	if u := one.Snapshot().Unit; u != "keys" {
		t.Errorf("one unit: %q, want keys", u)
	}
}
