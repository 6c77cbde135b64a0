//go:build !unix

package bundle

import "os"

// lockFile does nothing where flock is missing: two exports to the same path
// are then not kept apart.
func lockFile(*os.File) error { return nil }
