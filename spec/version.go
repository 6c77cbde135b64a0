package spec

import "fmt"

const (
	// FormatName is the content of the bundle's first entry and Manifest.Format.
	FormatName = "imbundle"
	// FormatMajor and FormatMinor are the version this code writes. A reader
	// accepts any minor of its major and refuses other majors
	// (bundle.VersionError).
	FormatMajor = 1
	FormatMinor = 0
	// DigestAlgorithm names the content digest of SPEC.md §6.
	DigestAlgorithm = "sha256-sum256-v1"
)

// FormatVersion is "major.minor" of the format this code writes.
var FormatVersion = fmt.Sprintf("%d.%d", FormatMajor, FormatMinor)
