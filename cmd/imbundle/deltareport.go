package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/imbundle/imbundle/importer"
)

// printDeltaReport adds to an import's report what a delta bundle did
// besides loading rows (SPEC.md §14.3): the entities it removed first and
// the datasets it left as they were.
func printDeltaReport(out io.Writer, rep *importer.Report) {
	var deleted int64
	for _, d := range rep.Datasets {
		deleted += d.Deleted
	}
	if deleted > 0 {
		fmt.Fprintf(out, "delta: %d entities removed before their rows were loaded\n", deleted)
	}
	if len(rep.Unchanged) > 0 {
		fmt.Fprintf(out, "delta: unchanged since the parent, left alone: %s\n", strings.Join(rep.Unchanged, ", "))
	}
}
