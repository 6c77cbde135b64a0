package progress

import (
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// ttyView draws a bar per running dataset and the run's total with mpb;
// the numbers come from the Counter's Snapshot, mpb only draws them.
type ttyView struct {
	c     *Counter
	p     *mpb.Progress
	total *mpb.Bar
	mu    sync.Mutex
	bars  map[string]*mpb.Bar
	last  Snapshot
	// shared is the Output the log writes through, told when the bars
	// end.
	shared *Output
	quit   chan struct{}
	done   chan struct{}
}

func startTTY(c *Counter, w io.Writer, refresh time.Duration) *ttyView {
	v := &ttyView{c: c, bars: map[string]*mpb.Bar{}, last: c.Snapshot(), quit: make(chan struct{}), done: make(chan struct{})}
	shared, _ := w.(*Output)
	if shared != nil {
		w = shared.w() // the bars draw on the terminal itself
	}
	v.p = mpb.New(mpb.WithOutput(w), mpb.WithRefreshRate(refresh), mpb.WithWidth(30))
	if shared != nil {
		shared.setBars(v.p)
		v.shared = shared
	}
	v.total = v.p.New(0, mpb.BarStyle().Lbound("[").Rbound("]"),
		mpb.BarPriority(1<<30), // below every dataset's bar
		mpb.PrependDecorators(decor.Any(func(decor.Statistics) string { return v.snap().Label + " total" }, decor.WCSyncSpaceR)),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string {
			s := v.snap()
			return s.Total.Text(s.Unit, s.BytesKind) + datasetsText(s)
		})))
	go func() {
		defer close(v.done)
		t := time.NewTicker(refresh)
		defer t.Stop()
		for {
			select {
			case <-v.quit:
				return
			case <-t.C:
				v.update(c.Snapshot())
			}
		}
	}()
	return v
}

func datasetsText(s Snapshot) string {
	if s.Datasets == 0 {
		return ""
	}
	return "  datasets " + strconv.Itoa(s.Done) + "/" + strconv.Itoa(s.Datasets)
}

func (v *ttyView) snap() Snapshot {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.last
}

// update moves the bars to s: new bars for datasets that started, bars
// completed (and removed) for those that finished.
func (v *ttyView) update(s Snapshot) {
	v.mu.Lock()
	v.last = s
	v.mu.Unlock()
	running := map[string]bool{}
	for _, b := range s.Running {
		running[b.Name] = true
		bar := v.bars[b.Name]
		if bar == nil {
			name := b.Name
			bar = v.p.New(0, mpb.BarStyle().Lbound("[").Rbound("]"), mpb.BarRemoveOnComplete(),
				mpb.PrependDecorators(decor.Any(func(decor.Statistics) string { return name }, decor.WCSyncSpaceR)),
				mpb.AppendDecorators(decor.Any(func(decor.Statistics) string {
					s := v.snap()
					for _, b := range s.Running {
						if b.Name == name {
							return b.Text(b.Unit, s.BytesKind)
						}
					}
					return ""
				})))
			v.bars[name] = bar
		}
		setBar(bar, b)
	}
	for name, bar := range v.bars {
		if !running[name] {
			bar.SetTotal(-1, true)
			delete(v.bars, name)
		}
	}
	setBar(v.total, s.Total)
}

// setBar fills a bar: an unknown total shows an empty bar, not a full one.
func setBar(bar *mpb.Bar, b Bar) {
	total := b.Total
	if total <= 0 {
		total = b.Done + 1
	}
	bar.SetTotal(total, false)
	bar.SetCurrent(b.Done)
}

// staged: the bars show the stage at their next redraw.
func (v *ttyView) staged(Snapshot) {}

func (v *ttyView) stop(final Snapshot) {
	close(v.quit)
	<-v.done
	v.update(final)
	for name, bar := range v.bars {
		bar.SetTotal(-1, true)
		delete(v.bars, name)
	}
	v.total.SetTotal(-1, true)
	v.p.Wait()
	if v.shared != nil {
		v.shared.setBars(nil)
	}
}
