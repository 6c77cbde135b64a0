package progress

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// clock is a fake time source the test moves.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time          { return c.now }
func (c *clock) advance(d time.Duration) { c.now = c.now.Add(d) }

func newFake(t *testing.T, opts Options) (*Counter, *clock) {
	t.Helper()
	ck := &clock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	opts.Clock = ck.Now
	return New(opts), ck
}

// An estimate the count passes is raised to the count and stays marked as
// an estimate: never 1526204/1484785.
func TestEstimateThatGrew(t *testing.T) {
	c, ck := newFake(t, Options{Label: "export", BytesKind: "uncompressed"})
	c.Estimate("db.chat_logs", 1484785, 0)
	c.StageOf("db.chat_logs", StageReading) // as the exporter does before the first row
	ck.advance(10 * time.Second)
	c.AddTo("db.chat_logs", 742392, 100<<20)
	s := c.Snapshot()
	if len(s.Running) != 1 {
		t.Fatalf("running: %+v", s.Running)
	}
	b := s.Running[0]
	if b.Total != 1484785 || !b.Estimate || b.Grew || b.ETA != 10*time.Second {
		t.Fatalf("half way: %+v", b)
	}
	if got := b.Count("rows"); got != "742392/~1484785 rows (estimate)" {
		t.Fatalf("count %q", got)
	}
	// Export says both sizes: the rows as read, and the parts written.
	c.SetCompressed("db.chat_logs", 20<<20)
	want := "742392/~1484785 rows (estimate), 100.0 MiB uncompressed (20.0 MiB compressed), 74239 rows/s, 10.0 MiB/s, ETA 10s [reading]"
	if got := c.Snapshot().Running[0].Text("rows", "uncompressed"); got != want {
		t.Fatalf("text\n got %q\nwant %q", got, want)
	}
	ck.advance(11 * time.Second)
	c.AddTo("db.chat_logs", 783812, 100<<20)
	b = c.Snapshot().Running[0]
	if b.Done != 1526204 || b.Total != 1526204 || !b.Grew || b.EstimateOf != 1484785 || b.ETA >= 0 {
		t.Fatalf("past the estimate: %+v", b)
	}
	if got := b.Count("rows"); got != "1526204/~1526204+ rows (estimate 1484785 grew)" {
		t.Fatalf("count %q", got)
	}
	tot := c.Snapshot().Total
	if tot.Total != 1526204 || !tot.Grew || !tot.Estimate {
		t.Fatalf("total: %+v", tot)
	}
	c.Done("db.chat_logs")
	s = c.Snapshot()
	if len(s.Running) != 0 || s.Total.Estimate || s.Total.Total != 1526204 || s.Stage != StageDone {
		t.Fatalf("done: %+v", s)
	}
	if got := s.Total.Count("rows"); got != "1526204/1526204 rows" {
		t.Fatalf("done count %q", got)
	}
}

// A bundle's counts are exact: the total is theirs, the rate and ETA the
// average so far, the stage the run's.
func TestExactTotals(t *testing.T) {
	c, ck := newFake(t, Options{Label: "import", Unit: "documents", BytesKind: "compressed"})
	c.Expect("a", 1000, 4<<20)
	c.Expect("b", 3000, 12<<20)
	c.SetStage(StageVerifying)
	if s := c.Snapshot(); s.Stage != StageVerifying || s.Total.Total != 4000 || s.Total.Estimate || s.Datasets != 2 {
		t.Fatalf("verifying: %+v", s)
	}
	c.SetStage(StageWriting)
	c.StageOf("a", StageWriting)
	c.StageOf("b", StageWriting)
	ck.advance(2 * time.Second)
	c.AddTo("a", 1000, 4<<20)
	c.Done("a")
	c.AddTo("b", 1000, 4<<20)
	s := c.Snapshot()
	if s.Total.Done != 2000 || s.Total.RowsPerSec != 1000 || s.Total.ETA != 2*time.Second || s.Done != 1 {
		t.Fatalf("writing: %+v", s.Total)
	}
	if len(s.Running) != 1 || s.Running[0].Name != "b" || s.Running[0].Stage != StageWriting {
		t.Fatalf("running: %+v", s.Running)
	}
	want := "2000/4000 documents, 8.0 MiB compressed, 1000 documents/s, 4.0 MiB/s, ETA 2s [writing]"
	if got := s.Total.Text(s.Unit, s.BytesKind); got != want {
		t.Fatalf("text\n got %q\nwant %q", got, want)
	}
	ck.advance(2 * time.Second)
	c.AddTo("b", 2000, 8<<20)
	c.Done("b")
	// Every dataset loaded, the indexes being built: that stage shows,
	// not "done", and the rate is that of the loading, not diluted by
	// the index build.
	c.SetStage(StageIndexes)
	ck.advance(time.Minute)
	s = c.Snapshot()
	if s.Stage != StageIndexes || s.Total.Stage != StageIndexes || s.Total.RowsPerSec != 1000 || s.Total.Done != 4000 || s.Total.ETA != 0 {
		t.Fatalf("indexes: %+v", s)
	}
	c.SetStage(StageDone)
	if s := c.Snapshot(); s.Stage != StageDone {
		t.Fatalf("done: %+v", s)
	}
}

// Off a terminal: log records with the stage, one for the run and one per
// running dataset, and a final one at Stop.
func TestLogRecords(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	c, ck := newFake(t, Options{Label: "verify", BytesKind: "compressed"})
	c.Expect("openim.users", 3000, 1<<20)
	c.SetStage(StageVerifying)
	c.StageOf("openim.users", StageVerifying)
	ck.advance(time.Second)
	c.AddTo("openim.users", 1500, 512<<10)
	LogSnapshot(log, c.Snapshot(), false)
	recs := decode(t, &buf)
	if len(recs) != 2 {
		t.Fatalf("records: %v", recs)
	}
	run, ds := recs[0], recs[1]
	if run["msg"] != "verify" || run["stage"] != "verifying" || run["rows"] != 1500.0 || run["total_rows"] != 3000.0 || run["total_estimate"] != false || run["bytes_compressed"] != float64(512<<10) || run["eta_s"] != 1.0 {
		t.Fatalf("run record: %v", run)
	}
	if ds["msg"] != "verify dataset" || ds["dataset"] != "openim.users" || ds["stage"] != "verifying" || ds["rows"] != 1500.0 {
		t.Fatalf("dataset record: %v", ds)
	}

	// Start with an interval no test waits for: only Stop's record.
	c = Start(Options{Label: "export", BytesKind: "uncompressed"}, nil, false, log, time.Hour)
	c.Estimate("t", 10, 0)
	c.AddTo("t", 12, 100)
	c.SetCompressed("t", 40)
	c.Done("t")
	c.Stop()
	c.Stop()
	recs = decode(t, &buf)
	if len(recs) != 1 || recs[0]["final"] != true || recs[0]["stage"] != "done" || recs[0]["rows"] != 12.0 || recs[0]["bytes_uncompressed"] != 100.0 || recs[0]["bytes_compressed"] != 40.0 {
		t.Fatalf("final records: %v", recs)
	}
}

func decode(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		out = append(out, m)
	}
	buf.Reset()
	return out
}

// The samples of a long run stay bounded, first and last kept.
func TestSamplesBounded(t *testing.T) {
	c, ck := newFake(t, Options{Label: "export"})
	for i := 0; i < 100000; i++ {
		ck.advance(time.Second)
		c.AddTo("t", 10, 1)
	}
	c.Stop()
	ss := c.Samples()
	if len(ss) >= maxSamples || len(ss) < maxSamples/4 {
		t.Fatalf("%d samples", len(ss))
	}
	if ss[0].Rows != 0 || ss[len(ss)-1].Rows != 1000000 {
		t.Fatalf("first %+v, last %+v", ss[0], ss[len(ss)-1])
	}
	tasks := c.Tasks()
	if len(tasks) != 1 || tasks[0].Rows != 1000000 || tasks[0].Elapsed != 99999*time.Second {
		t.Fatalf("tasks %+v", tasks)
	}
}

// A nil Counter counts nothing and does not fail.
func TestNilCounter(t *testing.T) {
	var c *Counter
	c.AddTo("x", 1, 1)
	c.Estimate("x", 1, 1)
	c.SetStage(StageReading)
	c.Done("x")
	c.Stop()
	if c.Rows() != 0 || c.Tasks() != nil || c.Snapshot().Total.Done != 0 {
		t.Fatal("nil counter counted")
	}
}

type failing struct{}

func (failing) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

// Log records go above the bars while they run, and to the terminal when
// none run or the bars just ended.
func TestOutput(t *testing.T) {
	var term, above bytes.Buffer
	o := NewOutput(func() io.Writer { return &term })
	o.Write([]byte("a\n"))
	o.setBars(&above)
	o.Write([]byte("b\n"))
	o.setBars(failing{})
	o.Write([]byte("c\n"))
	if term.String() != "a\nc\n" || above.String() != "b\n" {
		t.Fatalf("terminal %q, above the bars %q", term.String(), above.String())
	}
}

// A run that counts no bytes (verify --against) shows none.
func TestNoBytes(t *testing.T) {
	b := Bar{Done: 5, Total: 10, RowsPerSec: 2, ETA: -1, Stage: StageReading, Bytes: 7}
	if got := b.Text("rows", ""); got != "5/10 rows, 2 rows/s [reading]" {
		t.Fatalf("%q", got)
	}
}

// A logical dataset's members, estimated one by one, become one task
// whose estimate is theirs added up.
func TestUnite(t *testing.T) {
	c, _ := newFake(t, Options{})
	c.Estimate("db.t_0", 10, 100)
	c.Estimate("db.t_1", 5, 50)
	c.Estimate("db.other", 1, 1)
	c.Unite("db.t", []string{"db.t_0", "db.t_1"})
	c.AddTo("db.t", 15, 150)
	c.Done("db.t")
	c.mu.Lock()
	if order := strings.Join(c.order, ","); order != "db.other,db.t" || len(c.tasks) != 2 {
		t.Errorf("tasks %s, want db.other and db.t", order)
	}
	total, bytes := c.tasks["db.t"].total, c.tasks["db.t"].totalBytes
	c.mu.Unlock()
	if total != 15 || bytes != 150 {
		t.Fatalf("db.t estimated %d rows, %d bytes; want 15, 150", total, bytes)
	}
}
