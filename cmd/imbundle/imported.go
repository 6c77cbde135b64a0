package main

import (
	"context"
	"log/slog"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/convert"
	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/verify"
)

// alreadyImported reports whether the target already holds exactly what
// the bundle's datasets of engine hold, schema included: read back and
// digested as verify --against does. It is asked only after --mode fail
// refused a non-empty target. A finished import leaves no resume state, so
// without this a run killed after its last write, or the same command run
// again, could never succeed; with it, a target that equals the bundle
// needs nothing and the import says so, while a target holding anything
// else is still refused.
func alreadyImported(ctx context.Context, r *bundle.Reader, target, engine string, rename map[string]string, mapping *convert.Mapping, datasets []string, log *slog.Logger) bool {
	src, err := exporter.Open(ctx, target, exporter.Options{Log: log})
	if err != nil {
		return false
	}
	defer src.Close()
	o := verify.AgainstOptions{Map: rename, Mapping: mapping, Engine: engine, Datasets: datasets}
	results, err := verify.Against(ctx, r, src, o)
	if err != nil || len(results) == 0 {
		return false
	}
	for _, d := range results {
		if !d.Match || d.Err != nil {
			return false
		}
	}
	diffs, _, err := verify.Schema(ctx, r, src, o)
	return err == nil && len(diffs) == 0
}
