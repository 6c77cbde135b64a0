package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/imbundle/imbundle/progress"
	"github.com/imbundle/imbundle/spec"
)

// printDelta says what a delta bundle does to each dataset (SPEC.md §14).
func printDelta(out io.Writer, m *spec.Manifest) {
	if m.Delta == nil {
		return
	}
	fmt.Fprintf(out, "\ndelta %d of base %s\n  parent %s\n", m.Delta.Depth, m.Delta.Base, m.Delta.Parent)
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "  dataset\tchange\tchanged\tnew\tremoved\tdeleted keys\tstate rows\t")
	for _, ds := range m.Datasets {
		d := ds.Delta
		var keys, b int64
		if d.Deleted != nil {
			keys = d.Deleted.Rows
			for _, p := range d.Deleted.Parts {
				b += p.Bytes
			}
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%d\t%d\t%d (%s)\t%d\t\n", ds.Name, d.Change, d.Changed, d.Inserted, d.Removals, keys, progress.HumanBytes(b), d.State.Rows)
	}
	tw.Flush()
	for _, dr := range m.Delta.Dropped {
		fmt.Fprintf(out, "  dropped: %s (%s %s.%s): the sources no longer hold it\n", dr.Name, dr.Kind, dr.Namespace, dr.Object)
	}
}
