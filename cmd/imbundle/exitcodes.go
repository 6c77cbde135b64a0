package main

import "github.com/spf13/cobra"

// Exit codes (README.md, "Exit codes"; imbundle help exit-codes).
const (
	exitOK       = 0
	exitError    = 1 // the unexpected: an unreachable server, an I/O error, a full disk
	exitUsage    = 2 // bad usage: a flag, argument, --param key or filter
	exitMismatch = 3 // verify: the target differs from the bundle; checks found violations
	exitRejects  = 4 // import finished but some records went to the reject file
	exitBadInput = 5 // the bundle is damaged or not a bundle; a mapping file is wrong
	exitRefused  = 6 // the target refused the import before anything was written
	// 128+signal (130 SIGINT, 143 SIGTERM): interrupted, cleaned up (signal.go)
)

// exitCodesHelp is the table of exit codes, as README.md has it.
const exitCodesHelp = `Every command exits with one of these codes:

  0        success
  1        the unexpected: an unreachable server, a wrong password, an I/O
           error, a full disk
  2        bad usage: an unknown command, flag, --param key or URL
           parameter, a bad flag value, wrong arguments, a --tables or
           --where that matches nothing, an export in which a source gave
           no dataset (a mistyped database; --allow-empty writes it
           anyway), a database the URL names that the server lacks, a
           --where the server refuses
  3        mismatch: verify --against found the target differs from the
           bundle (or checks found violations); an import whose loaded rows
           digest to other than the manifest says (the target is unfinished)
  4        import finished, but the target refused some records: they are
           in the reject file named in the message, with reasons
  5        bad input: the file is damaged, truncated or not a bundle, a
           mapping file (--map FILE.yaml) does not parse or has a check
           that cannot run on the rows (a column they lack), or (--pubkey)
           its signature is missing or not good, rollback of a bundle that
           is not a rollback bundle; nothing was written
  6        the target refused the import before anything was written:
           --mode fail on a non-empty table, collection or key, triggers,
           objects it cannot take, a conversion that is not exact, no
           dataset it takes, a prior state no rollback bundle can hold;
           rollback into another target than its rollback bundle names
  130, 143 interrupted by SIGINT (Ctrl-C) or SIGTERM: stopped cleanly; the
           message says how to resume

import --dry-run exits with the code the import would exit with before its
first write.`

// newExitCodesTopic is "imbundle help exit-codes": a help topic, not a
// command (it has no Run).
func newExitCodesTopic() *cobra.Command {
	return &cobra.Command{
		Use:   "exit-codes",
		Short: "The exit codes of every command",
		Long:  exitCodesHelp,
	}
}
