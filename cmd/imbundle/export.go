package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/convert"
	"github.com/imbundle/imbundle/delta"
	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/internal/scheme"
	"github.com/imbundle/imbundle/objstore"
	"github.com/imbundle/imbundle/progress"
	"github.com/imbundle/imbundle/report"
	"github.com/imbundle/imbundle/spec"
)

func newExportCmd() *cobra.Command {
	var (
		sources, objects []string
		out, tempDir     string
		jobs             int
		partMiB          int
		db, match        string
		keyPrefix        string
		skipUnsupported  bool
		allowEmpty       bool
		relationFlags    []string
		params           []string
		excludes, wheres []string
		allDatabases     bool
		compression      string
		profile, mapFile string
		restart          bool
		signKey          string
		enc              encryptFlags
		volumeSize       string
		since            []string
		sinceDec         decryptFlags
		sortMemory       int
	)
	cmd := &cobra.Command{
		Use:   "export --source URL [--source URL...] -o FILE",
		Short: "Read one or more databases into a bundle file",
		Long: `Read one or more databases (mysql://, mongodb://, redis:// URLs) into a single
bundle file. The file appears under its name only when complete; until then
it is FILE.partial, and each part is compressed in a staging file beside it
(or in --temp-dir) before it is copied in: the free space needed is the
bundle's size plus --jobs parts of at most --part-size MiB.

An export that is killed, loses its connection, fails or is interrupted
keeps the datasets it finished in FILE.partial, listed in
FILE.partial-journal: running the same command again resumes it, keeping
those datasets the source still holds unchanged and exporting the others
again (a dataset is the unit: one half-read is read again). A different
command is refused; --restart discards the partial file instead. A full
disk removes everything. Passwords in URLs never reach the bundle, the
journal or the logs.

--volume-size 4G writes FILE as an index and the parts in volume files
FILE.001, FILE.002, ... of at most that size beside it (a part larger
than a volume gets one of its own); every command that reads a bundle
takes FILE and finds the volumes. A volume export keeps no journal: a
killed one starts over.

-o s3://BUCKET/PREFIX/NAME writes the bundle to S3-compatible storage as
volumes (256M unless --volume-size), each staged in --temp-dir and
uploaded as soon as it is complete, and the index last: without its
index there is no bundle. Credentials, region and endpoint come from the
AWS environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION,
AWS_ENDPOINT_URL, or ~/.aws/credentials and AWS_PROFILE).` + exporter.FilterHelp + paramsHelp(exporter.Engines()),
		Example: `  imbundle export --source mysql://root@127.0.0.1:3306/openim -o site.imb
  imbundle export --source mysql://root@127.0.0.1:3306/wfchat --tables 't_messages_*' \
      --where 't_messages_*:_dt >= 1735689600000' -o messages-2025.imb
  imbundle export --source mongodb://127.0.0.1:27017 --all-databases --exclude 'openIM_v3.log*' -o all.imb
  imbundle export --source redis://127.0.0.1:6379 --compression-level best -o redis.imb`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(sources) == 0 || out == "" {
				return scheme.Usagef("need at least one --source URL and -o FILE")
			}
			if err := checkPositive("--jobs", jobs); err != nil {
				return err
			}
			if err := checkPositive("--part-size", partMiB); err != nil {
				return err
			}
			// An s3:// bundle is staged locally and put volume by volume
			// (s3.go); from here on out is the index's staging path.
			var s3out *s3Output
			if objstore.IsURL(out) {
				if signKey != "" {
					return scheme.Usagef("--sign writes FILE.minisig beside the bundle, which an export to %s does not do yet: export to a local FILE to sign it (a copy to s3:// changes the bundle id the signature covers)", out)
				}
				o, err := newS3Output(cmd.Context(), out, tempDir)
				if err != nil {
					return err
				}
				defer o.cleanup()
				s3out, out = o, o.local
			}
			var volumeBytes int64
			if s3out != nil {
				volumeBytes = s3VolumeBytes
			}
			if volumeSize != "" {
				n, err := parseByteSize("--volume-size", volumeSize)
				if err != nil {
					return err
				}
				if out == "-" {
					return scheme.Usagef("--volume-size writes volume files beside the index: give -o FILE, not -o -")
				}
				if err := existingVolume(out); err != nil {
					return err
				}
				if _, err := os.Stat(bundle.JournalPath(out)); err == nil && !restart {
					return scheme.Usagef("%s holds a killed export to %s, which a volume export cannot resume (it keeps no journal): run it again without --volume-size to resume it, or add --restart to discard it", bundle.JournalPath(out), out)
				}
				volumeBytes = n
			}
			toStdout := out == "-"
			if toStdout {
				if signKey != "" {
					return scheme.Usagef("--sign writes FILE.minisig beside the bundle: give -o FILE, not -o -")
				}
				spool, err := stdoutSpool(tempDir)
				if err != nil {
					return err
				}
				out = spool
				defer os.Remove(out)
			}
			if _, err := os.Stat(out); err == nil {
				return scheme.Usagef("%s exists; remove it or choose another -o", out)
			}
			// The key is read before any source: a bad key costs no export.
			var key *bundle.SecretKey
			if signKey != "" {
				if _, err := os.Stat(out + bundle.SignatureSuffix); err == nil {
					return scheme.Usagef("%s exists; remove it or choose another -o", out+bundle.SignatureSuffix)
				}
				k, err := readSecretKey(signKey)
				if err != nil {
					return err
				}
				key = &k
			}
			recipients, err := enc.recipients()
			if err != nil {
				return err
			}
			sources = append([]string(nil), sources...)
			if err := withPasswords(sources); err != nil {
				return err
			}
			var engines []scheme.Engine
			for _, u := range sources {
				e, err := exporter.EngineOf(u)
				if err != nil {
					return err
				}
				engines = append(engines, e)
			}
			p, err := parseMap(params)
			if err != nil {
				return err
			}
			filter, err := exportFilter(objects, excludes, wheres, allDatabases)
			if err != nil {
				return err
			}
			level, err := bundle.ParseCompressionLevel(compression)
			if err != nil {
				return scheme.Usagef("--compression-level: %v", err)
			}
			rels, err := parseRelationFlags(relationFlags)
			if err != nil {
				return err
			}
			var mapping *convert.Mapping
			if profile != "" || mapFile != "" {
				var maps []string
				if mapFile != "" {
					maps = []string{mapFile}
				}
				if _, mapping, err = splitMaps(maps, profile); err != nil {
					return err
				}
				if mapping == nil {
					return scheme.Usagef("--map %s: want a mapping file (.yaml) whose relations to record", mapFile)
				}
				if len(mapping.Relations) == 0 && len(mapping.Shards) == 0 {
					return scheme.Usagef("%s declares no relations and no shards: export reads only a mapping's relations and shards (import, plan and verify take its other keys)", mapping.File())
				}
			}
			shards := exportShards(mapping)
			if filter != nil {
				filter.Shards = shards
			}
			from := map[string]string{}
			for k, v := range map[string]string{"db": db, "match": match, "key-prefix": keyPrefix} {
				if v != "" {
					p[k], from[k] = v, "--"+k
				}
			}
			if skipUnsupported {
				p["skip-unsupported"], from["skip-unsupported"] = "true", "--skip-unsupported"
			}
			perSource, err := engineParams(engines, p, from)
			if err != nil {
				return err
			}
			ctx, in := onInterrupt(cmd.Context())
			defer in.stop()
			log := logger()
			rep := report.From(ctx)
			for _, u := range sources {
				rep.Source(exporter.Redact(u))
			}
			prog := startProgress("export", engines, "uncompressed", log)
			defer func() { prog.Stop(); rep.Progress(prog) }()
			var srcs []exporter.Source
			defer func() {
				for _, s := range srcs {
					s.Close()
				}
			}()
			for i, u := range sources {
				opts := exporter.Options{Filter: filter, Params: perSource[i], Log: log, Progress: prog, Jobs: jobs}
				s, err := exporter.Open(ctx, u, opts)
				if err != nil {
					return in.result(err, "nothing was written; run the same command again to export")
				}
				srcs = append(srcs, s)
			}
			var chain *delta.Chain
			if len(since) > 0 {
				c, closeChain, err := sinceChain(ctx, since, sinceDec, jobs)
				if err != nil {
					return err
				}
				defer closeChain()
				if err := sameSelection(c, engines, filter); err != nil {
					return err
				}
				chain = c
			}
			command := exportCommand{Sources: append([]string(nil), sources...), Params: perSource, Tables: objects, Exclude: excludes,
				Where: wheres, AllDBs: allDatabases, PartMiB: partMiB, Compression: compression, Relations: relationFlags, Profile: profile, Map: mapFile, AllowEmpty: allowEmpty}
			var volumeSink bundle.VolumeSink
			if s3out != nil {
				volumeSink = s3out.sink(ctx)
			}
			w, err := bundle.Create(out, bundle.Options{
				PartBytes:   int64(partMiB) << 20,
				Compression: level,
				TempDir:     tempDir,
				Tool:        spec.Tool{Name: "imbundle", Version: toolVersion()},
				Command:     journaled(command.String(), toStdout),
				Restart:     restart,
				EncryptTo:   recipients,
				VolumeBytes: volumeBytes,
				VolumeSink:  volumeSink,
				Logical:     len(shards) > 0,
				Delta:       nextDelta(chain),
			})
			if err != nil {
				return resumeRefused(err)
			}
			// Every way out but a complete bundle or a Suspend removes the
			// partial file, its journal and the staging files (Abort after
			// Close or Suspend does nothing).
			defer w.Abort()
			var sink exporter.SinkFunc
			if chain != nil {
				sink = deltaSink(chain, out, tempDir, sortMemory)
			}
			if err := exporter.ExportThrough(ctx, srcs, w, jobs, filter, shards, sink, log, prog); err != nil {
				var mm *exporter.MemberMismatchError
				if errors.As(err, &mm) {
					return withCode(exitBadInput, err)
				}
				err = fmt.Errorf("export failed, no bundle written: %w", err)
				if errors.Is(err, syscall.ENOSPC) {
					w.Abort()
					err = fmt.Errorf("%w\nthe export removed its partial files. It needs free space for the bundle plus up to --jobs parts of --part-size MiB where parts are staged: free some, stage them on another disk with --temp-dir, or write -o elsewhere", err)
					return in.result(err, "no bundle was written and its temporary files were removed; run the same command again to export")
				}
				if w.Suspend() {
					return in.result(fmt.Errorf("%w\n%s", err, suspendedMessage(out)), suspendedMessage(out))
				}
				return in.result(err, "no bundle was written and its temporary files were removed; run the same command again to export")
			}
			if err := emptySources(w.Manifest(), sources); err != nil && !allowEmpty {
				return err
			}
			if err := checkRelationFlags(w.Manifest(), rels); err != nil {
				return err
			}
			declared, err := profileRelations(mapping, w.Manifest(), cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			w.AddRelations(append(rels, declared...)...)
			if chain != nil {
				names := map[string]bool{}
				for _, ds := range w.Manifest().Datasets {
					names[ds.Name] = true
				}
				w.Manifest().Delta.Dropped = chain.Dropped(names)
			}
			if err := w.Close(); err != nil {
				if errors.Is(err, syscall.ENOSPC) {
					err = fmt.Errorf("%w\nthe export removed its partial files; free space for the bundle, or write -o elsewhere", err)
				}
				return err
			}
			sigNote := ""
			if key != nil {
				sigPath, err := writeSignature(out, w, *key)
				if err != nil {
					return err
				}
				sigNote = fmt.Sprintf("; signed by key %s in %s", key.Public().IDText(), sigPath)
			}
			prog.Stop()
			m := w.Manifest()
			warnUncarried(cmd.ErrOrStderr(), m)
			var rows int64
			for _, ds := range m.Datasets {
				rows += ds.Rows
			}
			var vols []string
			if m.Volumes != nil {
				for _, v := range m.Volumes.Volumes {
					vols = append(vols, filepath.Join(filepath.Dir(out), v.File))
				}
			}
			for _, n := range w.VolumeNotes() {
				fmt.Fprintf(cmd.ErrOrStderr(), "note: %s\n", n)
			}
			size := bundleBytes(out, vols)
			said, name := cmd.OutOrStdout(), out
			if s3out != nil { // the volumes are objects now: their sizes are the manifest's
				name, size = s3out.loc.String(), s3Bytes(m)
			}
			if toStdout { // the bundle is the output; what is said goes to stderr
				said, name = cmd.ErrOrStderr(), "standard output"
				if err := copyOut(cmd.OutOrStdout(), out); err != nil {
					return err
				}
			}
			rep.Manifest(name, m, w.ID(), size)
			fmt.Fprintf(said, "wrote %s: %d datasets, %d rows, %s%s%s\n", name, len(m.Datasets), rows, progress.HumanBytes(size), volumesNote(len(vols)), sigNote)
			if m.Delta != nil {
				fmt.Fprintf(said, "  %s\n", deltaSummary(m))
			}
			for _, ds := range m.Datasets {
				if ds.Skipped > 0 {
					fmt.Fprintf(said, "  %s: %d records skipped (unsupported), listed in the manifest counters\n", ds.Name, ds.Skipped)
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&sources, "source", nil, "source URL (repeatable): mysql://user:pass@host:port/db, mongodb://host:port/db, redis://host:port[/db]")
	f.StringVarP(&out, "output", "o", "", "bundle file to write; - writes it to standard output once complete (spooled in --temp-dir); s3://BUCKET/PREFIX/NAME puts it in object storage as volumes (default 256M each) and the index last")
	enc.add(f)
	f.StringVar(&volumeSize, "volume-size", "", "split the bundle into volumes of at most this size (4G, 512M, 100K, bytes) beside FILE, which becomes their index; a part never spans volumes")
	f.StringVar(&signKey, "sign", "", "sign the bundle with this secret key (imbundle keygen) into FILE.minisig beside it")
	f.StringSliceVar(&objects, "tables", nil, "datasets to export by name pattern (comma-separated, repeatable): 'users', 't_messages_*', 'openIM_v3.*'; default all (see Filters below)")
	f.StringSliceVar(&objects, "collections", nil, "alias of --tables for MongoDB")
	f.StringSliceVar(&excludes, "exclude", nil, "datasets to leave out by name pattern (comma-separated, repeatable), applied after --tables")
	f.StringArrayVar(&wheres, "where", nil, "a row filter TABLE:FILTER (repeatable), e.g. 'chat_logs:send_time >= \"2025-01-01\"' (MySQL: a WHERE condition; MongoDB: a query document in Extended JSON)")
	f.BoolVar(&allDatabases, "all-databases", false, "export every database of the server but the system ones (the URL names none)")
	f.StringVar(&compression, "compression-level", "default", "ZSTD level of the parts: fastest, default, better, best (or 1-4)")
	f.IntVarP(&jobs, "jobs", "j", 2, "datasets read in parallel")
	f.IntVar(&partMiB, "part-size", 64, "uncompressed MiB per Arrow part")
	f.StringVar(&tempDir, "temp-dir", "", "directory for the parts being compressed (default: the output's directory)")
	f.BoolVar(&restart, "restart", false, "discard what a killed or failed run of an export to this -o left (FILE.partial and its journal) instead of resuming it")
	f.BoolVar(&allowEmpty, "allow-empty", false, "write the bundle even if a source has no dataset to export (else an error: a mistyped database name)")
	f.StringVar(&db, "db", "", "Redis: logical databases to export (comma-separated); default all found by INFO keyspace")
	f.StringVar(&match, "match", "", "Redis: SCAN MATCH pattern")
	f.StringVar(&keyPrefix, "key-prefix", "", "Redis: export only keys with this prefix")
	f.BoolVar(&skipUnsupported, "skip-unsupported", false, "Redis: skip keys of unknown types (counted in the manifest) instead of failing")
	f.StringArrayVar(&params, "param", nil, "engine setting KEY=VALUE (repeatable; the keys are listed below)")
	f.StringVar(&profile, "profile", "", "a shipped profile whose relations to record in the manifest and whose shards to read as logical datasets (imbundle profiles; openim-v3.4 for an OpenIM 3.4 site, wildfirechat for a WildfireChat one)")
	f.StringVar(&mapFile, "map", "", "a mapping file (.yaml) whose relations to record, as --profile")
	addReportFlag(cmd)
	f.StringArrayVar(&since, "since", nil, "write a delta bundle of what changed since this bundle (repeatable: the full bundle and every delta after it, SPEC.md §14)")
	f.IntVar(&sortMemory, "sort-memory", 32, "with --since: MiB each sort of entity keys holds in memory before it spills to --temp-dir")
	f.StringArrayVar(&sinceDec.identities, "since-identity", nil, "with --since: age identity file to decrypt encrypted --since bundles (repeatable)")
	f.StringArrayVar(&relationFlags, "relation", nil, "a relation to record, DATASET(col,...)->DATASET(col,...) with the bundle's dataset names, also between sources; a collection's columns are (dotted) document fields (repeatable; verify --relations checks them)")
	return cmd
}

// emptySources names the sources that gave no dataset: an export that
// "succeeds" with nothing in it usually read a mistyped database.
func emptySources(m *spec.Manifest, urls []string) error {
	n := map[string]int{}
	for _, ds := range m.Datasets {
		n[ds.Source]++
	}
	var empty []string
	for i, s := range m.Sources {
		if n[s.ID] == 0 {
			u := s.URL
			if i < len(urls) {
				u = exporter.Redact(urls[i])
			}
			empty = append(empty, u)
		}
	}
	if len(empty) == 0 {
		return nil
	}
	// As a --tables pattern that matches nothing: most often a mistyped
	// database name, so bad usage (2), not the unexpected.
	return withCode(exitUsage, fmt.Errorf("no dataset to export from %s: check the database name (and --tables, --db, --match); nothing was written. If the source is meant to be empty, add --allow-empty", strings.Join(empty, ", ")))
}

// warnUncarried prints what the sources hold that the bundle does not carry,
// one warning line each (also in the manifest, and shown by inspect).
func warnUncarried(w io.Writer, m *spec.Manifest) {
	for _, u := range m.Uncarried {
		fmt.Fprintf(w, "warning: %s\n", uncarriedLine(m, u))
	}
}

// uncarriedLine is one Uncarried entry as export and inspect print it.
func uncarriedLine(m *spec.Manifest, u spec.Uncarried) string {
	src := u.Source
	for _, s := range m.Sources {
		if s.ID == u.Source {
			src = s.ID + " " + s.URL
		}
	}
	line := fmt.Sprintf("%s: %d %s not carried: %s", src, u.Count, u.Kind, u.Reason)
	if len(u.Names) > 0 {
		more := ""
		if int64(len(u.Names)) < u.Count {
			more = ", ..."
		}
		line += " (" + strings.Join(u.Names, ", ") + more + ")"
	}
	return line
}
