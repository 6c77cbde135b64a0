package main

import (
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/spf13/cobra"

	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/fixtures"
)

func init() { fixtureCmds = append(fixtureCmds, newFixturesSakilaCmd) }

func newFixturesSakilaCmd() *cobra.Command {
	var (
		target    string
		rentals   int
		replaceDB bool
	)
	cmd := &cobra.Command{
		Use:   "sakila --target mysql://user@host:port/db",
		Short: "Create a sakila-shaped MariaDB database with every schema object kind (views, triggers, routines, an event, a sequence, system-versioned tables)",
		Long: `Create the database if needed and fill it with a schema shaped like MySQL's
sakila sample, written from its public description: foreign keys, triggers
that write (film_text, date stamps), views on views, a function, a
procedure, a disabled event, a sequence and two system-versioned tables
(MariaDB only). --rentals adds that many rentals with films, actors,
customers, inventory and payments in sakila's proportions (16044 gives
about sakila's 47k rows). A database that already holds tables is refused
unless --replace, which drops and recreates it.`,
		Example: `  imbundle fixtures sakila --target mysql://root@127.0.0.1:3306/sakila --rentals 16044`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if target == "" {
				return withCode(exitUsage, fmt.Errorf("need --target mysql://user@host:port/db"))
			}
			if rentals < 0 || rentals > 60000 {
				return withCode(exitUsage, fmt.Errorf("--rentals %d: want 0 to 60000", rentals))
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			db, err := openFixtureDB(ctx, target, replaceDB)
			if err != nil {
				return err
			}
			defer db.Close()
			start := time.Now()
			if err := fixtures.SakilaSized(ctx, db, rentals); err != nil {
				return fmt.Errorf("loading the sakila fixture into %s: %w", exporter.Redact(target), err)
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "%s: sakila-shaped schema with %d extra rentals loaded in %.1fs\n", exporter.Redact(target), rentals, time.Since(start).Seconds())
			return printTableCounts(ctx, db, out)
		},
	}
	f := cmd.Flags()
	f.StringVar(&target, "target", "", "mysql:// URL of the database to create and fill")
	f.IntVar(&rentals, "rentals", 16044, "rentals to add to the fixed rows (0 to 60000)")
	f.BoolVar(&replaceDB, "replace", false, "drop and recreate a database that already holds tables")
	return cmd
}
