package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/convert"
	"github.com/imbundle/imbundle/internal/scheme"
	"github.com/imbundle/imbundle/report"
	"github.com/imbundle/imbundle/verify"
)

// offlineChecks is the mapping whose checks verify FILE runs offline
// (--profile NAME or --map FILE.yaml), nil for none. The flags that only
// mean something against a database are refused here.
func offlineChecks(maps, dbMaps, params, datasets []string, profile string) (*convert.Mapping, error) {
	if len(params)+len(dbMaps)+len(datasets) > 0 {
		return nil, scheme.Usagef("--param, --db-map and --datasets apply to verify --against only")
	}
	renames, m, err := splitMaps(maps, profile)
	if err != nil {
		return nil, err
	}
	if len(renames) > 0 {
		return nil, scheme.Usagef("--map OLD=NEW applies to verify --against only (offline, --map takes a mapping file with checks)")
	}
	if m != nil && len(m.AllChecks()) == 0 {
		return nil, scheme.Usagef("%s has no checks to run offline (give --against URL to compare a database with the bundle)", m.File())
	}
	return m, nil
}

// runChecks is verify FILE --profile NAME offline: after the bundle proved
// whole, each check of the mapping is evaluated over its rows. Violations
// are findings (exit 0: IM data is dirty and the operator decides), or exit
// 3 with --strict, for scripts that must stop on dirt; a check that cannot
// run is an error.
func runChecks(ctx context.Context, out io.Writer, r *bundle.Reader, m *convert.Mapping, asJSON, strict bool, sp convert.Spill) error {
	prog := startChecking(logger())
	defer prog.Stop()
	o := verify.RelationOptions{TempDir: sp.Dir, Memory: sp.Memory, Progress: prog}
	return reportChecks(ctx, out, m, asJSON, strict, "", map[string]any{"id": r.ID()}, func(each func(verify.CheckResult)) ([]verify.CheckResult, error) {
		res, err := verify.Checks(ctx, r, m, o, each)
		prog.MoreToCome(false)
		return res, err
	})
}

// reportChecks prints each check's result as run gives it (on says where:
// "" for the bundle, " on URL" for a database), then the JSON report with
// head's members, and makes violations exit 3 under --strict.
func reportChecks(ctx context.Context, out io.Writer, m *convert.Mapping, asJSON, strict bool, on string, head map[string]any, run func(func(verify.CheckResult)) ([]verify.CheckResult, error)) error {
	bad := 0
	results, err := run(func(c verify.CheckResult) {
		if c.Violations > 0 {
			bad++
		}
		if asJSON {
			return
		}
		switch {
		case c.Skipped != "":
			fmt.Fprintf(out, "check %s (%s)%s: not checked: %s\n", c.Name, c.Kind, on, c.Skipped)
		case c.Violations == 0:
			fmt.Fprintf(out, "check %s (%s)%s: %d rows, ok\n", c.Name, c.Kind, on, c.Rows)
		default:
			fmt.Fprintf(out, "check %s (%s)%s: %d rows, %d VIOLATIONS, first: %s\n", c.Name, c.Kind, on, c.Rows, c.Violations, strings.Join(c.First, "; "))
		}
	})
	var ce *verify.CheckError
	if errors.As(err, &ce) {
		return withCode(exitBadInput, fmt.Errorf("%w\ncheck %s of %s cannot run as written on these rows%s: fix it at the position named (imbundle inspect lists the datasets and their columns)", err, ce.Check, m.File(), on))
	}
	if err != nil {
		return err
	}
	report.From(ctx).ChecksRun(results)
	if asJSON {
		head["mapping"], head["checks"] = m.File(), results
		json.NewEncoder(out).Encode(head)
	}
	if bad > 0 && strict {
		return withCode(exitMismatch, fmt.Errorf("%d of %d check(s) of %s found violations%s", bad, len(results), m.File(), on))
	}
	return nil
}
