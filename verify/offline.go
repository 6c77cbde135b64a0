// Package verify proves a bundle whole (offline, from the file alone) and a
// target equal to it (by reading the target through the exporter that made
// the bundle and comparing content digests).
package verify

import (
	"context"
	"fmt"
	"io"

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

// Offline checks every part's SHA-256 (the container and manifest were
// checked by bundle.Open). With deep, it also decodes every record batch and
// recomputes row counts and content digests, proving the manifest's digests
// without a database.
func Offline(ctx context.Context, r *bundle.Reader, jobs int, deep bool, report func(PartResult)) error {
	m := r.Manifest()
	var parts []spec.Part
	where := map[string][2]any{}
	for _, ds := range m.Datasets {
		for i, p := range ds.Parts {
			parts = append(parts, p)
			where[p.Path] = [2]any{ds.Name, i}
		}
	}
	err := bundle.VerifyAll(ctx, r, parts, jobs, func(c bundle.PartCheck) {
		if report != nil {
			w := where[c.Part.Path]
			report(PartResult{Dataset: w[0].(string), Index: w[1].(int), Part: c.Part, Err: c.Err})
		}
	})
	if err != nil || !deep {
		return err
	}
	for i := range m.Datasets {
		ds := &m.Datasets[i]
		d, err := DigestParts(r, ds)
		if err != nil {
			return err
		}
		if got := d.Spec(); got.Sum != ds.Digest.Sum || got.Rows != ds.Rows {
			return fmt.Errorf("dataset %q: decoded rows digest to %s (%d rows), manifest says %s (%d rows)", ds.Name, got.Sum, got.Rows, ds.Digest.Sum, ds.Rows)
		}
	}
	return nil
}

// DigestParts decodes every part of ds and returns their content digest,
// checking each part's row count against the manifest.
func DigestParts(r *bundle.Reader, ds *spec.Dataset) (*bundle.Digest, error) {
	total := new(bundle.Digest)
	for i, p := range ds.Parts {
		pr, err := r.OpenPart(ds, i)
		if err != nil {
			return nil, fmt.Errorf("dataset %q: %w", ds.Name, err)
		}
		var d bundle.Digest
		for {
			rec, err := pr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				pr.Close()
				return nil, fmt.Errorf("dataset %q: %w", ds.Name, err)
			}
			d.AddRecord(rec)
		}
		pr.Close()
		if d.Rows() != p.Rows {
			return nil, fmt.Errorf("dataset %q: entry %q holds %d rows, manifest says %d", ds.Name, p.Path, d.Rows(), p.Rows)
		}
		total.Merge(&d)
	}
	return total, nil
}
