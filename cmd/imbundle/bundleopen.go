package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"filippo.io/age"

	"github.com/imbundle/imbundle/bundle"
)

// openBundle opens a bundle for every command that reads one, turning the error
// into one that says what to do next and carries the right exit code: a
// damaged file is a verification failure (3), a missing file or a format
// this release cannot read is an ordinary error (1).
func openBundle(path string) (*bundle.Reader, error) { return openBundleWith(path, nil) }

// openBundleWith is openBundle with identities for an encrypted bundle;
// without one that decrypts it, the error is a usage error (exit 2).
func openBundleWith(path string, ids []age.Identity) (*bundle.Reader, error) {
	if path == "-" { // standard input, spooled (stdio.go)
		spool, err := stdinSpool(os.Stdin)
		if err != nil {
			return nil, withCode(exitError, err)
		}
		defer os.Remove(spool) // the reader keeps the file open
		path = spool
	}
	r, err := openLocation(path, bundle.ReadOptions{Identities: ids})
	if err == nil {
		return r, nil
	}
	if errors.Is(err, bundle.ErrIdentity) {
		return nil, identityError(err)
	}
	var ve *bundle.VersionError
	var pe *fs.PathError
	switch {
	case errors.As(err, &ve):
		return nil, withCode(exitError, err) // its message names the release to use
	case errors.Is(err, bundle.ErrCorrupt):
		return nil, withCode(exitBadInput, fmt.Errorf("%w\nthe file is damaged or incomplete: copy it again from where it was written (compare sizes), then run: imbundle verify %s", err, path))
	case errors.As(err, &pe):
		return nil, withCode(exitError, fmt.Errorf("%w\ncheck the path and that this user may read the file", err))
	}
	return nil, withCode(exitError, err)
}
