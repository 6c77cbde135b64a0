package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/delta"
	"github.com/imbundle/imbundle/verify"
)

// verifyChain checks a chain of bundles (verify BASE DELTA...; SPEC.md
// §14.4): each whole, as verify checks one, then the links and the
// arithmetic of every delta. It returns the chain's last bundle, which
// --against compares a target with, and a function that closes them all.
func verifyChain(ctx context.Context, out io.Writer, paths []string, dec decryptFlags, jobs int, deep bool) (*bundle.Reader, func(), error) {
	var rs []*bundle.Reader
	closeAll := func() {
		for _, r := range rs {
			r.Close()
		}
	}
	for _, p := range paths {
		r, err := dec.open(p)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		rs = append(rs, r)
		if err := verify.Offline(ctx, r, jobs, deep, nil); err != nil {
			closeAll()
			return nil, nil, withCode(exitBadInput, offlineFailure(p, 0, err))
		}
		fmt.Fprintf(out, "%s: whole (bundle %s)\n", p, r.ID())
	}
	c, err := delta.Order(rs, paths)
	if err != nil {
		closeAll()
		return nil, nil, withCode(exitBadInput, fmt.Errorf("not a chain: %w", err))
	}
	if bad := c.Check(); len(bad) > 0 {
		closeAll()
		return nil, nil, withCode(exitBadInput, fmt.Errorf("the chain %s does not add up:\n  %s", strings.Join(c.Names, " → "), strings.Join(bad, "\n  ")))
	}
	fmt.Fprintf(out, "OK: chain %s: every link and every dataset's state adds up\n", strings.Join(c.Names, " → "))
	return c.Last(), closeAll, nil
}
