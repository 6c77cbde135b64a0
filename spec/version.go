package spec

import "fmt"

const (
	// FormatName is the content of the bundle's first entry and Manifest.Format.
	FormatName = "imbundle"
	// FormatMajor and FormatMinor are the version this code writes. It reads
	// every minor of the majors from OldestMajor to FormatMajor and refuses
	// other majors (bundle.VersionError). Format 2 changed only the Arrow
	// types engines write (SPEC.md §1), so format 1 bundles, backups made by
	// earlier releases, still restore.
	FormatMajor = 2
	FormatMinor = 2
	OldestMajor = 1
	// NewestMajor is the newest major this code reads: format 3 is a
	// bundle that holds logical datasets (bundle.LogicalVersion), written
	// only by an export that reads shards as one dataset; every other
	// bundle is still written as FormatMajor.FormatMinor. Format 4 is a
	// delta bundle (bundle.DeltaVersion, SPEC.md §14).
	NewestMajor = 4
	// DigestAlgorithm names the content digest of SPEC.md §6.
	DigestAlgorithm = "sha256-sum256-v1"
)

// ReadsMajor reports whether this code reads bundles of major version m.
func ReadsMajor(m int) bool { return m >= OldestMajor && m <= NewestMajor }

// FormatVersion is "major.minor" of the format this code writes.
var FormatVersion = fmt.Sprintf("%d.%d", FormatMajor, FormatMinor)
