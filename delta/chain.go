package delta

import (
	"fmt"
	"strings"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/spec"
)

// Chain is a full bundle and the deltas that follow it, in order: each
// delta's parent is the bundle before it (SPEC.md §14).
type Chain struct {
	Bundles []*bundle.Reader
	Names   []string // the files, for messages
}

// Order arranges bundles (a full one and deltas, in any order) into their
// chain, refusing a set that is not exactly one: a second full bundle, a
// delta of another base, a missing link, two deltas of one parent.
func Order(bundles []*bundle.Reader, names []string) (*Chain, error) {
	var base = -1
	children := map[string][]int{}
	for i, r := range bundles {
		d := r.Manifest().Delta
		if d == nil {
			if base >= 0 {
				return nil, fmt.Errorf("%s and %s are both full bundles; a chain has one, followed by its deltas", names[base], names[i])
			}
			base = i
			continue
		}
		children[d.Parent] = append(children[d.Parent], i)
	}
	if base < 0 {
		return nil, fmt.Errorf("no full bundle among %s: a chain starts with the full bundle its first delta was taken against (name it too)", strings.Join(names, ", "))
	}
	c := &Chain{Bundles: []*bundle.Reader{bundles[base]}, Names: []string{names[base]}}
	for at := bundles[base]; ; {
		next := children[at.ID()]
		delete(children, at.ID())
		if len(next) == 0 {
			break
		}
		if len(next) > 1 {
			return nil, fmt.Errorf("%s and %s are both deltas of %s: a chain has one path (give the deltas of one cutover)", names[next[0]], names[next[1]], c.Names[len(c.Names)-1])
		}
		r := bundles[next[0]]
		if d := r.Manifest().Delta; d.Base != c.Bundles[0].ID() || d.Depth != len(c.Bundles) {
			return nil, fmt.Errorf("%s: its base is %.16s… at depth %d, but it follows %s at depth %d of the chain of %s (%.16s…)", names[next[0]], d.Base, d.Depth, c.Names[len(c.Names)-1], len(c.Bundles)-1, c.Names[0], c.Bundles[0].ID())
		}
		c.Bundles = append(c.Bundles, r)
		c.Names = append(c.Names, names[next[0]])
		at = r
	}
	for parent, kids := range children {
		return nil, fmt.Errorf("%s is a delta of bundle %.16s…, which is not among the bundles given: name every bundle of the chain, from the full one on", names[kids[0]], parent)
	}
	return c, nil
}

// Last is the newest bundle of the chain: the parent of a delta taken now.
func (c *Chain) Last() *bundle.Reader { return c.Bundles[len(c.Bundles)-1] }

// Next is the delta member of a delta whose parent is c's last bundle.
func (c *Chain) Next() *spec.Delta {
	return &spec.Delta{Parent: c.Last().ID(), Base: c.Bundles[0].ID(), Depth: len(c.Bundles)}
}

// segment is where a dataset's state lives in the chain: the bundle that
// holds it whole and the deltas after it that change it.
type segment struct {
	from int             // the bundle holding it whole
	ds   []*spec.Dataset // its entry in bundles from..last
}

// find locates dataset name's state: absent (nil) when the last bundle
// lacks it.
func (c *Chain) find(name string) *segment {
	var rev []*spec.Dataset
	for i := len(c.Bundles) - 1; i >= 0; i-- {
		ds, ok := c.Bundles[i].Dataset(name)
		if !ok {
			return nil
		}
		rev = append(rev, ds)
		if ds.Delta == nil || ds.Delta.Change == spec.ChangeWhole {
			s := &segment{from: i}
			for j := len(rev) - 1; j >= 0; j-- {
				s.ds = append(s.ds, rev[j])
			}
			return s
		}
	}
	return nil
}

// Dropped lists the datasets of the chain's last bundle that are not in
// names (the datasets the sources export now).
func (c *Chain) Dropped(names map[string]bool) []spec.DroppedDataset {
	var out []spec.DroppedDataset
	for _, ds := range c.Last().Manifest().Datasets {
		if !names[ds.Name] {
			out = append(out, spec.DroppedDataset{Name: ds.Name, Kind: ds.Kind, Namespace: ds.Namespace, Object: ds.Object})
		}
	}
	return out
}

// Check verifies the chain's arithmetic (SPEC.md §14.1): for every dataset
// of every delta, its state follows from its parent's state, what it
// removed and what it added. Each problem is one string naming the bundle
// and dataset.
func (c *Chain) Check() []string {
	var out []string
	for i := 1; i < len(c.Bundles); i++ {
		for j := range c.Bundles[i].Manifest().Datasets {
			ds := &c.Bundles[i].Manifest().Datasets[j]
			if msg := c.checkOne(i, ds); msg != "" {
				out = append(out, fmt.Sprintf("%s: dataset %q: %s", c.Names[i], ds.Name, msg))
			}
		}
	}
	return out
}

func (c *Chain) checkOne(i int, ds *spec.Dataset) string {
	d := ds.Delta
	prior, had := c.Bundles[i-1].Dataset(ds.Name)
	switch d.Change {
	case spec.ChangeWhole:
		if !sameDigest(d.State, ds.Digest) {
			return "carried whole, its state digest is not its rows' digest"
		}
	case spec.ChangeNone:
		if !had {
			return "unchanged, but the bundle before it does not hold it"
		}
		if !sameDigest(d.State, spec.StateDigest(prior)) {
			return "unchanged, but its state digest differs from the bundle before it"
		}
	case spec.ChangeRows:
		if !had {
			return "changes rows, but the bundle before it does not hold it"
		}
		s, err1 := sumOf(spec.StateDigest(prior))
		rm, err2 := sumOf(d.Removed)
		add, err3 := sumOf(ds.Digest)
		if err1 != nil || err2 != nil || err3 != nil {
			return "a digest does not parse"
		}
		s.subtract(rm)
		s.merge(add)
		if !sameDigest(s.digest(), d.State) {
			return fmt.Sprintf("the state before it (%d rows) less what it removed (%d rows) plus what it adds (%d rows) is not its state (%d rows): the chain does not add up", spec.StateDigest(prior).Rows, d.Removed.Rows, ds.Digest.Rows, d.State.Rows)
		}
	}
	return ""
}
