package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/extract"
	"github.com/imbundle/imbundle/internal/scheme"
)

// extractArgs are the flags of imbundle extract.
type extractArgs struct {
	bundle  string
	dataset string
	format  string
	out     string
	null    string
	dec     decryptFlags
}

func newExtractCmd() *cobra.Command {
	var a extractArgs
	cmd := &cobra.Command{
		Use:   "extract FILE --dataset NAME -o OUT [--format jsonl|csv|parquet]",
		Short: "Write one dataset's rows as JSON lines, CSV or Parquet, for tools that do not read Arrow",
		Long: `Write the rows of one dataset as JSON lines, CSV or Parquet (SPEC.md
Appendix A says how each type is written). The dataset's parts are checked
first (SHA-256, framing, schema); OUT is written as OUT.partial and renamed
when complete, so a failed extract leaves no OUT. -o - writes to stdout.
MongoDB documents are canonical Extended JSON.`,
		Example: `  imbundle extract site.imb --dataset openim.users -o users.jsonl
  imbundle extract site.imb --dataset openim.chat_logs -o chat_logs.parquet
  imbundle extract site.imb --dataset openim.users --format csv --null '\N' -o - | head`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a.bundle = args[0]
			ctx, in := onInterrupt(cmd.Context())
			defer in.stop()
			return in.result(runExtract(ctx, a, cmd.OutOrStdout(), cmd.ErrOrStderr()), "OUT was not written (its .partial was removed); run the same command again")
		},
	}
	f := cmd.Flags()
	f.StringVar(&a.dataset, "dataset", "", "the dataset to write (inspect lists them)")
	a.dec.add(f)
	f.StringVarP(&a.out, "output", "o", "", "the file to write, - for stdout")
	f.StringVar(&a.format, "format", "", "jsonl, csv or parquet (default: from OUT's extension .jsonl, .csv, .parquet)")
	f.StringVar(&a.null, "null", "", `CSV only: the text of NULL (default: an empty field; an empty string is then "")`)
	return cmd
}

// runExtract is imbundle extract after flag parsing.
func runExtract(ctx context.Context, a extractArgs, stdout, stderr io.Writer) error {
	if a.dataset == "" {
		return scheme.Usagef("--dataset is required (imbundle inspect %s lists the datasets)", a.bundle)
	}
	if a.out == "" {
		return scheme.Usagef("-o OUT is required (- for stdout)")
	}
	format, err := extractFormat(a.format, a.out)
	if err != nil {
		return err
	}
	if a.null != "" && format != extract.CSV {
		return scheme.Usagef("--null is for --format csv")
	}
	r, err := a.dec.open(a.bundle)
	if err != nil {
		return err
	}
	defer r.Close()
	ds, ok := r.Dataset(a.dataset)
	if !ok {
		var names []string
		for _, d := range r.Manifest().Datasets {
			names = append(names, d.Name)
		}
		return scheme.Usagef("%s has no dataset %q; it has: %s", a.bundle, a.dataset, strings.Join(names, ", "))
	}
	if err := extract.Check(r, ds); err != nil {
		return extractError(err, a.bundle)
	}
	opt := extract.Options{Format: format, Null: a.null}
	if a.out == "-" {
		_, err := extract.Write(ctx, r, ds, stdout, opt)
		return extractError(err, a.bundle)
	}
	rows, err := writeAtomically(a.out, func(w io.Writer) (int64, error) { return extract.Write(ctx, r, ds, w, opt) })
	if err != nil {
		return extractError(err, a.bundle)
	}
	if !globals.quiet {
		fmt.Fprintf(stderr, "wrote %d rows of %s to %s (%s)\n", rows, ds.Name, a.out, format)
	}
	return nil
}

// extractFormat is --format, or OUT's extension when it is not given.
func extractFormat(flag, out string) (extract.Format, error) {
	if flag == "" {
		ext := strings.TrimPrefix(filepath.Ext(out), ".")
		if out == "-" || ext == "" {
			return "", scheme.Usagef("--format is required when OUT has no .jsonl, .csv or .parquet extension")
		}
		flag = ext
	}
	for _, f := range extract.Formats {
		if string(f) == flag {
			return f, nil
		}
	}
	return "", scheme.Usagef("--format %q: want jsonl, csv or parquet", flag)
}

// writeAtomically writes OUT.partial and renames it to OUT once write and
// the file's sync succeed; on failure it removes OUT.partial.
func writeAtomically(out string, write func(io.Writer) (int64, error)) (int64, error) {
	tmp := out + ".partial"
	f, err := os.Create(tmp)
	if err != nil {
		return 0, err
	}
	rows, err := write(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, out)
	}
	if err != nil {
		os.Remove(tmp)
		return 0, err
	}
	return rows, nil
}

// extractError gives a damaged part the exit code of a verification
// failure and says what to do next.
func extractError(err error, path string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, bundle.ErrCorrupt) {
		return withCode(exitBadInput, fmt.Errorf("%w\nthe bundle is damaged: copy it again from where it was written, then run: imbundle verify %s", err, path))
	}
	return err
}
