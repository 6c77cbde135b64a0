package progress

import (
	"fmt"
	"strings"
	"time"
)

// Bar is what one bar shows: a running dataset's or the run's total.
type Bar struct {
	Name  string `json:"name,omitempty"` // "" for the total
	Stage string `json:"stage"`
	Unit  string `json:"unit"` // what Done and Total count: rows, keys, documents
	Done  int64  `json:"done"`
	// Total is the rows expected, 0 if unknown. An estimate the count
	// passed is raised to the count and stays an estimate (Grew): a bar
	// never shows more done than expected.
	Total      int64         `json:"total"`
	Estimate   bool          `json:"estimate"`              // Total is an engine's estimate, not a count
	Grew       bool          `json:"grew,omitempty"`        // the count passed the estimate
	EstimateOf int64         `json:"estimate_of,omitempty"` // the engine's estimate, when it grew
	Bytes      int64         `json:"bytes"`
	Compressed int64         `json:"compressed,omitempty"` // export: the parts written, compressed
	RowsPerSec float64       `json:"rows_per_s"`
	BytesPerS  float64       `json:"bytes_per_s"`
	ETA        time.Duration `json:"eta"` // < 0 unknown
	Elapsed    time.Duration `json:"elapsed"`
}

// Snapshot is the bar model at one moment.
type Snapshot struct {
	Label string
	// Unit is what the total counts: the datasets' unit when they agree,
	// else "records".
	Unit      string
	BytesKind string
	Stage     string
	Total     Bar
	Running   []Bar // the datasets started and not done, oldest first
	Done      int   // datasets done
	Datasets  int   // datasets known
}

// Snapshot computes the bars now.
func (c *Counter) Snapshot() Snapshot {
	if c == nil {
		return Snapshot{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.clock()
	s := Snapshot{Label: c.opts.Label, Unit: c.runUnit(), BytesKind: c.opts.BytesKind, Stage: c.stage}
	if s.Stage == "" {
		s.Stage = StageReading
	}
	var total, estOf int64
	estimate, known, grew := false, false, false
	for _, n := range c.order {
		t := c.tasks[n]
		if n != "" {
			s.Datasets++
		}
		switch {
		case t.done:
			s.Done++
			total += t.rows
			known = true
		case t.known:
			known = true
			if t.rows > t.total {
				total += t.rows
				grew = grew || !t.exact
			} else {
				total += t.total
			}
			estimate = estimate || !t.exact
			if !t.exact {
				estOf += t.total
			}
		default:
			total += t.rows
			estimate = true
		}
	}
	// Every dataset done ends the run but for a stage after them (the
	// import's index builds).
	if s.Datasets > 0 && s.Done == s.Datasets && (c.stage == "" || c.stage == StageReading || c.stage == StageVerifying || c.stage == StageChecking) {
		s.Stage = StageDone
	}
	// The run's rate is over the time datasets were being worked on: not
	// the verification before an import's first row, nor the index
	// builds after its last.
	var first, last time.Time
	running := false
	for _, n := range c.order {
		t := c.tasks[n]
		if !t.started {
			continue
		}
		if first.IsZero() || t.start.Before(first) {
			first = t.start
		}
		if t.last.After(last) {
			last = t.last
		}
		running = running || !t.done
	}
	if first.IsZero() {
		first = now
	}
	if running || last.Before(first) {
		last = now
	}
	el := last.Sub(first)
	s.Total = bar("", s.Stage, c.rows, c.bytes, el)
	s.Total.Unit = s.Unit
	s.Total.Compressed = c.compressed
	s.Total.Estimate = c.more
	if known {
		s.Total.Total, s.Total.Estimate, s.Total.Grew = total, estimate || c.more, grew
		if grew {
			s.Total.EstimateOf = estOf
		}
		s.Total.ETA = eta(s.Total)
	}
	for _, n := range c.sortedRunning() {
		t := c.tasks[n]
		b := bar(n, t.stage, t.rows, t.bytes, now.Sub(t.start))
		b.Unit = c.unitOf(t)
		b.Compressed = t.compressed
		if t.known {
			b.Total, b.Estimate = t.total, !t.exact
			if t.rows > t.total {
				b.Total, b.Grew, b.EstimateOf = t.rows, !t.exact, t.total
			}
			b.ETA = eta(b)
		}
		s.Running = append(s.Running, b)
	}
	return s
}

// runUnit is the datasets' unit when they all count the same records
// (the run's Options.Unit if none said otherwise), else "records".
func (c *Counter) runUnit() string {
	unit := ""
	for _, n := range c.order {
		if n == "" {
			continue
		}
		switch u := c.unitOf(c.tasks[n]); {
		case unit == "":
			unit = u
		case u != unit:
			return "records"
		}
	}
	if unit == "" {
		return c.opts.Unit
	}
	return unit
}

func bar(name, stage string, rows, bytes int64, el time.Duration) Bar {
	b := Bar{Name: name, Stage: stage, Done: rows, Bytes: bytes, Elapsed: el, ETA: -1}
	if sec := el.Seconds(); sec > 0 {
		b.RowsPerSec = float64(rows) / sec
		b.BytesPerS = float64(bytes) / sec
	}
	return b
}

// eta is the time left at the average rate so far; unknown (-1) once an
// estimate proved low, since how much is left is not known then, and
// before 1% is done: an import counts whole parts, and the rate of its
// first small table says nothing of the large one being loaded.
func eta(b Bar) time.Duration {
	if b.Grew || b.RowsPerSec <= 0 || b.Total <= b.Done || b.Done*100 < b.Total {
		if b.Total > 0 && b.Total <= b.Done && !b.Grew {
			return 0
		}
		return -1
	}
	return time.Duration(float64(b.Total-b.Done) / b.RowsPerSec * float64(time.Second)).Round(time.Second)
}

// Count renders the done and expected counts: "1200/5000 rows",
// "1200/~5000 rows (estimate)", "1526204/~1526204+ rows (estimate
// 1484785 grew)", "1200 rows".
func (b Bar) Count(unit string) string {
	switch {
	case b.Total == 0:
		return fmt.Sprintf("%d %s", b.Done, unit)
	case b.Grew:
		return fmt.Sprintf("%d/~%d+ %s (estimate %d grew)", b.Done, b.Total, unit, b.EstimateOf)
	case b.Estimate:
		return fmt.Sprintf("%d/~%d %s (estimate)", b.Done, b.Total, unit)
	}
	return fmt.Sprintf("%d/%d %s", b.Done, b.Total, unit)
}

// Text is the bar as one line of text, for a terminal or a log.
func (b Bar) Text(unit, bytesKind string) string {
	parts := []string{b.Count(unit)}
	if bytesKind != "" { // "": the run counts no bytes
		bytes := HumanBytes(b.Bytes) + " " + bytesKind
		if b.Compressed > 0 {
			bytes += " (" + HumanBytes(b.Compressed) + " compressed)"
		}
		parts = append(parts, bytes)
	}
	parts = append(parts, fmt.Sprintf("%.0f %s/s", b.RowsPerSec, unit))
	if bytesKind != "" {
		parts = append(parts, HumanBytes(int64(b.BytesPerS))+"/s")
	}
	if b.ETA >= 0 {
		parts = append(parts, "ETA "+b.ETA.String())
	}
	return strings.Join(parts, ", ") + " [" + b.Stage + "]"
}

// HumanBytes renders n as B, KiB, MiB, GiB.
func HumanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
