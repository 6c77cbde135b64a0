package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/convert"
	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/internal/records"
	"github.com/imbundle/imbundle/internal/scheme"
	"github.com/imbundle/imbundle/progress"
	"github.com/imbundle/imbundle/report"
	"github.com/imbundle/imbundle/rollback"
	"github.com/imbundle/imbundle/verify"
)

func newVerifyCmd() *cobra.Command {
	var (
		against    []string
		deep       bool
		relations  bool
		asJSON     bool
		jobs       int
		maps       []string
		dbMaps     []string
		datasets   []string
		params     []string
		profile    string
		spill      convert.Spill
		sortMemory int
		strict     bool
		sig        signatureCheck
		dec        decryptFlags
	)
	cmd := &cobra.Command{
		Use: "verify FILE [DELTA...] [--against URL]",
		Example: `  imbundle verify site.imb                       # offline: every part's SHA-256
  imbundle verify site.imb --deep                # and every row's content digest
  imbundle verify site.imb --profile openim-v3.4 # and the site's relations and invariants
  imbundle verify site.imb --against mysql://root@new-db:3306/openIM_v3
  imbundle verify site.imb --against mongodb://new-db:27017/openim_v38 --profile openim-v3.8
  imbundle verify base.imb delta1.imb delta2.imb --against mysql://root@new-db:3306/openIM_v3`,
		Short: "Prove a bundle whole (offline), or a database equal to it",
		Long: `Without --against: check the container, the manifest and every part's SHA-256,
with no database (--deep also decodes every row and recomputes the content
digests). With --against URL: read each dataset back from the database and
compare row counts and content digests, naming the first differing keys.
Offline with --profile NAME or --map FILE.yaml: also evaluate the mapping's
checks (data invariants, SPEC.md §11.6) over the bundle's rows and report
their violations (exit 3 for any with --strict).

Given a full bundle and the delta bundles after it (export --since), verify
checks each, then the chain: each delta's parent is the bundle before it,
and each dataset's state digest follows from its parent's, what the delta
removes and what it adds. --against then compares the database with the
last bundle's state: what the sources held at the last delta.` + paramsHelp(exporter.Engines()),
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if err := checkPositive("--sort-memory", sortMemory); err != nil {
				return err
			}
			if err := checkPositive("--jobs", jobs); err != nil {
				return err
			}
			ctx, in := onInterrupt(cmd.Context())
			defer in.stop()
			const resume = "nothing was concluded; run the same command again"
			out := cmd.OutOrStdout()
			start := time.Now()
			if len(args) > 1 {
				last, closeChain, err := verifyChain(ctx, out, args, dec, jobs, deep)
				if err != nil {
					return err
				}
				defer closeChain()
				if len(against) == 0 {
					return nil
				}
				return verifyAgainst(ctx, cmd, last, args[len(args)-1], against, maps, dbMaps, params, datasets, profile, sortMemory, spill, asJSON, strict, jobs, nil, in)
			}
			r, err := dec.open(args[0])
			if err != nil {
				if id := encryptedID(args[0], dec); id != "" && sig.pubkey != "" {
					return verifyEncryptedSignature(out, sig, id, args[0])
				}
				return err
			}
			defer r.Close()
			sigOut := out
			if asJSON {
				sigOut = cmd.ErrOrStderr()
			}
			if err := sig.check(sigOut, r, args[0]); err != nil {
				return err
			}
			rep := report.From(ctx)
			rep.Manifest(args[0], r.Manifest(), r.ID(), r.Size())
			for _, a := range against {
				rep.Target(exporter.Redact(a))
			}
			// Offline counts the parts' bytes; --against counts rows only
			// (what it reads from the database is not the bundle's bytes).
			bytesKind := "compressed"
			if len(against) > 0 {
				bytesKind = ""
			}
			prog := startProgress("verify", bundleEngines(r), bytesKind, logger())
			defer func() { prog.Stop(); rep.Progress(prog) }()
			expectParts(prog, r)
			if len(against) == 0 {
				// The named result, not a new err: the deferred checks
				// read it.
				var checks *convert.Mapping
				if checks, err = offlineChecks(maps, dbMaps, params, datasets, profile); err != nil {
					return err
				}
				if checks != nil {
					defer func() {
						if err == nil {
							err = runChecks(ctx, out, r, checks, asJSON, strict, convert.Spill{Dir: spill.Dir, Memory: int64(sortMemory) << 20})
						}
					}()
				}
				if relations {
					defer func() {
						if err == nil {
							err = checkRelations(ctx, out, r, asJSON, convert.Spill{Dir: spill.Dir, Memory: int64(sortMemory) << 20})
						}
					}()
				}
				bad := 0
				var mu sync.Mutex
				left := partsLeft(r)
				shares := partRecords(r)
				err := verify.Offline(ctx, r, jobs, deep, func(pr verify.PartResult) {
					mu.Lock()
					defer mu.Unlock()
					prog.AddTo(pr.Dataset, shares[pr.Dataset][pr.Index], pr.Part.Bytes)
					if left[pr.Dataset]--; left[pr.Dataset] == 0 {
						prog.Done(pr.Dataset)
					}
					rep.PartVerified(pr)
					status := "ok"
					if pr.Err != nil {
						status = "FAILED: " + pr.Err.Error()
						bad++
					}
					if !asJSON {
						fmt.Fprintf(out, "%-60s %6d rows %10s  %s\n", fmt.Sprintf("%s #%d (%s)", pr.Dataset, pr.Index, pr.Part.Path), pr.Part.Rows, progress.HumanBytes(pr.Part.Bytes), status)
					}
				})
				for _, ds := range r.Manifest().Datasets {
					if len(ds.Parts) == 0 {
						prog.Done(ds.Name) // no part to check: done
					}
				}
				prog.Stop()
				el := time.Since(start)
				if asJSON {
					json.NewEncoder(out).Encode(map[string]any{"bundle": args[0], "id": r.ID(), "ok": err == nil, "error": errString(err), "seconds": el.Seconds()})
				}
				if err != nil {
					if ctx.Err() != nil {
						return in.result(err, resume)
					}
					return withCode(exitBadInput, offlineFailure(args[0], bad, err))
				}
				if !asJSON {
					fmt.Fprintf(out, "OK: bundle %s is whole (%s in %.2fs, %.0f MB/s)\n", r.ID(), progress.HumanBytes(r.Size()), el.Seconds(), float64(r.Size())/1e6/el.Seconds())
				}
				return nil
			}

			return verifyAgainst(ctx, cmd, r, args[0], against, maps, dbMaps, params, datasets, profile, sortMemory, spill, asJSON, strict, jobs, prog, in)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&against, "against", nil, "database URL to compare with the bundle (repeatable: the targets of one import)")
	f.BoolVar(&deep, "deep", false, "offline: also decode every row and recompute content digests")
	f.BoolVar(&relations, "relations", false, "offline: also check every relation of the manifest against the bundle's rows and report its orphans (sorted with --sort-memory, spilling to --temp-dir)")
	f.BoolVar(&strict, "strict", false, "offline: exit 3 when a check of --profile/--map finds a violation")
	f.BoolVar(&asJSON, "json", false, "print results as JSON")
	f.IntVarP(&jobs, "jobs", "j", 2, "parts hashed in parallel")
	sig.flags(f)
	dec.add(f)
	f.StringArrayVar(&maps, "map", nil, "namespace renames used on import, OLD=NEW (repeatable), or the mapping file the import used (FILE.yaml)")
	f.StringArrayVar(&dbMaps, "db-map", nil, "Redis database remap used on import, e.g. 0:3")
	f.StringSliceVar(&datasets, "datasets", nil, "dataset names to compare (comma-separated)")
	f.StringArrayVar(&params, "param", nil, "engine setting KEY=VALUE for --against (repeatable; the keys are listed below)")
	f.StringVar(&profile, "profile", "", "the shipped mapping the import used (--profile NAME); offline, the profile whose checks to run")
	f.StringVar(&spill.Dir, "temp-dir", "", "directory for the sorted runs of a conversion that merges Redis keys by key (default: the system's temp directory)")
	addReportFlag(cmd)
	f.IntVar(&sortMemory, "sort-memory", 32, "MiB of records such a conversion sorts in memory before it writes a sorted run to --temp-dir")
	return cmd
}

// againstCheck is verify --against one database.
type againstCheck struct {
	prog        *progress.Counter
	url, engine string
	params      map[string]string
	rename      map[string]string
	mapping     *convert.Mapping
	datasets    []string
	asJSON      bool
	strict      bool
	spill       convert.Spill
}

// run compares the database with the bundle and prints the verdicts; the
// error is a mismatch (exit 3) or the reason nothing could be concluded.
func (c againstCheck) run(ctx context.Context, cmd *cobra.Command, r *bundle.Reader, file string) error {
	out := cmd.OutOrStdout()
	log := logger()
	srcURL := c.url
	if rb := r.Manifest().Rollback; rb != nil {
		// The database the import created is gone after a rollback.
		u, err := rollback.SourceURL(c.url, rb.Engine)
		if err != nil {
			return err
		}
		srcURL = u
	}
	src, err := exporter.Open(ctx, srcURL, exporter.Options{Params: c.params, Log: log})
	if err != nil {
		return err
	}
	defer src.Close()
	mismatches, readErrs := 0, 0
	bundleRecords := map[string]int64{}
	for i := range r.Manifest().Datasets {
		ds := &r.Manifest().Datasets[i]
		bundleRecords[ds.Name], _ = records.Total(ds)
	}
	ao := verify.AgainstOptions{
		Map: c.rename, Mapping: c.mapping, Engine: c.engine, Datasets: c.datasets, Spill: c.spill,
		OnStart: func(ds string) { c.prog.StageOf(ds, progress.StageReading) },
		OnDataset: func(d verify.DatasetResult) {
			n := d.TargetRecords
			if d.Conversion != "" {
				// The target holds the records converted, in its
				// engine's unit; the bar counts the bundle dataset's
				// (expectParts), all of which were read.
				n = bundleRecords[d.Dataset]
			}
			c.prog.AddTo(d.Dataset, n, 0)
			c.prog.Done(d.Dataset)
			report.From(ctx).Compared(exporter.Redact(c.url), d)
			switch {
			case d.Err != nil:
				readErrs++
			case !d.Match:
				mismatches++
			}
			if c.asJSON {
				return
			}
			switch {
			case d.Err != nil:
				// A read failure proves nothing either way: it is an
				// error (exit 1), never a mismatch.
				fmt.Fprintf(out, "ERROR    %s -> %s: could not read the target: %v\n", d.Dataset, d.Target, d.Err)
			case d.Match:
				fmt.Fprintf(out, "match    %s -> %s: %d rows, digest %s%s\n", d.Dataset, d.Target, d.TargetRows, d.TargetSum[:16], convertedNote(d))
			default:
				fmt.Fprintf(out, "MISMATCH %s -> %s: bundle %d rows %s, target %d rows %s%s\n", d.Dataset, d.Target, d.BundleRows, short(d.BundleSum), d.TargetRows, short(d.TargetSum), convertedNote(d))
				for _, df := range d.Differences {
					fmt.Fprintf(out, "    at row %d: bundle key %s, target key %s\n", df.Row, keyText(df.BundleKey), keyText(df.TargetKey))
				}
			}
		},
	}
	results, err := verify.Against(ctx, r, src, ao)
	if err != nil {
		return err
	}
	if ctx.Err() != nil {
		// A dataset cut short reads as a read error, not a verdict.
		return ctx.Err()
	}
	schemaDiffs, _, err := verify.Schema(ctx, r, src, ao)
	if err != nil {
		return fmt.Errorf("comparing the schema of %s: %w", exporter.Redact(c.url), err)
	}
	finalDiffs, _, err := verify.Finally(ctx, src, c.mapping)
	if err != nil {
		return fmt.Errorf("reading the finally documents from %s: %w", exporter.Redact(c.url), err)
	}
	rb := r.Manifest().Rollback
	if rb != nil {
		// A rollback bundle also says what must not be there.
		left, err := rollback.Leftovers(ctx, rb, c.url, log)
		if err != nil {
			return fmt.Errorf("looking up on %s what the import created: %w", exporter.Redact(c.url), err)
		}
		schemaDiffs = append(schemaDiffs, left...)
	}
	if !c.asJSON {
		for _, d := range schemaDiffs {
			fmt.Fprintf(out, "MISMATCH schema: %s\n", d)
		}
		for _, d := range finalDiffs {
			fmt.Fprintf(out, "MISMATCH %s\n", d)
		}
	}
	schemaDiffs = append(schemaDiffs, finalDiffs...) // listed in the JSON report
	report.From(ctx).SchemaDifferences(schemaDiffs)
	if c.asJSON {
		type jr struct {
			verify.DatasetResult
			Error string `json:"error,omitempty"`
		}
		var list []jr
		for _, d := range results {
			list = append(list, jr{d, errString(d.Err)})
		}
		json.NewEncoder(out).Encode(map[string]any{"bundle": file, "id": r.ID(), "against": exporter.Redact(c.url), "datasets": list, "schema_differences": schemaDiffs, "ok": mismatches == 0 && readErrs == 0 && len(schemaDiffs) == 0})
	}
	if len(results) == 0 && rb == nil {
		return withCode(exitMismatch, fmt.Errorf("no dataset of the bundle comes from a %s source; nothing compared", c.engine))
	}
	if readErrs > 0 {
		return fmt.Errorf("%d of %d dataset(s) could not be read from the target; check that it is reachable and run verify again", readErrs, len(results))
	}
	// The mapping's checks run on the database too: the invariants of the
	// site as it now is, by the same names as in the bundle.
	var checksErr error
	if c.mapping != nil && len(c.mapping.AllChecks()) > 0 {
		o := verify.RelationOptions{TempDir: c.spill.Dir, Memory: c.spill.Memory}
		on := " on " + exporter.Redact(c.url)
		checksErr = reportChecks(ctx, out, c.mapping, c.asJSON, c.strict, on, map[string]any{"id": r.ID(), "against": exporter.Redact(c.url)}, func(each func(verify.CheckResult)) ([]verify.CheckResult, error) {
			// A reader of its own: the checks read the database's own
			// datasets, as an export of it would, not the bundle's as
			// the comparison placed them (a Redis URL's database holds
			// the bundle's db0 as db14, say).
			csrc, err := exporter.Open(ctx, c.url, exporter.Options{Params: c.params, Log: log})
			if err != nil {
				return nil, err
			}
			defer csrc.Close()
			return verify.ChecksAgainst(ctx, csrc, r.Manifest(), c.mapping, o, each)
		})
		if checksErr != nil && exitCode(checksErr) != exitMismatch {
			return fmt.Errorf("checks on %s: %w", exporter.Redact(c.url), checksErr)
		}
	}
	if mismatches > 0 || len(schemaDiffs) > 0 {
		return withCode(exitMismatch, fmt.Errorf("%d of %d dataset(s) differ from the bundle, %d schema difference(s), %d finally document(s) missing or different", mismatches, len(results), len(schemaDiffs)-len(finalDiffs), len(finalDiffs)))
	}
	if checksErr != nil {
		return checksErr
	}
	if !c.asJSON {
		fmt.Fprintf(out, "OK: %d dataset(s) on %s match bundle %s\n", len(results), exporter.Redact(c.url), r.ID())
	}
	return nil
}

// convertedNote says through which mapping a dataset of another engine
// was compared, and how many of its rows the conversion refuses (the
// import's reject file holds them).
func convertedNote(d verify.DatasetResult) string {
	if d.Conversion == "" {
		return ""
	}
	s := fmt.Sprintf(" (converted by %s; %d refused by the conversion", d.Conversion, d.Rejected)
	if d.Filtered > 0 {
		s += fmt.Sprintf(", %d left out by the mapping's filter", d.Filtered)
	}
	return s + ")"
}

// offlineFailure explains a failed offline verification and what to do.
func offlineFailure(path string, bad int, err error) error {
	if !errors.Is(err, bundle.ErrCorrupt) {
		// Every part is intact, but decoding them does not give the
		// manifest's digests: the writer was wrong or the manifest edited.
		return fmt.Errorf("bundle does not match its own manifest: %w\nthe parts are intact, so copying again will not help: export the bundle again", err)
	}
	what := "the bundle is damaged"
	if bad > 0 {
		what = fmt.Sprintf("the bundle is damaged (%d bad part(s))", bad)
	}
	return fmt.Errorf("%s: %w\ncopy the file again from where it was written (compare sizes), then run: imbundle verify %s", what, err, path)
}

func short(s string) string {
	if len(s) > 16 {
		return s[:16]
	}
	return s
}

func keyText(k []string) string {
	if k == nil {
		return "(none)"
	}
	return "(" + strings.Join(k, ", ") + ")"
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// bundleEngines are the engines of the bundle's sources.
func bundleEngines(r *bundle.Reader) []scheme.Engine {
	var out []scheme.Engine
	for _, s := range r.Manifest().Sources {
		for _, e := range exporter.Engines() {
			if e.Name == s.Engine {
				out = append(out, e)
			}
		}
	}
	return out
}

// expectParts tells prog each dataset's exact records (a Redis
// database's keys, else its rows; internal/records) and part bytes, and
// that the run starts by verifying them.
func expectParts(prog *progress.Counter, r *bundle.Reader) {
	for i := range r.Manifest().Datasets {
		ds := &r.Manifest().Datasets[i]
		var b int64
		for _, p := range ds.Parts {
			b += p.Bytes
		}
		prog.Records(ds.Name, records.Of(ds).Unit)
		if n, ok := records.Total(ds); ok {
			prog.Expect(ds.Name, n, b)
		}
	}
	prog.SetStage(progress.StageVerifying)
}

// partRecords is each dataset's records per part, for the offline check,
// which reads a part's bytes, not its rows: a part's rows for a table or
// collection; for a Redis database, whose keys per part the manifest does
// not record, its keys shared out by the parts' rows, so that the parts
// add up to the dataset's keys exactly, in whatever order they are
// checked, and the bar moves with the rows checked.
func partRecords(r *bundle.Reader) map[string][]int64 {
	out := map[string][]int64{}
	for i := range r.Manifest().Datasets {
		ds := &r.Manifest().Datasets[i]
		shares := make([]int64, len(ds.Parts))
		total, known := records.Total(ds)
		var before int64 // rows of the parts before part j
		for j, p := range ds.Parts {
			switch {
			case records.Of(ds).PerRow:
				shares[j] = p.Rows
			case known && ds.Rows > 0:
				shares[j] = share(total, before+p.Rows, ds.Rows) - share(total, before, ds.Rows)
			}
			before += p.Rows
		}
		out[ds.Name] = shares
	}
	return out
}

// share is total*part/whole without overflow for any count a bundle holds.
func share(total, part, whole int64) int64 {
	return new(big.Int).Div(new(big.Int).Mul(big.NewInt(total), big.NewInt(part)), big.NewInt(whole)).Int64()
}

// partsLeft counts each dataset's parts, to tell when one is done.
func partsLeft(r *bundle.Reader) map[string]int {
	left := map[string]int{}
	for _, ds := range r.Manifest().Datasets {
		left[ds.Name] = len(ds.Parts)
	}
	return left
}

// encryptedID is the id of the encrypted bundle at path when no identity
// was given to open it ("" otherwise): what its signature covers.
func encryptedID(path string, dec decryptFlags) string {
	if path == "-" {
		return ""
	}
	if ids, err := dec.parse(); err != nil || len(ids) > 0 {
		return ""
	}
	var ee *bundle.EncryptedError
	if _, err := openLocation(path, bundle.ReadOptions{}); errors.As(err, &ee) && ee.Err == nil {
		return ee.Summary.ID
	}
	return ""
}

// verifyEncryptedSignature is verify --pubkey of an encrypted bundle
// without --identity: the signature proves the bundle id, and so every
// byte of the manifest and, through its SHA-256s, of the parts; checking
// those bytes needs the manifest, which needs the identity.
func verifyEncryptedSignature(out io.Writer, sig signatureCheck, id, path string) error {
	if err := sig.checkID(out, id, path); err != nil {
		return err
	}
	fmt.Fprintf(out, "OK: the signature of bundle %s is good; the bundle is encrypted and its parts were not checked (pass --identity to check every part)\n", id)
	return nil
}

// verifyAgainst compares the databases against with bundle r (file): the
// datasets' digests, or a delta's state digests (SPEC.md §14.4).
func verifyAgainst(ctx context.Context, cmd *cobra.Command, r *bundle.Reader, file string, against, maps, dbMaps, params, datasets []string, profile string, sortMemory int, spill convert.Spill, asJSON, strict bool, jobs int, prog *progress.Counter, in *interrupt) error {
	const resume = "nothing was concluded; run the same command again"
	if prog == nil {
		prog = startProgress("verify", bundleEngines(r), "", logger())
		defer prog.Stop()
		expectParts(prog, r)
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
	p, err := parseMap(params)
	if err != nil {
		return err
	}
	against = append([]string(nil), against...)
	if err := withPasswords(against); err != nil {
		return err
	}
	engines := make([]scheme.Engine, len(against))
	for i, a := range against {
		if engines[i], err = exporter.EngineOf(a); err != nil {
			return err
		}
	}
	perAgainst, err := engineParams(engines, p, nil)
	if err != nil {
		return err
	}
	if err := verify.Offline(ctx, r, jobs, false, nil); err != nil {
		if ctx.Err() != nil {
			return in.result(err, resume)
		}
		return withCode(exitBadInput, fmt.Errorf("not comparing with the database: %w", offlineFailure(file, 0, err)))
	}
	prog.SetStage(progress.StageReading)
	routes := [][]string{splitList(datasets)}
	if len(against) > 1 {
		if routes, err = routeDatasets(r, engines, splitList(datasets), mapping); err != nil {
			return err
		}
	}
	// Each database is compared; a read failure (exit 1) outranks a
	// difference (exit 3), and the first one's code is the exit code.
	var failed, differ []error
	for i, a := range against {
		spill.Memory = int64(sortMemory) << 20
		c := againstCheck{prog: prog, url: a, engine: engines[i].Name, params: perAgainst[i], rename: rename, mapping: mapping, datasets: routes[i], asJSON: asJSON, strict: strict, spill: spill}
		err := c.run(ctx, cmd, r, file)
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return in.result(err, resume)
		case exitCode(err) == exitMismatch:
			differ = append(differ, err)
		default:
			failed = append(failed, err)
		}
	}
	if len(failed) > 0 {
		err := errors.Join(failed...)
		if len(differ) > 0 {
			err = fmt.Errorf("%w\n%v", err, errors.Join(differ...))
		}
		return err
	}
	return errors.Join(differ...)
}
