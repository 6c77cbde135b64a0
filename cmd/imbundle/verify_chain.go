package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/imbundle/imbundle/bundle"
)

// verifyChain checks a chain of bundles (verify BASE DELTA...; SPEC.md
// §14.4): each whole, as verify checks one, then the links and the
// arithmetic of every delta. It returns the chain's last bundle, which
// --against compares a target with, and a function that closes them all.
func verifyChain(ctx context.Context, out io.Writer, paths []string, dec decryptFlags, jobs int, deep bool) (*bundle.Reader, func(), error) {
	rs, closeAll, err := openChainBundles(ctx, paths, dec, jobs, deep, func(p string, err error) error {
		return withCode(exitBadInput, offlineFailure(p, 0, err))
	}, func(p string, r *bundle.Reader) { fmt.Fprintf(out, "%s: whole (bundle %s)\n", p, r.ID()) })
	if err != nil {
		return nil, nil, err
	}
	c, err := orderChain(rs, paths)
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
