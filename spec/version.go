package spec

import (
	"fmt"
	"strconv"
	"strings"
)

const (
	// FormatName is the content of the bundle's first entry and Manifest.Format.
	FormatName = "imbundle"
	// FormatMajor and FormatMinor are the version this code writes. A reader
	// accepts any minor of its major and refuses other majors.
	FormatMajor = 1
	FormatMinor = 0
	// DigestAlgorithm names the content digest of SPEC.md §6.
	DigestAlgorithm = "sha256-sum256-v1"
)

// FormatVersion is "major.minor" of the format this code writes.
var FormatVersion = fmt.Sprintf("%d.%d", FormatMajor, FormatMinor)

// CheckVersion reports whether a bundle of format version v can be read.
func CheckVersion(v string) error {
	maj, _, ok := strings.Cut(v, ".")
	n, err := strconv.Atoi(maj)
	if !ok || err != nil {
		return fmt.Errorf("bundle format version %q is not major.minor", v)
	}
	if n != FormatMajor {
		return fmt.Errorf("bundle format version %s is not supported by this reader (format %s); use an imbundle release that reads format %d.x", v, FormatVersion, n)
	}
	return nil
}
