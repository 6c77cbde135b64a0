package verify

import (
	"context"
	"errors"
	"io/fs"

	"github.com/apache/arrow-go/v18/arrow"
)

// CheckError is a check that cannot run as written on these rows: a
// column its datasets lack, an expression that fails on every kind of
// value. The mapping file is wrong for this bundle or database (the CLI
// exits 5, as for a mapping that does not parse), not the data; the error
// names the check's FILE:LINE:COLUMN.
type CheckError struct {
	Check string
	Err   error
}

func (e *CheckError) Error() string { return e.Err.Error() }
func (e *CheckError) Unwrap() error { return e.Err }

// asCheckError marks err as the check's own, unless it is the machine's
// (a cancelled run, a temporary file that could not be written) or the
// database's (it already carries its own meaning).
func asCheckError(name string, err error) error {
	var pe *fs.PathError
	var rf *readFailure
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.As(err, &pe) || errors.As(err, &rf) {
		return err
	}
	return &CheckError{Check: name, Err: err}
}

// readFailure is an error of reading the rows (a damaged part, a lost
// connection), not of the check that reads them.
type readFailure struct{ err error }

func (e *readFailure) Error() string { return e.err.Error() }
func (e *readFailure) Unwrap() error { return e.err }

// checkFailure carries an error of the check's own row function through
// the reader that called it.
type checkFailure struct{ err error }

func (e *checkFailure) Error() string { return e.err.Error() }
func (e *checkFailure) Unwrap() error { return e.err }

// readFailures wraps a rowsOf.each's row function so that, when the read
// ends, done can tell the function's own errors (returned as they are)
// from the reader's (marked readFailure, so that asCheckError leaves them
// to mean what they mean: exit 1 for a lost server, 5 for a damaged part).
func readFailures(fn func(arrow.RecordBatch) error) (func(arrow.RecordBatch) error, func(error) error) {
	wrapped := func(rec arrow.RecordBatch) error {
		if err := fn(rec); err != nil {
			return &checkFailure{err}
		}
		return nil
	}
	done := func(err error) error {
		if err == nil {
			return nil
		}
		var cf *checkFailure
		if errors.As(err, &cf) {
			return cf.err
		}
		return &readFailure{err}
	}
	return wrapped, done
}
