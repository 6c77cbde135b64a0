package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/scheme"
	"github.com/imbundle/imbundle/rollback"
	"github.com/imbundle/imbundle/spec"
)

// rollbackFlags are import's --rollback-out and --no-rollback (SPEC.md
// §13): the rollback bundle an import writes before its first write.
type rollbackFlags struct {
	out string
	off bool
}

func (f *rollbackFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&f.out, "rollback-out", "", "write the prior state of everything the import changes to this rollback bundle before the first write (default with --mode replace and append: FILE.rollback-TARGET.imb beside the bundle; imbundle rollback restores it)")
	fs.BoolVar(&f.off, "no-rollback", false, "write no rollback bundle (--mode replace and append write one by default)")
}

func (f *rollbackFlags) check(targets []string) error {
	if f.off && f.out != "" {
		return scheme.Usagef("--no-rollback and --rollback-out contradict each other: give one")
	}
	if f.out != "" && len(targets) > 1 {
		return scheme.Usagef("--rollback-out names one file and there are %d targets: leave it out, and each target's rollback bundle gets a name of its own", len(targets))
	}
	return nil
}

// path is the rollback bundle of importing bundle into target, "" for
// none: --rollback-out, else by default for modes replace and append and
// for a delta bundle (whatever --mode says: it replaces and appends) a
// name beside the bundle that the same bundle and target always give, so
// that a resumed import finds the one its first run wrote.
func (f *rollbackFlags) path(bundle, target string, mode importer.Mode, delta bool) string {
	switch {
	case f.off:
		return ""
	case f.out != "":
		return f.out
	case mode != importer.ModeReplace && mode != importer.ModeAppend && !delta:
		return ""
	}
	base := strings.TrimSuffix(localBase(bundle), ".imb")
	if bundle == "-" {
		base = "stdin"
	}
	sum := sha256.Sum256([]byte(scheme.Redact(target)))
	return filepath.Clean(base + ".rollback-" + hex.EncodeToString(sum[:4]) + ".imb")
}

// hook is the import's BeforeWrite that writes the rollback bundle, and
// says so on out; nil without one.
func (f *rollbackFlags) hook(out io.Writer, bundle, target, engine string, mode importer.Mode, delta bool, jobs int, log *slog.Logger) func(context.Context, *importer.Plan) error {
	path := f.path(bundle, target, mode, delta)
	if path == "" {
		return nil
	}
	return func(ctx context.Context, p *importer.Plan) error {
		c := rollback.Capture{Target: target, Engine: engine, Out: path, Jobs: jobs, Log: log, Tool: spec.Tool{Name: "imbundle", Version: toolVersion()}}
		res, err := c.Write(ctx, p)
		if err != nil {
			return fmt.Errorf("rollback bundle %s: %w\nnothing was written to the target; give the rollback bundle a writable place with --rollback-out FILE (the bundle's own directory may be read-only media), or import without one with --no-rollback", path, err)
		}
		if res.Kept {
			fmt.Fprintf(out, "rollback bundle: kept %s, written by an earlier run of this import before its first write\n", res.Path)
		} else {
			fmt.Fprintf(out, "rollback bundle: wrote %s: prior state of %d dataset(s) and %d schema object(s); %d object(s) did not exist\n", res.Path, res.Datasets, res.Objects, res.Absent)
		}
		fmt.Fprintf(out, "  undo the import with: imbundle rollback %s --target %s\n", res.Path, scheme.Redact(target))
		return nil
	}
}
