package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/scheme"
	"github.com/imbundle/imbundle/report"
	"github.com/imbundle/imbundle/rollback"
)

func newRollbackCmd() *cobra.Command {
	var (
		target string
		jobs   int
	)
	cmd := &cobra.Command{
		Use:   "rollback FILE --target URL",
		Short: "Undo an import: put the target back from the rollback bundle the import wrote",
		Long: `Put a target back to its state before an import, from the rollback bundle
that import wrote before its first write (import --rollback-out; the
default with --mode replace and append). The objects the import created
are dropped (tables, collections, views, triggers, routines; for Redis,
each logical database the import wrote to is emptied), and those it
replaced or appended to get their prior content back (imported with
--mode replace). The rollback bundle names the target it belongs to:
another --target is refused (exit 6), and nothing is written. Then
'imbundle verify FILE --against URL' proves the target holds the prior
state.`,
		Example: `  imbundle rollback site.rollback-1a2b3c4d.imb --target mysql://root@127.0.0.1:3306/openim
  imbundle verify site.rollback-1a2b3c4d.imb --against mysql://root@127.0.0.1:3306/openim`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if target == "" {
				return scheme.Usagef("need --target URL")
			}
			if err := checkPositive("--jobs", jobs); err != nil {
				return err
			}
			targets := []string{target}
			if err := withPasswords(targets); err != nil {
				return err
			}
			e, err := importer.EngineOf(targets[0])
			if err != nil {
				return err
			}
			r, err := openLocation(args[0], bundle.ReadOptions{})
			if err != nil {
				return withCode(exitBadInput, fmt.Errorf("%s: %w\nnothing was written to the target", args[0], err))
			}
			defer r.Close()
			ctx, in := onInterrupt(cmd.Context())
			defer in.stop()
			log := logger()
			rep := report.From(ctx)
			rep.Manifest(args[0], r.Manifest(), r.ID(), r.Size())
			rep.Target(scheme.Redact(targets[0]))
			rejects := importer.NewRejects(fmt.Sprintf("%s.rejects-%s.jsonl", strings.TrimSuffix(localBase(args[0]), ".imb"), time.Now().UTC().Format("20060102T150405Z")))
			defer rejects.Close()
			defer rep.RejectFile(rejects)
			prog := startProgress("rollback", []scheme.Engine{e}, "compressed", log)
			res, err := rollback.Restore(ctx, r, targets[0], importer.Options{Jobs: jobs, Log: log, Progress: prog, Rejects: rejects})
			prog.Stop()
			rep.Progress(prog)
			if res != nil && len(res.Datasets) > 0 {
				report.From(ctx).Imported(res)
				printImportReport(cmd, res, rejects)
			}
			if err != nil {
				switch {
				case errors.Is(err, rollback.ErrNotRollback), errors.Is(err, bundle.ErrCorrupt):
					return withCode(exitBadInput, err)
				case ctx.Err() != nil:
					return in.result(err, "the rollback stopped part-way; run the same command again to finish it")
				}
				return fmt.Errorf("rollback of %s: %w", scheme.Redact(targets[0]), err)
			}
			if err := rejects.Close(); err != nil {
				return err
			}
			if n := rejects.Total(); n > 0 {
				return withCode(exitRejects, fmt.Errorf("%d record(s) of the prior state were refused by the target and written to %s with their reasons", n, rejects.Path()))
			}
			m := r.Manifest()
			fmt.Fprintf(cmd.OutOrStdout(), "rolled back: %s holds again its state from before the import of bundle %s (%d dataset(s) restored, %d object(s) the import created dropped)\n",
				scheme.Redact(targets[0]), m.Rollback.Of, len(m.Datasets), len(m.Rollback.Absent))
			fmt.Fprintf(cmd.OutOrStdout(), "  prove it with: imbundle verify %s --against %s\n", args[0], scheme.Redact(targets[0]))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&target, "target", "", "the target URL the import wrote to (as given to import)")
	f.IntVarP(&jobs, "jobs", "j", 2, "parts loaded in parallel")
	addReportFlag(cmd)
	return cmd
}
