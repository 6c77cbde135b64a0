package bundle

import (
	"fmt"

	"github.com/imbundle/imbundle/spec"
)

// VersionError reports a bundle of a format major version this reader does
// not read (SPEC.md §1). It does not match ErrCorrupt: the file may be fine.
type VersionError struct {
	Where string // the entry that declared it
	Found string // the bundle's version
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("entry %s: bundle format version %s is not supported by this reader, which reads formats %d.x to %d.x (and writes %s); use an imbundle release that reads format %s", e.Where, e.Found, spec.OldestMajor, spec.NewestMajor, spec.FormatVersion, majorOf(e.Found)+".x")
}

func majorOf(v string) string {
	for i := 0; i < len(v); i++ {
		if v[i] == '.' {
			return v[:i]
		}
	}
	return v
}

// checkVersion parses "major.minor" (decimal, no sign, no leading zeros) and
// accepts any minor of the majors this code reads (spec.ReadsMajor).
func checkVersion(where, v string) error {
	maj, _, ok := splitVersion(v)
	if !ok {
		return corruptf("entry %s: format version %q is not major.minor", where, v)
	}
	if !spec.ReadsMajor(maj) {
		return &VersionError{Where: where, Found: v}
	}
	return nil
}

func splitVersion(v string) (maj, minor int, ok bool) {
	dot := -1
	for i := 0; i < len(v); i++ {
		if v[i] == '.' {
			dot = i
			break
		}
	}
	if dot < 0 {
		return 0, 0, false
	}
	a, b := v[:dot], v[dot+1:]
	if !canonicalNumber(a) || !canonicalNumber(b) {
		return 0, 0, false
	}
	maj, _ = digits(a)
	minor, _ = digits(b)
	return maj, minor, true
}

func canonicalNumber(s string) bool {
	if s == "" || len(s) > 6 || (len(s) > 1 && s[0] == '0') {
		return false
	}
	_, ok := digits(s)
	return ok
}
