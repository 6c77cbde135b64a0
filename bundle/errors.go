package bundle

import (
	"errors"
	"fmt"
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
