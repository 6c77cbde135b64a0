// Command imbundle moves an IM site's data between storage engines through
// one verifiable bundle file. One file per subcommand, as in restic.
package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/scheme"
	"github.com/imbundle/imbundle/progress"
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
	case errors.Is(err, importer.ErrRefused):
		return exitRefused
	}
	return exitError
}

var globals struct {
	logFormat string
	logLevel  string
	quiet     bool
	config    string
	passfile  string
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "imbundle",
		Short:         "Move IM data between MySQL, MongoDB and Redis-compatible stores through one verifiable bundle file",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&globals.logFormat, "log-format", "auto", "log format: auto (text on a terminal), text or json")
	root.PersistentFlags().StringVar(&globals.logLevel, "log-level", "", "least severe log records shown: debug, info, warn or error (default info; error with --quiet)")
	root.PersistentFlags().BoolVarP(&globals.quiet, "quiet", "q", false, "no progress output, and no log records below error unless --log-level says otherwise")
	root.PersistentFlags().StringVar(&globals.passfile, "passfile", "", "pass file of database passwords, scheme:host:port:database:user:password per line (* matches any; mode 0600), for URLs that hold none (default $IMBUNDLE_PASSFILE)")
	root.PersistentFlags().StringVar(&globals.config, "config", "", "config file of flag values (default $IMBUNDLE_CONFIG, else the user config dir's imbundle/config.yaml if it exists); flags win over IMBUNDLE_<FLAG> variables, which win over the file")
	root.AddCommand(newExportCmd(), newImportCmd(), newRollbackCmd(), newKeygenCmd(), newVerifyCmd(), newInspectCmd(), newExtractCmd(), newPlanCmd(), newCopyCmd(), newProfilesCmd(), newVersionCmd(), newFixturesCmd(), newExitCodesTopic())
	// Every mistake in the command line exits 2 (README.md, "Exit codes"):
	// an unknown flag or a bad value, wrong arguments, an unknown command.
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return scheme.Usagef("%v\nrun: %s --help", err, c.CommandPath())
	})
	root.PersistentPreRunE = func(c *cobra.Command, _ []string) error {
		if err := applySettings(c, globals.config); err != nil {
			return err
		}
		switch globals.logFormat {
		case "auto", "text", "json":
		default:
			return scheme.Usagef("--log-format %q: want auto, text or json", globals.logFormat)
		}
		if _, err := logLevel(); err != nil {
			return err
		}
		return nil
	}
	addProfileFlag(root)
	addCompletions(root)
	usageArgs(root)
	return root
}

// usageArgs makes the argument checks of c and its subcommands usage errors,
// and an unknown subcommand of a group (imbundle, imbundle fixtures) one.
func usageArgs(c *cobra.Command) {
	if c.HasSubCommands() && !c.Runnable() {
		c.Args = cobra.ArbitraryArgs
		c.RunE = func(c *cobra.Command, args []string) error {
			if len(args) > 0 {
				return scheme.Usagef("unknown command %q\nrun: %s --help", args[0], c.CommandPath())
			}
			return c.Help()
		}
	} else if check := c.Args; check != nil {
		c.Args = func(c *cobra.Command, args []string) error {
			if err := check(c, args); err != nil {
				return scheme.Usagef("%v\nrun: %s --help", err, c.CommandPath())
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		usageArgs(sub)
	}
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
	level, _ := logLevel() // checked before any command runs
	opts := &slog.HandlerOptions{Level: level}
	var l *slog.Logger
	if format == "json" {
		l = slog.New(slog.NewJSONHandler(stderr, opts))
	} else {
		l = slog.New(slog.NewTextHandler(stderr, opts))
	}
	// Drivers that log on their own (the MySQL driver's "[mysql] packets.go"
	// lines) write through slog's default logger (internal/mysqltype), so
	// they take the same format and level.
	slog.SetDefault(l)
	return l
}

// logLevel is --log-level, or error under --quiet, or info.
func logLevel() (slog.Level, error) {
	name := globals.logLevel
	if name == "" {
		name = "info"
		if globals.quiet {
			name = "error"
		}
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(name)); err != nil {
		return 0, scheme.Usagef("--log-level %q: want debug, info, warn or error", globals.logLevel)
	}
	return l, nil
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// stderr is shared by the log and the progress bars: log records print
// above the bars while they run. os.Stderr is looked up at each write
// (tests replace it).
var stderr = progress.NewOutput(func() io.Writer { return os.Stderr })

// startProgress shows a run's progress on stderr: bars on a terminal, a
// log record every 10 s otherwise, nothing under --quiet (the counts are
// still kept for --report). bytesKind says which bytes are counted.
func startProgress(label string, engines []scheme.Engine, bytesKind string, log *slog.Logger) *progress.Counter {
	opts := progress.Options{Label: label, Unit: recordsOf(engines), BytesKind: bytesKind}
	if globals.quiet {
		return progress.New(opts)
	}
	if isTerminal(os.Stderr) {
		return progress.Start(opts, stderr, true, log, 150*time.Millisecond)
	}
	return progress.Start(opts, os.Stderr, false, log, logInterval)
}

// logInterval is how often progress is logged when stderr is not a
// terminal (a variable: tests shorten it to see the records of a run of
// a second).
var logInterval = 10 * time.Second

// startChecking shows the progress of verify's offline relation and
// invariant checks, which read whole datasets after the parts were
// checked: a bar per dataset a check reads, counted in the bundle's rows
// (records "checks" in the log).
func startChecking(log *slog.Logger) *progress.Counter {
	prog := startProgress("checks", nil, "", log)
	prog.MoreToCome(true) // each check tells the datasets it reads as it begins
	prog.SetStage(progress.StageChecking)
	return prog
}

// recordsOf is what the engines call their records, when they agree.
func recordsOf(engines []scheme.Engine) string {
	unit := ""
	for _, e := range engines {
		switch {
		case e.Records == "":
		case unit == "":
			unit = e.Records
		case unit != e.Records:
			return "records"
		}
	}
	if unit == "" {
		return "rows"
	}
	return unit
}
