package progress

import (
	"log/slog"
	"time"
)

// logView writes the bars as structured log records every interval: one
// for the run, one for each running dataset.
type logView struct {
	c    *Counter
	log  *slog.Logger
	quit chan struct{}
	done chan struct{}
}

func startLog(c *Counter, log *slog.Logger, interval time.Duration) *logView {
	v := &logView{c: c, log: log, quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(v.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-v.quit:
				return
			case <-t.C:
				LogSnapshot(log, c.Snapshot(), false)
			}
		}
	}()
	return v
}

// staged writes a record as the run enters a stage, not up to an interval
// later: a stage of a few seconds (building indexes, checking) shows. The
// run entering done is left to the final record, which Stop writes next.
func (v *logView) staged(s Snapshot) {
	if s.Stage != StageDone {
		LogSnapshot(v.log, s, false)
	}
}

func (v *logView) stop(final Snapshot) {
	close(v.quit)
	<-v.done
	LogSnapshot(v.log, final, true)
}

// LogSnapshot writes s as log records: the run's (message: the label,
// e.g. "export") with its stage, then one "LABEL dataset" record for each
// running dataset. A total that is an estimate says so (total_estimate).
func LogSnapshot(log *slog.Logger, s Snapshot, final bool) {
	if log == nil {
		return
	}
	t := s.Total
	attrs := []any{"stage", s.Stage, s.Unit, t.Done, "total_" + s.Unit, t.Total, "total_estimate", t.Estimate,
		s.Unit + "_per_s", int64(t.RowsPerSec), "datasets_done", s.Done, "datasets", s.Datasets,
		"elapsed_s", t.Elapsed.Seconds(), "final", final}
	if s.BytesKind != "" {
		attrs = append(attrs, "bytes_"+s.BytesKind, t.Bytes)
	}
	if t.Grew {
		attrs = append(attrs, "estimate_grew_from", t.EstimateOf)
	}
	if t.Compressed > 0 {
		attrs = append(attrs, "bytes_compressed", t.Compressed)
	}
	if t.ETA >= 0 && !final {
		attrs = append(attrs, "eta_s", t.ETA.Seconds())
	}
	log.Info(s.Label, attrs...)
	if final {
		return
	}
	for _, b := range s.Running {
		a := []any{"dataset", b.Name, "stage", b.Stage, b.Unit, b.Done, "total_" + b.Unit, b.Total, "total_estimate", b.Estimate,
			b.Unit + "_per_s", int64(b.RowsPerSec)}
		if s.BytesKind != "" {
			a = append(a, "bytes_"+s.BytesKind, b.Bytes)
		}
		if b.Grew {
			a = append(a, "estimate_grew_from", b.EstimateOf)
		}
		if b.Compressed > 0 {
			a = append(a, "bytes_compressed", b.Compressed)
		}
		log.Info(s.Label+" dataset", a...)
	}
}
