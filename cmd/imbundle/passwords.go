package main

import (
	"fmt"
	"net/url"
	"os"

	"golang.org/x/term"

	"github.com/imbundle/imbundle/internal/passfile"
	"github.com/imbundle/imbundle/internal/scheme"
)

// Passwords for --source, --target and --against URLs that hold none:
// from the pass file (--passfile, or IMBUNDLE_PASSFILE through the usual
// IMBUNDLE_<FLAG> settings), else, when the URL names a user and stdin is
// a terminal, from a prompt that does not echo. Neither puts the password
// on the command line, where ps shows it; the URL it is put into is
// redacted wherever it is shown, as a URL with a password always was.

// withPasswords fills the password of each URL; the slice is changed in
// place.
func withPasswords(urls []string) error {
	var pf *passfile.File
	if globals.passfile != "" {
		var err error
		if pf, err = passfile.Load(globals.passfile); err != nil {
			return scheme.Usagef("--passfile: %v", err)
		}
	}
	for i, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil || u.User == nil && pf == nil {
			continue // the engine explains a bad URL; no user, nothing to ask
		}
		if _, has := u.User.Password(); has {
			continue
		}
		if pf != nil {
			if filled, ok := pf.Fill(raw); ok {
				urls[i] = filled
				continue
			}
		}
		if u.User == nil || u.User.Username() == "" || !term.IsTerminal(int(os.Stdin.Fd())) {
			// Not a terminal (a script, a test, cron): no prompt; the
			// server says whether it wants a password.
			continue
		}
		fmt.Fprintf(os.Stderr, "password for %s on %s: ", u.User.Username(), scheme.RedactURL(u))
		pass, err := term.ReadPassword(int(os.Stdin.Fd()))
		fmt.Fprintln(os.Stderr)
		if err != nil {
			return fmt.Errorf("reading the password: %w", err)
		}
		u.User = url.UserPassword(u.User.Username(), string(pass))
		urls[i] = u.String()
	}
	return nil
}
