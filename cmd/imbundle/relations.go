package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/convert"
	"github.com/imbundle/imbundle/report"
	"github.com/imbundle/imbundle/verify"
)

// checkRelations is verify --relations: after the bundle proved whole, each
// relation of its manifest is checked against its rows and its orphans
// reported. Orphans are findings, not failures (exit 0): IM data keeps
// references to deleted users; a relation that cannot be read is an error.
func checkRelations(ctx context.Context, out io.Writer, r *bundle.Reader, asJSON bool, sp convert.Spill) error {
	prog := startChecking(logger())
	defer prog.Stop()
	results, err := verify.Relations(ctx, r, verify.RelationOptions{TempDir: sp.Dir, Memory: sp.Memory, Progress: prog}, func(rr verify.RelationResult) {
		if asJSON {
			return
		}
		switch {
		case rr.Skipped != "":
			fmt.Fprintf(out, "relation %s -> %s: not checked: %s\n", rr.From, rr.To, rr.Skipped)
		case rr.Orphans == 0:
			fmt.Fprintf(out, "relation %s -> %s: %d values, no orphan\n", rr.From, rr.To, rr.Values)
		default:
			fmt.Fprintf(out, "relation %s -> %s: %d values, %d ORPHANS, first: %s\n", rr.From, rr.To, rr.Values, rr.Orphans, strings.Join(rr.First, ", "))
		}
	})
	prog.MoreToCome(false)
	if err != nil {
		return err
	}
	report.From(ctx).RelationsChecked(results)
	if asJSON {
		return json.NewEncoder(out).Encode(map[string]any{"id": r.ID(), "relations": results})
	}
	if len(results) == 0 {
		fmt.Fprintln(out, "the manifest declares no relation")
	}
	return nil
}
