package main

import (
	"context"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/delta"
	"github.com/imbundle/imbundle/verify"
)

// openChainBundles opens the bundles of a chain (export --since, verify
// BASE DELTA...) and checks each whole (verify.Offline, deep to recompute
// digests) before their links are: a delta is only as good as the state
// it builds on. failed wraps a bundle's error as the caller reports it;
// ok is told each bundle that checked out. On error every opened bundle
// is closed.
func openChainBundles(ctx context.Context, paths []string, dec decryptFlags, jobs int, deep bool, failed func(path string, err error) error, ok func(path string, r *bundle.Reader)) ([]*bundle.Reader, func(), error) {
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
			return nil, nil, failed(p, err)
		}
		if ok != nil {
			ok(p, r)
		}
	}
	return rs, closeAll, nil
}

// orderChain orders opened bundles into their chain (delta.Order).
func orderChain(rs []*bundle.Reader, paths []string) (*delta.Chain, error) {
	return delta.Order(rs, paths)
}
