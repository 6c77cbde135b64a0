package redis

import "github.com/imbundle/imbundle/exporter"

// Test hooks for the external tests of this package.

// SetScanHook makes src call f with every SCAN page (after prefix
// filtering, before dedupe); f returns the page to use.
func SetScanHook(src exporter.Source, f func(db int, keys [][]byte) [][]byte) {
	src.(*Source).onScanPage = f
}

// SetProbeHook makes src call f after each batch's TYPE/PTTL round, before
// the values are read.
func SetProbeHook(src exporter.Source, f func(db int, keys [][]byte)) {
	src.(*Source).afterProbe = f
}
