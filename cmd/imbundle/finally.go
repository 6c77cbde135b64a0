package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

	"github.com/imbundle/imbundle/convert"
	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/scheme"
)

// writeFinally writes the mapping's finally documents (SPEC.md §11.6) into
// the target that takes documents, once every target loaded every dataset
// without a reject: last, so that a site is never marked as migrated when
// it was not. A partial import (--datasets) does not write them.
func writeFinally(ctx context.Context, cmd *cobra.Command, targets []string, params []map[string]string, mapping *convert.Mapping, partial bool, log *slog.Logger) error {
	final := mapping.Final()
	if len(final) == 0 {
		return nil
	}
	out := cmd.OutOrStdout()
	if partial {
		fmt.Fprintln(out, "the mapping's finally documents were not written: --datasets imports part of the bundle")
		return nil
	}
	for i, target := range targets {
		t, err := importer.Open(ctx, target, importer.Options{Params: params[i], Log: log})
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
