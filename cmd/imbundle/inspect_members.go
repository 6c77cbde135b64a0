package main

import (
	"fmt"
	"io"

	"github.com/imbundle/imbundle/spec"
)

// printMembers lists the member tables of each logical dataset (SPEC.md
// §3, "Logical datasets"): how many, the first and last, and how many hold
// rows, so that an operator sees which shards a dataset stands for.
func printMembers(out io.Writer, m *spec.Manifest) {
	first := true
	for _, ds := range m.Datasets {
		if len(ds.Members) == 0 {
			continue
		}
		if first {
			fmt.Fprintln(out, "\nlogical datasets:")
			first = false
		}
		full := 0
		for _, mb := range ds.Members {
			if mb.Rows > 0 {
				full++
			}
		}
		fmt.Fprintf(out, "  %s: %d member tables (%s ... %s), %d holding rows\n", ds.Name, len(ds.Members), ds.Members[0].Object, ds.Members[len(ds.Members)-1].Object, full)
	}
}
