package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/convert"
	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/scheme"
	"github.com/imbundle/imbundle/verify"
)

// importStatus is what the import's targets say about the run as a whole.
type importStatus struct {
	// earlier: some records were loaded by an earlier run (parts resumed,
	// or the bundle found already imported), whose rejects this run did
	// not see.
	earlier bool
}

func (s *importStatus) note(rep *importer.Report) {
	for _, d := range rep.Datasets {
		if d.PartsResumed > 0 {
			s.earlier = true
		}
	}
}

// finalRun is what writeFinally needs of the import command.
type finalRun struct {
	targets []string
	engines []scheme.Engine
	params  []map[string]string
	routes  [][]string
	rename  map[string]string
	mapping *convert.Mapping
	partial bool // --datasets: part of the bundle
	status  importStatus
}

// writeFinally writes the mapping's finally documents (SPEC.md §11.6) into
// the target that takes documents, once every target loaded every dataset
// without a reject: last, so that a site is never marked as migrated when
// it was not. A partial import (--datasets) does not write them; when an
// earlier run loaded some of the records, each target is first compared
// with the bundle (as verify --against), with no rejected record allowed.
func writeFinally(ctx context.Context, cmd *cobra.Command, r *bundle.Reader, run finalRun, log *slog.Logger) error {
	final := run.mapping.Final()
	if len(final) == 0 {
		return nil
	}
	out := cmd.OutOrStdout()
	if run.partial {
		fmt.Fprintln(out, "the mapping's finally documents were not written: --datasets imports part of the bundle")
		return nil
	}
	if run.status.earlier {
		for i, target := range run.targets {
			if why := notWhole(ctx, r, target, run, i, log); why != "" {
				fmt.Fprintf(out, "the mapping's finally documents were not written: %s\n", why)
				return nil
			}
		}
	}
	for i, target := range run.targets {
		t, err := importer.Open(ctx, target, importer.Options{Params: run.params[i], Log: log})
		if err != nil {
			return fmt.Errorf("the datasets are loaded; the finally documents are not written: %w", err)
		}
		w, ok := t.(importer.DocumentWriter)
		if !ok {
			t.Close()
			continue
		}
		n := 0
		for _, f := range final {
			if err := w.WriteDocuments(ctx, f.Namespace, f.Collection, f.Docs); err != nil {
				t.Close()
				return fmt.Errorf("the datasets are loaded; the finally documents are not all written (run the same command again): %w", err)
			}
			n += len(f.Docs)
		}
		t.Close()
		fmt.Fprintf(out, "finally: %d document(s) written into %s\n", n, scheme.Redact(target))
		return nil
	}
	fmt.Fprintln(out, "the mapping's finally documents were not written: no target of this import is MongoDB")
	return nil
}

// notWhole compares target i with the bundle as verify --against does and
// says why it does not hold every record ("" when it does).
func notWhole(ctx context.Context, r *bundle.Reader, target string, run finalRun, i int, log *slog.Logger) string {
	var datasets []string
	if len(run.targets) > 1 {
		datasets = run.routes[i]
		if len(datasets) == 0 {
			return ""
		}
	}
	results, err := againstResults(ctx, r, target, run.engines[i].Name, run.rename, run.mapping, datasets, log)
	if err != nil {
		return fmt.Sprintf("comparing %s with the bundle: %v", scheme.Redact(target), err)
	}
	for _, d := range results {
		switch {
		case d.Err != nil || !d.Match:
			return fmt.Sprintf("%s on %s differs from the bundle (verify --against says how)", d.Dataset, scheme.Redact(target))
		case d.Rejected > 0:
			return fmt.Sprintf("%d record(s) of %s were refused (an earlier run's reject file names them)", d.Rejected, d.Dataset)
		}
	}
	return ""
}

// printFinally lists the mapping's finally documents in a plan.
func printFinally(out io.Writer, mapping *convert.Mapping) {
	for _, f := range mapping.Final() {
		at := f.Collection
		if f.Namespace != "" {
			at = f.Namespace + "." + at
		}
		var docs []string
		for _, d := range f.Docs {
			docs = append(docs, d.String())
		}
		fmt.Fprintf(out, "finally  %s <- %s: into a MongoDB target, last, only when every dataset loads without a reject\n", at, strings.Join(docs, ", "))
	}
}

// againstResults compares a target with the bundle, as verify --against.
func againstResults(ctx context.Context, r *bundle.Reader, target, engine string, rename map[string]string, mapping *convert.Mapping, datasets []string, log *slog.Logger) ([]verify.DatasetResult, error) {
	src, err := exporter.Open(ctx, target, exporter.Options{Log: log})
	if err != nil {
		return nil, err
	}
	defer src.Close()
	return verify.Against(ctx, r, src, verify.AgainstOptions{Map: rename, Mapping: mapping, Engine: engine, Datasets: datasets})
}
