package progress

import (
	"io"
	"log/slog"
	"time"
)

// Start returns a Counter that shows itself on w as bars if tty, else as
// log records on log every interval (and a final one at Stop).
func Start(opts Options, w io.Writer, tty bool, log *slog.Logger, interval time.Duration) *Counter {
	c := New(opts)
	if tty {
		c.view = startTTY(c, w, interval)
	} else {
		c.view = startLog(c, log, interval)
	}
	return c
}
