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

func init() { fixtureCmds = append(fixtureCmds, newFixturesWildfireCmd) }

func newFixturesWildfireCmd() *cobra.Command {
	var (
		target     string
		opt        fixtures.WildfireOptions
		replaceDB  bool
		schemaOnly bool
	)
	cmd := &cobra.Command{
		Use:   "wildfirechat --target mysql://user@host:port/db",
		Short: "Create a WildfireChat MySQL database: 36 month-ring message shards, 128 inbox shards, 128 super-group shards and the side tables",
		Long: `Create the database if needed and fill it with one consistent WildfireChat
site: every message in the t_messages_N of the month its _mid encodes (a
three-year ring, China Standard Time), every inbox row in the
t_user_messages_N of |String.hashCode(uid)| % 128 with _seq strictly
increasing per user, groups with one owner (member type 2) and removed
members (type 4), mirrored friendships; --dirty plants orphan inbox rows,
drifted _member_count values, repeated inbox _seq values and, with
--legacy-mid-index (the plain _mid index of professional editions before
2023-12-03), messages stored twice under one _mid; the counts planted are
printed, and verify --profile wildfirechat-checks reports exactly those. The same --seed and sizes always give the
same rows. A database that already holds tables is refused unless
--replace, which drops and recreates it.`,
		Example: `  imbundle fixtures wildfirechat --target mysql://root@127.0.0.1:3306/wfchat --messages 300000`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if target == "" {
				return withCode(exitUsage, fmt.Errorf("need --target mysql://user@host:port/db"))
			}
			if opt.Users < 2 || opt.Groups < 0 || opt.Messages < 0 {
				return withCode(exitUsage, fmt.Errorf("--users must be at least 2, --groups and --messages not negative"))
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			db, err := openFixtureDB(ctx, target, replaceDB)
			if err != nil {
				return err
			}
			defer db.Close()
			start := time.Now()
			if schemaOnly {
				if err := fixtures.CreateWildfireMySQL(ctx, db, opt); err != nil {
					return fmt.Errorf("creating the WildfireChat tables in %s: %w", exporter.Redact(target), err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: WildfireChat tables created empty in %.1fs\n", exporter.Redact(target), time.Since(start).Seconds())
				return nil
			}
			_, dirty, err := fixtures.LoadWildfireMySQL(ctx, db, opt)
			if err != nil {
				return fmt.Errorf("loading the WildfireChat fixture into %s: %w", exporter.Redact(target), err)
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "%s: WildfireChat site seed %d (%d users, %d groups, %d messages) loaded in %.1fs; planted %d orphan inbox rows, %d drifted member counts, %d repeated inbox _seq, %d duplicate _mid\n",
				exporter.Redact(target), opt.Seed, opt.Users, opt.Groups, opt.Messages, time.Since(start).Seconds(), dirty.OrphanUserMessages, dirty.MemberCountOff, dirty.SeqRepeats, dirty.DuplicateMids)
			return printTableCounts(ctx, db, out)
		},
	}
	f := cmd.Flags()
	f.StringVar(&target, "target", "", "mysql:// URL of the database to create and fill")
	f.IntVar(&opt.Users, "users", 200, "users besides the three seed accounts")
	f.IntVar(&opt.Groups, "groups", 20, "groups")
	f.IntVar(&opt.Messages, "messages", 3000, "messages across all shards")
	f.Uint64Var(&opt.Seed, "seed", 1, "generator seed: the same seed gives the same rows")
	f.Float64Var(&opt.Dirty, "dirty", 0.01, "share of deliberately broken records (negative for none)")
	f.BoolVar(&replaceDB, "replace", false, "drop and recreate a database that already holds tables")
	f.BoolVar(&opt.LegacyMidIndex, "legacy-mid-index", false, "t_messages_N with a plain _mid index (professional editions before 2023-12-03), so that --dirty also plants duplicate _mid rows")
	f.BoolVar(&schemaOnly, "schema-only", false, "create the tables empty, as the server's Flyway migrations leave a new database (the target of an import)")
	return cmd
}
