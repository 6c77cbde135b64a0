// Package testenv gives tests the real servers of the machine: MariaDB,
// Redis and a MongoDB wire-protocol server (FerretDB, started by the tests).
// Without CI a missing server skips the test; under CI=true it fails it,
// because CI must prove the code against every engine.
package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
)

// Unavailable skips t, or fails it under CI=true.
func Unavailable(t testing.TB, what string, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not available under CI: %v", what, err)
	}
	t.Skipf("%s is not available (%v); set CI=true to make this a failure", what, err)
}

// Name returns a unique name with the given prefix, for throwaway databases.
func Name(prefix string) string {
	var b [4]byte
	rand.Read(b[:])
	return prefix + "_" + hex.EncodeToString(b[:])
}

// Getenv returns os.Getenv(k) or def.
func Getenv(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
