// Package progress counts the rows and bytes of long operations per
// dataset, with the stage each is in, and shows them: a bar per running
// dataset and a total on a terminal (tty.go), periodic structured log
// records otherwise (log.go). The counts are kept here once (the bar
// model, Snapshot); the views only draw them, and the run's report takes
// its timings and samples from here too.
package progress

import (
	"sort"
	"sync"
	"time"
)

// Stages a dataset or the whole run is in.
const (
	StageReading   = "reading"
	StageWriting   = "writing"
	StageVerifying = "verifying"
	StageIndexes   = "building indexes"
	StageChecking  = "checking" // verify's relation and invariant checks
	StagePreparing = "preparing"
	StageDone      = "done"
)

// Options say what a Counter counts and how it shows it.
type Options struct {
	Label string // export, import, verify
	// Unit names the records: rows, keys, documents ("rows" if empty);
	// a dataset of other records says so with Records.
	Unit string
	// BytesKind says which bytes are counted: "uncompressed" (the rows
	// in memory, as read from a database), "compressed" (the parts in
	// the bundle), or "" for none (verify --against counts rows only).
	BytesKind string
	// Clock is the time source (time.Now if nil): tests drive it.
	Clock func() time.Time
}

// Counter is shared by the goroutines of one operation. A nil *Counter is
// valid and counts nothing, so packages need not check.
type Counter struct {
	opts  Options
	clock func() time.Time
	start time.Time

	mu    sync.Mutex
	stage string
	// more: datasets not yet told are to come (MoreToCome), so the
	// run's total is an estimate.
	more  bool
	tasks map[string]*task
	order []string // first seen first
	rows  int64    // done, over every task
	bytes int64
	// compressed sums the tasks' compressed bytes (SetCompressed).
	compressed int64

	samples     []Sample
	sampleEvery time.Duration
	lastSample  time.Time

	view     view
	stopped  bool // Stop was called: the view drew its last
	stopOnce sync.Once
}

// view draws a Counter: a terminal's bars or log records.
type view interface {
	stop(final Snapshot)
	// staged is told the run's new stage, as it changes.
	staged(s Snapshot)
}

type task struct {
	name        string
	rows, bytes int64
	compressed  int64  // export: the parts written so far, compressed
	unit        string // its records when not Options.Unit (Records)
	total       int64  // expected records
	known       bool   // total was told (Expect, Estimate): 0 is then a count
	exact       bool   // total is a count, not an engine's estimate
	totalBytes  int64
	stage       string
	start, last time.Time
	started     bool
	done        bool
}

// Sample is the work done by a moment of the run (for the report's
// throughput chart).
type Sample struct {
	At    time.Time
	Rows  int64
	Bytes int64
}

// maxSamples bounds the samples kept: when full, every other one is
// dropped and sampling slows down by half, so memory stays flat on a run
// of any length.
const maxSamples = 512

// New returns a Counter that shows nothing (Start attaches a view).
func New(opts Options) *Counter {
	if opts.Unit == "" {
		opts.Unit = "rows"
	}
	clock := opts.Clock
	if clock == nil {
		clock = time.Now
	}
	now := clock()
	return &Counter{opts: opts, clock: clock, start: now, tasks: map[string]*task{}, sampleEvery: 250 * time.Millisecond,
		samples: []Sample{{At: now}}, lastSample: now}
}

func (c *Counter) task(name string) *task {
	t := c.tasks[name]
	if t == nil {
		t = &task{name: name}
		c.tasks[name] = t
		c.order = append(c.order, name)
	}
	return t
}

// AddTo counts rows and bytes done of a dataset; its first call starts
// the dataset's clock.
func (c *Counter) AddTo(dataset string, rows, bytes int64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.clock()
	t := c.task(dataset)
	if !t.started {
		t.started, t.start = true, now
	}
	if t.stage == "" {
		t.stage = c.defaultStage()
	}
	t.rows += rows
	t.bytes += bytes
	t.last = now
	c.rows += rows
	c.bytes += bytes
	c.sample(now)
}

// SetCompressed records how many compressed bytes a dataset's rows took
// so far (export: the parts written), beside the uncompressed ones
// counted by AddTo.
func (c *Counter) SetCompressed(dataset string, n int64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.task(dataset)
	c.compressed += n - t.compressed
	t.compressed = n
}

// Add counts rows and bytes done of the run as a whole.
func (c *Counter) Add(rows, bytes int64) { c.AddTo("", rows, bytes) }

func (c *Counter) defaultStage() string {
	if c.stage != "" {
		return c.stage
	}
	return StageReading
}

func (c *Counter) sample(now time.Time) {
	if now.Sub(c.lastSample) < c.sampleEvery {
		return
	}
	c.samples = append(c.samples, Sample{At: now, Rows: c.rows, Bytes: c.bytes})
	c.lastSample = now
	if len(c.samples) >= maxSamples {
		kept := c.samples[:0]
		for i, s := range c.samples {
			if i%2 == 0 {
				kept = append(kept, s)
			}
		}
		c.samples = kept
		c.sampleEvery *= 2
	}
}

// Estimate records an engine's estimate of a dataset's rows (and bytes):
// a total that the count may pass.
func (c *Counter) Estimate(dataset string, rows, bytes int64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.task(dataset)
	t.total, t.totalBytes, t.exact, t.known = rows, bytes, false, true
}

// Expect records a dataset's exact rows and bytes (a bundle's counts).
func (c *Counter) Expect(dataset string, rows, bytes int64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.task(dataset)
	t.total, t.totalBytes, t.exact, t.known = rows, bytes, true, true
}

// Records names what a dataset's counts count when it is not the run's
// unit: a Redis database's keys in an import of MySQL tables and Redis
// databases. AddTo, Estimate and Expect then count in that unit.
func (c *Counter) Records(dataset, unit string) {
	if c == nil || unit == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.task(dataset).unit = unit
}

// unitOf is what t counts.
func (c *Counter) unitOf(t *task) string {
	if t.unit != "" {
		return t.unit
	}
	return c.opts.Unit
}

// SetStage says what the whole run is doing (verifying the bundle,
// building indexes); datasets that start after it start in it.
func (c *Counter) SetStage(stage string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	changed := c.stage != stage && !c.stopped
	c.stage = stage
	for _, t := range c.tasks {
		if t.started && !t.done {
			t.stage = stage
		}
	}
	c.mu.Unlock()
	if changed && c.view != nil {
		c.view.staged(c.Snapshot())
	}
}

// MoreToCome says whether datasets not yet told (Expect, AddTo, ...) are
// to come: the run's total is then marked as an estimate, not a count.
// Verify's checks say so until the last, each check telling the datasets
// it reads as it begins.
func (c *Counter) MoreToCome(more bool) {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.more = more
	c.mu.Unlock()
}

// StageOf says what one dataset is doing; it starts the dataset's clock.
func (c *Counter) StageOf(dataset, stage string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.task(dataset)
	if !t.started {
		t.started, t.start, t.last = true, c.clock(), c.clock()
	}
	t.stage = stage
}

// Done marks a dataset finished: its count is now exact.
func (c *Counter) Done(dataset string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.task(dataset)
	if t.done {
		return // its time ended when it was first done
	}
	now := c.clock()
	if !t.started {
		t.started, t.start = true, now
	}
	t.done, t.stage, t.last = true, StageDone, now
}

// BytesKind is which bytes the counter counts: "uncompressed" or
// "compressed" (Options.BytesKind).
func (c *Counter) BytesKind() string {
	if c == nil {
		return ""
	}
	return c.opts.BytesKind
}

// Rows and Bytes done so far.
func (c *Counter) Rows() int64 {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rows
}

func (c *Counter) Bytes() int64 {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}

// Task is one dataset's counts, for the report.
type Task struct {
	Name    string
	Unit    string // what Rows counts: rows, keys, documents
	Rows    int64
	Bytes   int64
	Elapsed time.Duration // from its first count to its last (or Done)
}

// Tasks are the datasets counted, in the order they were first seen (the
// run-wide count of Add is left out).
func (c *Counter) Tasks() []Task {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Task
	for _, n := range c.order {
		t := c.tasks[n]
		if n == "" || !t.started {
			continue
		}
		out = append(out, Task{Name: n, Unit: c.unitOf(t), Rows: t.rows, Bytes: t.bytes, Elapsed: t.last.Sub(t.start)})
	}
	return out
}

// Samples are the run's counts over time, the first at its start and the
// last at Stop.
func (c *Counter) Samples() []Sample {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Sample(nil), c.samples...)
}

// Stop ends the view and records the last sample. Safe to call twice:
// commands defer Stop for their error paths and call it before printing a
// result.
func (c *Counter) Stop() {
	if c == nil {
		return
	}
	c.stopOnce.Do(func() {
		c.mu.Lock()
		c.stopped = true
		now := c.clock()
		if last := c.samples[len(c.samples)-1]; last.Rows != c.rows || last.Bytes != c.bytes || len(c.samples) == 1 {
			c.samples = append(c.samples, Sample{At: now, Rows: c.rows, Bytes: c.bytes})
		}
		c.mu.Unlock()
		if c.view != nil {
			c.view.stop(c.Snapshot())
		}
	})
}

// sortedRunning is the names of the datasets started and not done, in
// the order they started.
func (c *Counter) sortedRunning() []string {
	var names []string
	for _, n := range c.order {
		if t := c.tasks[n]; t.started && !t.done && n != "" {
			names = append(names, n)
		}
	}
	sort.SliceStable(names, func(i, j int) bool { return c.tasks[names[i]].start.Before(c.tasks[names[j]].start) })
	return names
}

// Unite makes the estimated tasks of names one task, into, their
// estimates added up: an export reads a logical dataset's member tables
// as the one dataset into (exporter, logical datasets), after the source
// estimated each table.
func (c *Counter) Unite(into string, names []string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	drop := map[string]bool{}
	var rows, bytes int64
	for _, n := range names {
		if t := c.tasks[n]; t != nil && !t.started {
			rows, bytes = rows+t.total, bytes+t.totalBytes
			delete(c.tasks, n)
			drop[n] = true
		}
	}
	order := c.order[:0]
	for _, n := range c.order {
		if !drop[n] {
			order = append(order, n)
		}
	}
	c.order = order
	t := c.task(into)
	t.total, t.totalBytes, t.exact, t.known = t.total+rows, t.totalBytes+bytes, false, true
}
