package importer

import "errors"

// ErrRefused is matched (errors.Is) by every error that says the target
// refused the import before anything was written: --mode fail on a
// non-empty target, a target that takes none of the datasets, a conversion
// that would not be exact, triggers or objects the target cannot take. The
// CLI gives these their own exit code: the bundle is fine, the target is
// not ready for it.
var ErrRefused = errors.New("the target refused the import")

// refusedError marks an error as ErrRefused, keeping its message.
type refusedError struct{ err error }

func (e *refusedError) Error() string        { return e.err.Error() }
func (e *refusedError) Unwrap() error        { return e.err }
func (e *refusedError) Is(target error) bool { return target == ErrRefused }

// Refused marks err as a refusal of the target (ErrRefused); nil stays nil.
func Refused(err error) error {
	if err == nil {
		return nil
	}
	return &refusedError{err}
}

// Is makes a NonEmptyError a refusal.
func (e *NonEmptyError) Is(target error) bool { return target == ErrRefused }
