// Command imbundle moves an IM site's data between storage engines through
// one verifiable bundle file. One file per subcommand, as in restic.
package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/imbundle/imbundle/internal/scheme"
	"github.com/imbundle/imbundle/progress"
)

// Exit codes (README.md, "Exit codes").
const (
	exitOK       = 0
	exitError    = 1 // anything else: unreachable server, bad flags, I/O error
	exitUsage    = 2
	exitMismatch = 3 // verify: corrupt bundle or target differs from the bundle
	exitRejects  = 4 // import finished but some records went to the reject file
)

// exitError carries a specific exit code through cobra.
type codedError struct {
	code int
	err  error
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

func withCode(code int, err error) error { return &codedError{code, err} }

// exitCode is the process exit code for err: its codedError's, 2 for an
// engine's usage error (unknown URL parameter or --param key), else 1.
func exitCode(err error) int {
	var ce *codedError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ce):
		return ce.code
	case scheme.IsUsage(err):
		return exitUsage
	}
	return exitError
}

var globals struct {
	logFormat string
	quiet     bool
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "imbundle",
		Short:         "Move IM data between MySQL, MongoDB and Redis-compatible stores through one verifiable bundle file",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&globals.logFormat, "log-format", "auto", "log format: auto (text on a terminal), text or json")
	root.PersistentFlags().BoolVarP(&globals.quiet, "quiet", "q", false, "no progress output")
	root.AddCommand(newExportCmd(), newImportCmd(), newVerifyCmd(), newInspectCmd(), newVersionCmd(), newFixturesCmd())
	return root
}

func main() {
	err := newRoot().Execute()
	if err == nil {
		os.Exit(exitOK)
	}
	fmt.Fprintln(os.Stderr, "imbundle:", err)
	os.Exit(exitCode(err))
}

func logger() *slog.Logger {
	format := globals.logFormat
	if format == "auto" {
		format = "json"
		if isTerminal(os.Stderr) {
			format = "text"
		}
	}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, nil))
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// startProgress reports on stderr: a status line on a terminal, a JSON log
// record every few seconds otherwise.
func startProgress(label string, log *slog.Logger) *progress.Counter {
	if globals.quiet {
		return nil
	}
	interval := 10 * time.Second
	if isTerminal(os.Stderr) {
		interval = 500 * time.Millisecond
	}
	return progress.Start(label, os.Stderr, log, interval)
}
