// Package progress counts rows and bytes of long operations and reports them:
// a redrawn status line on a terminal, structured log lines otherwise.
package progress

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Counter is shared by the goroutines of one operation. A nil *Counter is
// valid and counts nothing, so packages need not check.
type Counter struct {
	rows, bytes atomic.Int64
	totalRows   atomic.Int64 // 0 = unknown
	totalBytes  atomic.Int64
	label       string
	start       time.Time
	stop        chan struct{}
	stopOnce    sync.Once
	wg          sync.WaitGroup
	out         io.Writer
	log         *slog.Logger
	tty         bool
}

// Add counts rows and bytes done.
func (c *Counter) Add(rows, bytes int64) {
	if c == nil {
		return
	}
	c.rows.Add(rows)
	c.bytes.Add(bytes)
}

// SetTotal sets the expected totals (for rate and ETA); 0 means unknown.
func (c *Counter) SetTotal(rows, bytes int64) {
	if c == nil {
		return
	}
	c.totalRows.Store(rows)
	c.totalBytes.Store(bytes)
}

// AddTotal grows the expected totals as work is discovered.
func (c *Counter) AddTotal(rows, bytes int64) {
	if c == nil {
		return
	}
	c.totalRows.Add(rows)
	c.totalBytes.Add(bytes)
}

// Rows and Bytes done so far.
func (c *Counter) Rows() int64  { return c.rows.Load() }
func (c *Counter) Bytes() int64 { return c.bytes.Load() }

// Start begins reporting every interval to w (a status line if w is a
// terminal) or to log (one structured record per interval) otherwise.
func Start(label string, w *os.File, log *slog.Logger, interval time.Duration) *Counter {
	c := &Counter{label: label, start: time.Now(), stop: make(chan struct{}), out: w, log: log}
	if w != nil {
		if st, err := w.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			c.tty = true
		}
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-c.stop:
				return
			case <-t.C:
				c.report(false)
			}
		}
	}()
	return c
}

// Stop ends reporting and prints a final line.
func (c *Counter) Stop() {
	if c == nil || c.stop == nil {
		return
	}
	// Once: commands defer Stop for their error paths and call it before
	// printing a result.
	c.stopOnce.Do(func() {
		close(c.stop)
		c.wg.Wait()
		c.report(true)
	})
}

func (c *Counter) report(final bool) {
	el := time.Since(c.start)
	rows, bytes := c.rows.Load(), c.bytes.Load()
	rate := float64(rows) / el.Seconds()
	brate := float64(bytes) / el.Seconds()
	eta := ""
	if tr := c.totalRows.Load(); tr > 0 && rows > 0 && !final && rows < tr {
		left := time.Duration(float64(tr-rows) / rate * float64(time.Second))
		eta = " ETA " + left.Round(time.Second).String()
	}
	total := ""
	if tr := c.totalRows.Load(); tr > 0 {
		total = fmt.Sprintf("/%d", tr)
	}
	if c.tty {
		end := "\r"
		if final {
			end = "\n"
		}
		fmt.Fprintf(c.out, "\r%s: %d%s rows, %s, %.0f rows/s, %s/s%s\x1b[K%s", c.label, rows, total, HumanBytes(bytes), rate, HumanBytes(int64(brate)), eta, end)
		return
	}
	if c.log != nil {
		c.log.Info(c.label, "rows", rows, "total_rows", c.totalRows.Load(), "bytes", bytes, "rows_per_s", int64(rate), "elapsed_s", el.Seconds(), "final", final)
	}
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
