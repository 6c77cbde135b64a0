package bundle

import (
	"context"
	"errors"
	"sync"

	"github.com/imbundle/imbundle/spec"
)

// PartCheck is the outcome of checking one part.
type PartCheck struct {
	Part spec.Part
	Err  error
}

// VerifyAll hashes parts with jobs goroutines, calling report (if not nil)
// for each in completion order. It returns the first error in the order of
// parts, after checking all of them, so a report names every bad part.
func VerifyAll(ctx context.Context, r *Reader, parts []spec.Part, jobs int, report func(PartCheck)) error {
	if jobs < 1 {
		jobs = 1
	}
	errs := make([]error, len(parts))
	var (
		wg  sync.WaitGroup
		rmu sync.Mutex
	)
	ch := make(chan int)
	for w := 0; w < jobs; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ch {
				err := ctx.Err()
				if err == nil {
					err = r.VerifyPart(parts[i])
				}
				errs[i] = err
				if report != nil {
					rmu.Lock()
					report(PartCheck{Part: parts[i], Err: err})
					rmu.Unlock()
				}
			}
		}()
	}
	for i := range parts {
		ch <- i
	}
	close(ch)
	wg.Wait()
	return errors.Join(errs...)
}
