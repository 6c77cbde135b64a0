// Package verify proves a bundle whole (offline, from the file alone) and a
// target equal to it (by reading the target through the exporter that made
// the bundle and comparing content digests).
package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/spec"
)

// PartResult is one part's outcome.
type PartResult struct {
	Dataset string
	Index   int
	Part    spec.Part
	Err     error
}

// Offline checks every part's SHA-256 and its structure against the
// manifest from headers alone (bundle.VerifyAll; the container and manifest
// were checked by bundle.Open), jobs parts at a time. With deep, it also decodes
// every record batch and recomputes row counts and content digests (SPEC.md
// §5, §6), proving the manifest's digests without a database; parts are
// decoded in parallel too and their digests summed per dataset.
func Offline(ctx context.Context, r *bundle.Reader, jobs int, deep bool, report func(PartResult)) error {
	m := r.Manifest()
	// A delta's deleted keys are parts too (SPEC.md §14.1), checked and
	// digested as a dataset of their own.
	all := make([]*spec.Dataset, 0, len(m.Datasets))
	for di := range m.Datasets {
		all = append(all, &m.Datasets[di])
		if del := spec.DeletedDataset(&m.Datasets[di]); del != nil {
			all = append(all, del)
		}
	}
	var parts []spec.Part
	type where struct {
		ds, part int
	}
	at := map[string]where{}
	for di, ds := range all {
		for i, p := range ds.Parts {
			parts = append(parts, p)
			at[p.Path] = where{di, i}
		}
	}
	err := bundle.VerifyAll(ctx, r, parts, jobs, func(c bundle.PartCheck) {
		if report != nil {
			w := at[c.Part.Path]
			report(PartResult{Dataset: all[w.ds].Name, Index: w.part, Part: c.Part, Err: c.Err})
		}
	})
	if err != nil || !deep {
		return err
	}
	// bundle.Open refused any digest algorithm but spec.DigestAlgorithm.
	if jobs < 1 {
		jobs = 1
	}
	digests := make([]bundle.Digest, len(parts))
	errs := make([]error, len(parts))
	ch := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < jobs; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ch {
				if errs[i] = ctx.Err(); errs[i] == nil {
					w := at[parts[i].Path]
					errs[i] = digestPart(r, all[w.ds], w.part, &digests[i])
				}
			}
		}()
	}
	for i := range parts {
		ch <- i
	}
	close(ch)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	k := 0
	for _, ds := range all {
		var total bundle.Digest
		for range ds.Parts {
			total.Merge(&digests[k])
			k++
		}
		if got := total.Spec(); got.Sum != ds.Digest.Sum || got.Rows != ds.Rows {
			return fmt.Errorf("dataset %q: decoded rows digest to %s (%d rows), manifest says %s (%d rows): the manifest does not describe these parts", ds.Name, got.Sum, got.Rows, ds.Digest.Sum, ds.Rows)
		}
	}
	return nil
}

// DigestParts decodes every part of ds and returns their content digest,
// checking each part's row count against the manifest.
func DigestParts(r *bundle.Reader, ds *spec.Dataset) (*bundle.Digest, error) {
	total := new(bundle.Digest)
	for i := range ds.Parts {
		var d bundle.Digest
		if err := digestPart(r, ds, i, &d); err != nil {
			return nil, err
		}
		total.Merge(&d)
	}
	return total, nil
}

// digestPart decodes part i of ds into d. The part reader already refuses a
// part whose rows differ from the manifest's; the count is checked here as
// well so that this function proves it on its own.
func digestPart(r *bundle.Reader, ds *spec.Dataset, i int, d *bundle.Digest) error {
	p := ds.Parts[i]
	pr, err := r.OpenPart(ds, i)
	if err != nil {
		return fmt.Errorf("dataset %q: %w", ds.Name, err)
	}
	defer pr.Close()
	for {
		rec, err := pr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("dataset %q: %w", ds.Name, err)
		}
		d.AddRecord(rec)
	}
	if d.Rows() != p.Rows {
		return fmt.Errorf("dataset %q: entry %q holds %d rows, manifest says %d", ds.Name, p.Path, d.Rows(), p.Rows)
	}
	return nil
}
