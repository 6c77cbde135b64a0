package progress

import (
	"io"
	"sync"
)

// Output is a terminal shared by the log and the bars: while bars are
// drawn, what the log writes is printed above them (through mpb), not
// over them.
type Output struct {
	// w is the terminal, looked up at each write: tests swap os.Stderr.
	w    func() io.Writer
	mu   sync.Mutex
	bars io.Writer // the running bars, nil when none
}

// NewOutput shares the writer w returns.
func NewOutput(w func() io.Writer) *Output { return &Output{w: w} }

// Write prints b above the bars, or to the terminal when none run (or
// they just ended).
func (o *Output) Write(b []byte) (int, error) {
	o.mu.Lock()
	bars := o.bars
	o.mu.Unlock()
	if bars != nil {
		if n, err := bars.Write(b); err == nil {
			return n, nil
		}
	}
	return o.w().Write(b)
}

func (o *Output) setBars(w io.Writer) {
	o.mu.Lock()
	o.bars = w
	o.mu.Unlock()
}
