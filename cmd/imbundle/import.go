package main

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/scheme"
)

func newImportCmd() *cobra.Command {
	var (
		target, mode, rejectsPath string
		jobs                      int
		maps, datasets, params    []string
		nsFrom, nsTo              string
		keyPrefix, ttl            string
		maxRejects                int64
	)
	cmd := &cobra.Command{
		Use:   "import FILE --target URL",
		Short: "Verify a bundle, then load it into a database",
		Long: `Verify every part of the bundle, then load the datasets the target engine
takes. Nothing is written unless the whole bundle checks out. --mode fail
(the default) refuses to write into non-empty tables; re-running an
interrupted import of the same bundle resumes it without duplicating rows.
An import whose target takes none of the bundle's datasets fails (exit 1).` + paramsHelp(importer.Engines()),
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if target == "" {
				return scheme.Usagef("need --target URL")
			}
			if err := checkPositive("--jobs", jobs); err != nil {
				return err
			}
			if maxRejects < -1 {
				return scheme.Usagef("--max-rejects %d: want a count, or -1 for no limit", maxRejects)
			}
			m, err := importer.ParseMode(mode)
			if err != nil {
				return scheme.Usagef("%v", err)
			}
			rename, err := parseMap(maps)
			if err != nil {
				return err
			}
			if nsFrom != "" || nsTo != "" {
				if nsFrom == "" || nsTo == "" {
					return scheme.Usagef("--ns-from and --ns-to go together")
				}
				rename[nsFrom] = nsTo
			}
			engine, err := importer.EngineOf(target)
			if err != nil {
				return err
			}
			p, err := parseMap(params)
			if err != nil {
				return err
			}
			from := map[string]string{}
			for k, v := range map[string]string{"key-prefix": keyPrefix, "ttl": ttl} {
				if v != "" {
					p[k], from[k] = v, "--"+k
				}
			}
			perTarget, err := engineParams([]scheme.Engine{engine}, p, from)
			if err != nil {
				return err
			}
			ctx, in := onInterrupt(cmd.Context())
			defer in.stop()
			log := logger()
			r, err := openBundle(args[0])
			if err != nil {
				return fmt.Errorf("%w\nnothing was written to the target", err)
			}
			defer r.Close()
			if rejectsPath == "" {
				rejectsPath = fmt.Sprintf("%s.rejects-%s.jsonl", strings.TrimSuffix(args[0], ".imb"), time.Now().UTC().Format("20060102T150405Z"))
			}
			rejects := importer.NewRejects(rejectsPath)
			rejects.SetMax(maxRejects)
			defer rejects.Close()
			prog := startProgress("import", log)
			defer prog.Stop()
			shapes := &targetShapes{url: target, log: log}
			defer shapes.Close()
			opts := importer.Options{Mode: m, Jobs: jobs, Params: perTarget[0], Map: rename, Datasets: splitList(datasets), Log: log, Progress: prog, Rejects: rejects, Existing: shapes}
			t, err := importer.Open(ctx, target, opts)
			if err != nil {
				return in.result(err, "nothing was written; run the same command again")
			}
			defer t.Close()
			rep, err := importer.Import(ctx, r, t, opts)
			prog.Stop()
			// The reject file's own errors (a full disk) fail the import:
			// records the target refused would be lost with nobody told.
			if cerr := rejects.Close(); cerr != nil && (err == nil || errors.Is(err, importer.ErrTooManyRejects)) {
				err = cerr
			}
			if rep != nil {
				printImportReport(cmd, rep, rejects)
			}
			const resume = "the parts loaded so far are kept; run the same command again to resume (no row is written twice)"
			var busy *importer.NonEmptyError
			if err != nil && m == importer.ModeFail && errors.As(err, &busy) && alreadyImported(ctx, r, target, engine.Name, rename, splitList(datasets), log) {
				fmt.Fprintf(cmd.OutOrStdout(), "already imported: %s holds exactly bundle %s (read back and compared); nothing was written\n", scheme.Redact(target), r.ID())
				return nil
			}
			if err != nil {
				switch {
				case ctx.Err() != nil:
					// Interrupted, during verification too: no verdict.
					return in.result(fmt.Errorf("target %s: %w", scheme.Redact(target), err), resume)
				case strings.Contains(err.Error(), "failed verification"):
					return withCode(exitMismatch, err)
				case errors.Is(err, importer.ErrTooManyRejects):
					return fmt.Errorf("import stopped: %w\nthe refused records are in %s with their reasons; fix their cause (or raise --max-rejects) and run the same command again to resume", err, rejectsPath)
				}
				return fmt.Errorf("target %s (%s): %w", scheme.Redact(target), engine.Name, err)
			}
			if n := rejects.Total(); n > 0 {
				return withCode(exitRejects, fmt.Errorf("%d record(s) were refused by the target and written to %s with their reasons", n, rejectsPath))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&target, "target", "", "target URL: mysql://user:pass@host:port/db, mongodb://host:port/db, redis://host:port")
	f.StringVar(&mode, "mode", "fail", "fail (refuse non-empty targets), append, or replace")
	f.IntVarP(&jobs, "jobs", "j", 2, "parts loaded in parallel")
	f.StringArrayVar(&maps, "map", nil, "rename a namespace (database) OLD=NEW (repeatable)")
	f.StringArrayVar(&maps, "db-map", nil, "Redis: remap a logical database, e.g. 0:3 (repeatable)")
	f.StringVar(&nsFrom, "ns-from", "", "MongoDB: source database to rename (with --ns-to)")
	f.StringVar(&nsTo, "ns-to", "", "MongoDB: new database name (with --ns-from)")
	f.StringSliceVar(&datasets, "datasets", nil, "dataset names to load (comma-separated); default all the target takes")
	f.StringVar(&rejectsPath, "rejects", "", "reject file (JSON lines); default FILE.rejects-TIME.jsonl, created only if needed")
	f.StringVar(&keyPrefix, "key-prefix", "", "Redis: import only keys with this prefix")
	f.StringVar(&ttl, "ttl", "", "Redis: absolute (default: restore the exported expiry time) or relative (same remaining TTL from now)")
	f.Int64Var(&maxRejects, "max-rejects", -1, "stop the import once more than N records were refused (-1: no limit)")
	f.StringArrayVar(&params, "param", nil, "engine setting KEY=VALUE (repeatable; the keys are listed below)")
	return cmd
}

func printImportReport(cmd *cobra.Command, rep *importer.Report, rejects *importer.Rejects) {
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "bundle %s\n", rep.BundleID)
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "dataset\ttarget\tbundle rows\twritten\trejected\texpired\tparts resumed\t")
	for _, d := range rep.Datasets {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t\n", d.Dataset, d.Target, d.Rows, d.Written, d.Rejected, d.Expired, d.PartsResumed)
	}
	tw.Flush()
	if len(rep.Left) > 0 {
		fmt.Fprintf(out, "not loaded here (another engine's datasets; import them with a target of that engine): %s\n", strings.Join(rep.Left, ", "))
	}
	if rejects.Total() > 0 {
		fmt.Fprintf(out, "rejects: %d, in %s\n", rejects.Total(), rejects.Path())
	}
}
