package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/imbundle/imbundle/convert"
)

// printUnions lists each object a union (a mapping entry's union: true)
// loads several datasets into, once, after the steps.
func printUnions(out io.Writer, steps []convert.Step) {
	seen := map[string]bool{}
	for _, st := range steps {
		if len(st.Union) == 0 || seen[st.Target] {
			continue
		}
		seen[st.Target] = true
		fmt.Fprintf(out, "union    %s %s <- %d datasets (%s): %s\n", st.Kind, st.Target, len(st.Union), st.UnionBy, strings.Join(st.Union, ", "))
	}
}
