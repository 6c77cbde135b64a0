package main

import (
	"fmt"
	"os"
	"os/signal"

	"github.com/spf13/cobra"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/progress"
	"github.com/imbundle/imbundle/spec"
)

func newExportCmd() *cobra.Command {
	var (
		sources, objects []string
		out              string
		jobs             int
		partMiB          int
		db, match        string
		keyPrefix        string
		skipUnsupported  bool
		params           []string
	)
	cmd := &cobra.Command{
		Use:   "export --source URL [--source URL...] -o FILE",
		Short: "Read one or more databases into a bundle file",
		Long: `Read one or more databases (mysql://, mongodb://, redis:// URLs) into a single
bundle file. The file appears under its name only when complete; until then
it is FILE.partial. Passwords in URLs never reach the bundle or the logs.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(sources) == 0 || out == "" {
				return withCode(exitUsage, fmt.Errorf("need at least one --source URL and -o FILE"))
			}
			if _, err := os.Stat(out); err == nil {
				return withCode(exitUsage, fmt.Errorf("%s exists; remove it or choose another -o", out))
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			log := logger()
			prog := startProgress("export", log)
			p, err := parseMap(params)
			if err != nil {
				return err
			}
			if db != "" {
				p["db"] = db
			}
			if match != "" {
				p["match"] = match
			}
			if keyPrefix != "" {
				p["key-prefix"] = keyPrefix
			}
			if skipUnsupported {
				p["skip-unsupported"] = "true"
			}
			opts := exporter.Options{Objects: splitList(objects), Params: p, Log: log, Progress: prog, Jobs: jobs}
			var srcs []exporter.Source
			defer func() {
				for _, s := range srcs {
					s.Close()
				}
			}()
			for _, u := range sources {
				s, err := exporter.Open(ctx, u, opts)
				if err != nil {
					return err
				}
				srcs = append(srcs, s)
			}
			w, err := bundle.Create(out, bundle.Options{
				PartBytes: int64(partMiB) << 20,
				Tool:      spec.Tool{Name: "imbundle", Version: toolVersion()},
			})
			if err != nil {
				return err
			}
			if err := exporter.Export(ctx, srcs, w, jobs); err != nil {
				w.Abort()
				prog.Stop()
				return fmt.Errorf("export failed, no bundle written: %w", err)
			}
			if err := w.Close(); err != nil {
				prog.Stop()
				return err
			}
			prog.Stop()
			m := w.Manifest()
			var rows int64
			for _, ds := range m.Datasets {
				rows += ds.Rows
			}
			st, _ := os.Stat(out)
			var size int64
			if st != nil {
				size = st.Size()
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: %d datasets, %d rows, %s\n", out, len(m.Datasets), rows, progress.HumanBytes(size))
			for _, ds := range m.Datasets {
				if ds.Skipped > 0 {
					fmt.Fprintf(cmd.OutOrStdout(), "  %s: %d records skipped (unsupported), listed in the manifest counters\n", ds.Name, ds.Skipped)
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&sources, "source", nil, "source URL (repeatable): mysql://user:pass@host:port/db, mongodb://host:port/db, redis://host:port[/db]")
	f.StringVarP(&out, "output", "o", "", "bundle file to write")
	f.StringSliceVar(&objects, "tables", nil, "tables or collections to export (comma-separated); default all")
	f.StringSliceVar(&objects, "collections", nil, "alias of --tables for MongoDB")
	f.IntVarP(&jobs, "jobs", "j", 2, "datasets read in parallel")
	f.IntVar(&partMiB, "part-size", 64, "uncompressed MiB per Arrow part")
	f.StringVar(&db, "db", "", "Redis: logical databases to export (comma-separated); default all found by INFO keyspace")
	f.StringVar(&match, "match", "", "Redis: SCAN MATCH pattern")
	f.StringVar(&keyPrefix, "key-prefix", "", "Redis: export only keys with this prefix")
	f.BoolVar(&skipUnsupported, "skip-unsupported", false, "Redis: skip keys of unknown types (counted in the manifest) instead of failing")
	f.StringArrayVar(&params, "param", nil, "engine-specific setting KEY=VALUE (repeatable)")
	return cmd
}
