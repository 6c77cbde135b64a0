package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/delta"
	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/internal/scheme"
	"github.com/imbundle/imbundle/spec"
)

// sinceChain opens the bundles export --since names (the full bundle and
// the deltas after it), checks every part's SHA-256, and orders them into
// their chain: a delta is computed against the state they hold, so a
// damaged or incomplete chain is refused before a source is read.
func sinceChain(ctx context.Context, paths []string, dec decryptFlags, jobs int) (*delta.Chain, func(), error) {
	rs, closeAll, err := openChainBundles(ctx, paths, dec, jobs, false, func(p string, err error) error {
		return withCode(exitBadInput, fmt.Errorf("--since %s: %w; nothing was read or written (copy the bundle again, or take a full export)", p, err))
	}, nil)
	if err != nil {
		return nil, nil, err
	}
	c, err := orderChain(rs, paths)
	if err != nil {
		closeAll()
		return nil, nil, withCode(exitUsage, fmt.Errorf("--since: %w", err))
	}
	return c, closeAll, nil
}

// deltaSink compares each dataset with its state in the chain, spooling
// and sorting beside the output (or in --temp-dir).
func deltaSink(c *delta.Chain, out, tempDir string, sortMiB int) exporter.SinkFunc {
	dir := tempDir
	if dir == "" {
		dir = filepath.Dir(out)
	}
	return func(ds *spec.Dataset, schema *arrow.Schema, dw *bundle.DatasetWriter) (exporter.Sink, error) {
		return c.Dataset(ds, schema, dw, delta.Options{TempDir: dir, SortMemory: int64(sortMiB) << 20})
	}
}

// deltaSummary is the line export prints of a delta.
func deltaSummary(m *spec.Manifest) string {
	var changed, whole, same int
	var keys int64
	for _, ds := range m.Datasets {
		switch ds.Delta.Change {
		case spec.ChangeRows:
			changed++
		case spec.ChangeWhole:
			whole++
		default:
			same++
		}
		if ds.Delta.Deleted != nil {
			keys += ds.Delta.Deleted.Rows
		}
	}
	return fmt.Sprintf("delta %d of base %.16s…: %d datasets changed by key (%d keys removed or rewritten), %d carried whole, %d unchanged, %d dropped",
		m.Delta.Depth, m.Delta.Base, changed, keys, whole, same, len(m.Delta.Dropped))
}

// nextDelta is the delta member of an export --since chain (nil without).
func nextDelta(c *delta.Chain) *spec.Delta {
	if c == nil {
		return nil
	}
	return c.Next()
}

// sameSelection refuses a delta export that selects other than its parent
// did: a dataset the parent holds and this export does not select would be
// listed as dropped, and an import of the delta would drop it from the
// target. The sources must be as many, of the same engines, in the same
// order, with the same filters (--tables, --exclude, --where,
// --all-databases).
func sameSelection(c *delta.Chain, engines []scheme.Engine, f *exporter.Filter) error {
	parent := c.Last().Manifest()
	if len(parent.Sources) != len(engines) {
		return scheme.Usagef("--since: the chain's last bundle (%s) was exported from %d source(s), this export names %d: a delta reads the sources its parent read, in the same order", c.Names[len(c.Names)-1], len(parent.Sources), len(engines))
	}
	want, _ := json.Marshal(f.Record())
	for i, s := range parent.Sources {
		if s.Engine != engines[i].Name {
			return scheme.Usagef("--since: source %d is %s here and %s in %s: a delta reads the sources its parent read, in the same order", i+1, engines[i].Name, s.Engine, c.Names[len(c.Names)-1])
		}
		if had, _ := json.Marshal(s.Filter); string(had) != string(want) {
			return scheme.Usagef("--since: %s selected %s, this export selects %s: a delta selects what its parent did (else the datasets left out would be dropped from the target); give the same --tables, --exclude, --where and --all-databases", c.Names[len(c.Names)-1], string(had), string(want))
		}
	}
	return nil
}
