// Package delta computes delta bundles (SPEC.md §14): what changed in a
// source's datasets since a parent bundle, entity by entity, with flat
// memory (internal/extsort) and one read of the source.
//
// A Chain orders the bundles --since names (the base, then its deltas) and
// checks their links and arithmetic; Chain.Dataset starts the comparison of
// one dataset of the source with its state in the chain, as a sink of the
// source's record batches that writes the delta into a bundle dataset when
// it is closed.
package delta
