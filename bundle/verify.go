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

// VerifyAll hashes parts with jobs goroutines and checks the structure of
// each intact one against the manifest (CheckPart: schema, rows per batch,
// compression, buffer sizes; no value is decoded), calling report (if not
// nil) for each in completion order. It checks all of them, so a report
// names every bad part, and returns their errors joined in the order of
// parts. Each worker reads in large blocks into one reused buffer; with
// SHA-256 instructions a core hashes well over 1 GB/s, so jobs = cores is
// enough, and the structure check reads only headers.
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
			var buf []byte // grown by verifyPart to the largest part, up to verifyBufSize
			for i := range ch {
				err := ctx.Err()
				if err == nil {
					buf, err = r.verifyPart(parts[i], buf)
				}
				if err == nil {
					err = r.checkPartAt(parts[i])
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

// checkPartAt runs CheckPart on the part of the manifest at p's path.
func (r *Reader) checkPartAt(p spec.Part) error {
	di, pi, deleted, ok := parseEntryPart(p.Path)
	if !ok || di >= len(r.manifest.Datasets) {
		return corruptf("entry %q is not a part of this bundle's manifest", p.Path)
	}
	ds := &r.manifest.Datasets[di]
	if deleted {
		ds = spec.DeletedDataset(ds)
	}
	if ds == nil || pi >= len(ds.Parts) || ds.Parts[pi].Path != p.Path {
		return corruptf("entry %q is not a part of this bundle's manifest", p.Path)
	}
	return r.CheckPart(ds, pi)
}
