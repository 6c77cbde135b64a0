package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/convert"
	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/scheme"
	"github.com/imbundle/imbundle/report"
	"github.com/imbundle/imbundle/spec"
	"github.com/imbundle/imbundle/verify"
)

func newImportCmd() *cobra.Command {
	var (
		mode, rejectsPath              string
		targets                        []string
		jobs                           int
		maps, dbMaps, datasets, params []string
		nsFrom, nsTo                   string
		keyPrefix, ttl                 string
		maxRejects                     int64
		profile                        string
		tempDir                        string
		sortMemory                     int
		withoutObjects                 bool
		dryRun                         bool
		force                          bool
		sig                            signatureCheck
		dec                            decryptFlags
		rb                             rollbackFlags
	)
	cmd := &cobra.Command{
		Use:   "import FILE --target URL [--target URL...]",
		Short: "Verify a bundle, then load it into a database",
		Long: `Verify every part of the bundle, then load the datasets the target engine
takes, converting those of another engine where a default mapping leads to
it (SPEC.md §11). Nothing is written unless the whole bundle checks out.
--mode fail (the default) refuses to write into non-empty tables;
re-running an interrupted import of the same bundle resumes it without
duplicating rows. An import whose targets take none of the bundle's
datasets fails (exit 1).

Several --target URLs (a site that is several stores at once) restore in
one command: each dataset goes to the target of its own engine, else to
the one target a conversion leads to; the whole bundle is verified before
the first target is touched, and the targets are loaded one after the
other.

--dry-run does everything up to the first write: reads and verifies the
bundle, plans each dataset (as plan does), connects to every target and
runs the checks an import runs before it writes (--mode fail on a
non-empty table, collection or key, triggers, objects the target cannot
take), then stops. It writes nothing, not even a reject file, and exits
0 or with the code the import would have exited with at that point.

--mode replace and --mode append first write a rollback bundle of the
target's prior state of everything the import changes (FILE.rollback-H.imb
beside the bundle, or --rollback-out FILE; --no-rollback for none), named
in the output, complete before the first write; a re-run of the same
import keeps the one its first run wrote. imbundle rollback restores it.

A delta bundle (export --since, SPEC.md §14) is applied on top of its
parent: the target must have last applied the parent (every import records
the bundle it applied, per database), else it is refused (exit 6) unless
--force. Its datasets carried whole replace the target's, those changed
by rows lose the entities the delta names and take its rows, the
unchanged ones are left alone, the dropped ones are dropped; --mode does
not apply, and a rollback bundle is written as for --mode replace. A
delta the target holds already is reported and nothing is written; an
interrupted one is run again from its start.` + paramsHelp(importer.Engines()),
		Example: `  imbundle import site.imb --target mysql://root@127.0.0.1:3306/openim
  imbundle import site.imb --target mysql://root@db2:3306/ --dry-run
  imbundle import site.imb --target mongodb://127.0.0.1:27017/openim --profile openim-v3.4-mysql-to-mongo
  imbundle import site.imb --target mysql://root@db2:3306/ --target redis://cache2:6379 --mode replace`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(targets) == 0 {
				return scheme.Usagef("need --target URL")
			}
			if err := checkPositive("--jobs", jobs); err != nil {
				return err
			}
			if err := checkPositive("--sort-memory", sortMemory); err != nil {
				return err
			}
			if maxRejects < -1 {
				return scheme.Usagef("--max-rejects %d: want a count, or -1 for no limit", maxRejects)
			}
			m, err := importer.ParseMode(mode)
			if err != nil {
				return scheme.Usagef("%v", err)
			}
			// Two flags on one slice would not add up: pflag's first value
			// of a flag replaces the slice, so --db-map 0:3 --map m.yaml
			// lost the 0:3.
			renames, mapping, err := splitMaps(append(append([]string(nil), maps...), dbMaps...), profile)
			if err != nil {
				return err
			}
			rename, err := parseMap(renames)
			if err != nil {
				return err
			}
			if nsFrom != "" || nsTo != "" {
				if nsFrom == "" || nsTo == "" {
					return scheme.Usagef("--ns-from and --ns-to go together")
				}
				rename[nsFrom] = nsTo
			}
			if err := rb.check(targets); err != nil {
				return err
			}
			targets = append([]string(nil), targets...)
			if err := withPasswords(targets); err != nil {
				return err
			}
			engines := make([]scheme.Engine, len(targets))
			for i, t := range targets {
				if engines[i], err = importer.EngineOf(t); err != nil {
					return err
				}
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
			perTarget, err := engineParams(engines, p, from)
			if err != nil {
				return err
			}
			ctx, in := onInterrupt(cmd.Context())
			defer in.stop()
			log := logger()
			r, err := dec.open(args[0])
			if err != nil {
				return fmt.Errorf("%w\nnothing was written to the target", err)
			}
			defer r.Close()
			if err := sig.check(cmd.OutOrStdout(), r, args[0]); err != nil {
				return fmt.Errorf("%w\nnothing was written to the target", err)
			}
			rep := report.From(ctx)
			rep.Manifest(args[0], r.Manifest(), r.ID(), r.Size())
			for _, t := range targets {
				rep.Target(scheme.Redact(t))
			}
			routes := [][]string{splitList(datasets)}
			if len(targets) > 1 {
				if routes, err = routeDatasets(r, engines, splitList(datasets), mapping); err != nil {
					return err
				}
				n := 0
				for _, rt := range routes {
					n += len(rt)
				}
				if n == 0 {
					return withCode(exitRefused, fmt.Errorf("none of the %d target(s) takes any of the bundle's datasets (imbundle inspect lists them); nothing was written", len(targets)))
				}
				// Every part of every target's datasets, before the first
				// target is touched: a damaged bundle writes nothing.
				if err := verify.Offline(ctx, r, jobs, false, nil); err != nil {
					if ctx.Err() != nil {
						return in.result(err, "nothing was written; run the same command again")
					}
					return withCode(exitBadInput, fmt.Errorf("nothing was written: %w", offlineFailure(args[0], 0, err)))
				}
			}
			if rejectsPath == "" {
				rejectsPath = fmt.Sprintf("%s.rejects-%s.jsonl", strings.TrimSuffix(localBase(args[0]), ".imb"), time.Now().UTC().Format("20060102T150405Z"))
			}
			rejects := importer.NewRejects(rejectsPath)
			rejects.SetMax(maxRejects)
			defer rejects.Close()
			defer rep.RejectFile(rejects)
			var status importStatus
			for i, target := range targets {
				if len(targets) > 1 {
					fmt.Fprintf(cmd.OutOrStdout(), "target %s (%s): %s\n", scheme.Redact(target), engines[i].Name, strings.Join(routes[i], ", "))
					if len(routes[i]) == 0 {
						continue
					}
				}
				prog := startProgress("import", engines[i:i+1], "compressed", log)
				shapes := &targetShapes{url: target, log: log}
				opts := importer.Options{Mode: m, Jobs: jobs, Params: perTarget[i], Map: rename, Mapping: mapping, Datasets: routes[i], Log: log, Progress: prog, Rejects: rejects, Existing: shapes,
					TempDir: tempDir, SortMemory: int64(sortMemory) << 20, WithoutObjects: withoutObjects, DryRun: dryRun,
					Force:       force,
					BeforeWrite: rb.hook(cmd.OutOrStdout(), args[0], target, engines[i].Name, m, r.Manifest().Delta != nil, jobs, log)}
				err := importInto(ctx, cmd, r, target, engines[i].Name, opts, in, &status)
				prog.Stop()
				rep.Progress(prog)
				shapes.Close()
				if err != nil {
					if i+1 < len(targets) {
						err = fmt.Errorf("%w\nthe targets after it were not touched: %s", err, strings.Join(targets[i+1:], ", "))
					}
					return err
				}
			}
			if dryRun {
				fmt.Fprintln(cmd.OutOrStdout(), "dry run: every check passed; nothing was written")
				return nil
			}
			// The reject file's own errors (a full disk) fail the import:
			// records the target refused would be lost with nobody told.
			if err := rejects.Close(); err != nil {
				return err
			}
			if n := rejects.Total(); n > 0 {
				if len(mapping.Final()) > 0 {
					fmt.Fprintln(cmd.OutOrStdout(), "the mapping's finally documents were not written: records were refused")
				}
				return withCode(exitRejects, fmt.Errorf("%d record(s) were refused by the target and written to %s with their reasons", n, rejectsPath))
			}
			return writeFinally(ctx, cmd, r, finalRun{targets: targets, engines: engines, params: perTarget, routes: routes, rename: rename, mapping: mapping, partial: len(datasets) > 0, status: status}, log)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&targets, "target", nil, "target URL: mysql://user:pass@host:port/db, mongodb://host:port/db, redis://host:port (repeatable: one per engine)")
	f.StringVar(&mode, "mode", "fail", "fail (refuse non-empty targets), append, or replace")
	sig.flags(f)
	dec.add(f)
	rb.add(f)
	f.IntVarP(&jobs, "jobs", "j", 2, "parts loaded in parallel")
	f.StringArrayVar(&maps, "map", nil, "rename a namespace (database) OLD=NEW (repeatable), or a mapping file FILE.yaml (SPEC.md §11.6)")
	f.StringArrayVar(&dbMaps, "db-map", nil, "Redis: remap a logical database, e.g. 0:3 (repeatable)")
	f.StringVar(&profile, "profile", "", "a mapping file shipped in imbundle (imbundle profiles lists them), instead of --map FILE.yaml")
	f.StringVar(&nsFrom, "ns-from", "", "MongoDB: source database to rename (with --ns-to)")
	f.StringVar(&nsTo, "ns-to", "", "MongoDB: new database name (with --ns-from)")
	f.StringSliceVar(&datasets, "datasets", nil, "dataset names to load (comma-separated); default all the target takes")
	f.StringVar(&rejectsPath, "rejects", "", "reject file (JSON lines); default FILE.rejects-TIME.jsonl, created only if needed")
	f.StringVar(&keyPrefix, "key-prefix", "", "Redis: import only keys with this prefix")
	f.StringVar(&ttl, "ttl", "", "Redis: absolute (default: restore the exported expiry time) or relative (same remaining TTL from now)")
	f.Int64Var(&maxRejects, "max-rejects", -1, "stop the import once more than N records were refused (-1: no limit)")
	f.StringArrayVar(&params, "param", nil, "engine setting KEY=VALUE (repeatable; the keys are listed below)")
	f.StringVar(&tempDir, "temp-dir", "", "directory for the sorted runs of a conversion that merges Redis keys by key (default: the system's temp directory)")
	f.BoolVar(&withoutObjects, "without-objects", false, "import the data of sources converted to another engine without their schema objects (views, triggers, routines, function libraries), which no conversion carries; without it they stop the import")
	f.BoolVar(&dryRun, "dry-run", false, "verify, plan, connect and check the targets as an import does, then stop before the first write")
	f.BoolVar(&force, "force", false, "apply a delta bundle even though the target's last applied bundle is not the delta's parent")
	addReportFlag(cmd)
	f.IntVar(&sortMemory, "sort-memory", 32, "MiB of records such a conversion sorts in memory before it writes a sorted run to --temp-dir")
	return cmd
}

// importInto loads the bundle into one target and prints its report.
func importInto(ctx context.Context, cmd *cobra.Command, r *bundle.Reader, target, engine string, opts importer.Options, in *interrupt, status *importStatus) error {
	t, err := importer.Open(ctx, target, opts)
	if err != nil {
		return in.result(err, "nothing was written; run the same command again")
	}
	defer t.Close()
	rep, err := importer.Import(ctx, r, t, opts)
	opts.Progress.Stop()
	if err != nil && errors.Is(err, importer.ErrTooManyRejects) {
		if cerr := opts.Rejects.Close(); cerr != nil {
			err = cerr
		}
	}
	if rep != nil && rep.AlreadyApplied {
		fmt.Fprintf(cmd.OutOrStdout(), "already applied: %s last applied delta bundle %s; nothing was written\n", scheme.Redact(target), rep.BundleID)
		status.earlier = true
		return nil
	}
	if rep != nil && opts.DryRun && err == nil {
		printDryRun(cmd, rep, target)
		return nil
	}
	if rep != nil {
		report.From(ctx).Imported(rep)
		printImportReport(cmd, rep, opts.Rejects)
		status.note(rep)
	}
	const resume = "the parts loaded so far are kept; run the same command again to resume (no row is written twice)"
	var busy *importer.NonEmptyError
	if err != nil && opts.Mode == importer.ModeFail && errors.As(err, &busy) && alreadyImported(ctx, r, target, engine, opts.Map, opts.Mapping, opts.Datasets, opts.Log) {
		fmt.Fprintf(cmd.OutOrStdout(), "already imported: %s holds exactly bundle %s (read back and compared); nothing was written\n", scheme.Redact(target), r.ID())
		status.earlier = true
		return nil
	}
	if err == nil {
		return nil
	}
	switch {
	case ctx.Err() != nil:
		// Interrupted, during verification too: no verdict.
		return in.result(fmt.Errorf("target %s: %w", scheme.Redact(target), err), resume)
	case errors.Is(err, bundle.ErrCorrupt):
		// A damaged part, found before the first write or by the load.
		return withCode(exitBadInput, err)
	case strings.Contains(err.Error(), "failed verification"):
		// The loaded rows digest to other than the manifest says.
		return withCode(exitMismatch, err)
	case errors.Is(err, importer.ErrTooManyRejects):
		return fmt.Errorf("import stopped: %w\nthe refused records are in %s with their reasons; fix their cause (or raise --max-rejects) and run the same command again to resume", err, opts.Rejects.Path())
	}
	err = fmt.Errorf("target %s (%s): %w", scheme.Redact(target), engine, err)
	if exitCode(err) == exitError {
		// The unexpected, mid-import most often: a lost connection, a
		// server that restarted, a full disk on the target.
		err = fmt.Errorf("%w\n%s, once the cause is fixed (the target reachable)", err, resume)
	}
	return err
}

// routeDatasets sends each selected dataset to one of several targets: the
// target of its own engine, else the one a conversion leads to (SPEC.md
// §11). Two targets of one engine, or a dataset two targets could take by
// conversion, are refused: the command would have to guess.
func routeDatasets(r *bundle.Reader, engines []scheme.Engine, only []string, mapping *convert.Mapping) ([][]string, error) {
	seen := map[string]int{}
	for i, e := range engines {
		if j, dup := seen[e.Name]; dup {
			return nil, scheme.Usagef("--target %d and %d are both %s targets: import into them in separate runs (with --datasets)", j+1, i+1, e.Name)
		}
		seen[e.Name] = i
	}
	want := map[string]bool{}
	for _, n := range only {
		want[n] = true
	}
	m := r.Manifest()
	mapping.Bind(m)
	srcs := map[string]*spec.Source{}
	for i := range m.Sources {
		srcs[m.Sources[i].ID] = &m.Sources[i]
	}
	for n := range want {
		found := false
		for i := range m.Datasets {
			found = found || m.Datasets[i].Name == n
		}
		if !found {
			return nil, scheme.Usagef("dataset %q is not in the bundle (imbundle inspect lists them); nothing was written", n)
		}
	}
	routes := make([][]string, len(engines))
	for i := range m.Datasets {
		ds := &m.Datasets[i]
		if len(want) > 0 && !want[ds.Name] {
			continue
		}
		src := srcs[ds.Source]
		if src == nil {
			continue
		}
		// Refused before the first target is touched, not by the target
		// whose turn it is after another was loaded.
		if _, err := mapping.For(ds.Name).Skips(ds); err != nil {
			return nil, err
		}
		// A mapping entry's engine sends the dataset to that engine's
		// target, converted, even beside a target of its own engine.
		if e := mapping.For(ds.Name).SentTo(); e != "" {
			if t, ok := seen[e]; ok {
				routes[t] = append(routes[t], ds.Name)
			}
			continue
		}
		if t, ok := seen[src.Engine]; ok {
			routes[t] = append(routes[t], ds.Name)
			continue
		}
		var to, split []int
		for _, c := range convert.ForMapped(ds, src, mapping.For(ds.Name)) {
			if t, ok := seen[c.To]; ok && c.Conversion != nil {
				to = append(to, t)
				if len(c.Conversion.Split) > 0 {
					split = append(split, t)
				}
			}
		}
		if len(split) > 0 {
			// A Redis keyspace that lists tables and collections (§11.7,
			// §11.8): the tables go to the MySQL target, the collections
			// to the MongoDB one, each conversion skipping the other's.
			for _, t := range split {
				routes[t] = append(routes[t], ds.Name)
			}
			continue
		}
		switch len(to) {
		case 0: // no target takes it: reported as left by none
		case 1:
			routes[to[0]] = append(routes[to[0]], ds.Name)
		default:
			return nil, scheme.Usagef("dataset %s (%s) could be converted for more than one of the targets: import it in a run of its own (--datasets)", ds.Name, src.Engine)
		}
	}
	return routes, nil
}

func printImportReport(cmd *cobra.Command, rep *importer.Report, rejects *importer.Rejects) {
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "bundle %s\n", rep.BundleID)
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "dataset\ttarget\tbundle rows\twritten\trejected\tfiltered\texpired\tparts resumed\t")
	for _, d := range rep.Datasets {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t\n", d.Dataset, d.Target, d.Rows, d.Written, d.Rejected, d.Filtered, d.Expired, d.PartsResumed)
	}
	tw.Flush()
	printDeltaReport(out, rep)
	if len(rep.Left) > 0 {
		fmt.Fprintf(out, "not loaded here (another engine's datasets: import them with a target of that engine, or name them with --datasets to convert them for this one): %s\n", strings.Join(rep.Left, ", "))
	}
	if rejects.Total() > 0 {
		fmt.Fprintf(out, "rejects: %d, in %s\n", rejects.Total(), rejects.Path())
	}
}

// printDryRun says what an import would load, for import --dry-run.
func printDryRun(cmd *cobra.Command, rep *importer.Report, target string) {
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "bundle %s: dry run against %s, nothing written\n", rep.BundleID, scheme.Redact(target))
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "dataset\ttarget\tbundle rows\t")
	for _, d := range rep.Datasets {
		fmt.Fprintf(tw, "%s\t%s\t%d\t\n", d.Dataset, d.Target, d.Rows)
	}
	tw.Flush()
	if len(rep.Left) > 0 {
		fmt.Fprintf(out, "would not load here (another engine's datasets): %s\n", strings.Join(rep.Left, ", "))
	}
}
