package bundle

import (
	"errors"
	"fmt"

	"github.com/imbundle/imbundle/spec"
)

// ErrCorrupt is matched (errors.Is) by every error that says the file is not
// a well-formed bundle or a part's bytes are not what the manifest says:
// truncation, a changed byte, a malformed or lying manifest, an undecodable
// part. Its message names the entry or byte offset.
var ErrCorrupt = errors.New("damaged bundle")

// ErrChecksum marks a part whose bytes do not hash to the manifest's SHA-256
// (it also matches ErrCorrupt).
var ErrChecksum = errors.New("SHA-256 mismatch")

type corruptError struct{ err error }

func (e *corruptError) Error() string        { return e.err.Error() }
func (e *corruptError) Unwrap() error        { return e.err }
func (e *corruptError) Is(target error) bool { return target == ErrCorrupt }

// corrupt marks err as ErrCorrupt, keeping its message.
func corrupt(err error) error {
	if err == nil || errors.Is(err, ErrCorrupt) {
		return err
	}
	return &corruptError{err}
}

func corruptf(format string, args ...any) error { return corrupt(fmt.Errorf(format, args...)) }

// VersionError reports a bundle of a format major version this reader does
// not read (SPEC.md §1). It does not match ErrCorrupt: the file may be fine.
type VersionError struct {
	Where string // the entry that declared it
	Found string // the bundle's version
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("entry %s: bundle format version %s is not supported by this reader, which reads format %d.x (and writes %s); use an imbundle release that reads format %s", e.Where, e.Found, spec.FormatMajor, spec.FormatVersion, majorOf(e.Found)+".x")
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
// accepts any minor of FormatMajor.
func checkVersion(where, v string) error {
	maj, _, ok := splitVersion(v)
	if !ok {
		return corruptf("entry %s: format version %q is not major.minor", where, v)
	}
	if maj != spec.FormatMajor {
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
