package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/signal"

	"github.com/spf13/cobra"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/fixtures"
	"github.com/imbundle/imbundle/internal/mongotype"
	"github.com/imbundle/imbundle/internal/redistype/resp"
)

func init() { fixtureCmds = append(fixtureCmds, newFixturesOpenIMSiteCmd) }

// openIMSiteUnit is --scale 1: ten of them make fixtures.DefaultScale.
var openIMSiteUnit = fixtures.Scale{Users: 100, Groups: 10, Messages: 2000}

func newFixturesOpenIMSiteCmd() *cobra.Command {
	var (
		myURL, mongoURL, redisURL string
		scale                     int
		dirty                     float64
		badUTF8                   bool
		seed                      int64
		replace                   bool
		method                    string
	)
	cmd := &cobra.Command{
		Use:   "openim-v3.4 --mysql URL --mongo URL --redis URL [--scale N] [--dirty SHARE] [--bad-utf8] [--seed S]",
		Short: "Create one OpenIM v3.4 site across MySQL, MongoDB (msg) and Redis (seqs), with a chosen share of planted dirty records",
		Long: `Fill the three stores of an OpenIM 3.4 site with one consistent world
(the same users, groups, conversations and seqs in each): the MySQL tables,
the MongoDB msg documents (their senders and conversations are the MySQL
users and conversations) and the Redis MAX_SEQ, MIN_SEQ, HAS_READ_SEQ and
CON_USER_MIN_SEQ keys (matching the messages' seqs), plus token hashes.
--scale N makes N x (100 users, 10 groups, 2000 messages).

With --dirty SHARE (0 to 1) that share of each kind's records is made dirty,
at least one of each kind: message senders that are no user, MAX_SEQ below
the highest stored seq, HAS_READ_SEQ above MAX_SEQ, groups without owner
and with two, one-way friendships. The JSON summary on stdout lists every
planted record with the openim-v3.4 check that must find it (and the
number of violations each check must report): verify FILE --profile
openim-v3.4 reports exactly these. With --bad-utf8, also HAS_READ_SEQ keys
whose user ID is not UTF-8 (Redis key names are bytes): no check finds
them, and an import with openim-v3.8 refuses each into its reject file.

A MySQL database or MongoDB database that holds tables or collections, or a
Redis database that holds keys, is refused unless --replace (which empties
each first).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if myURL == "" || mongoURL == "" || redisURL == "" {
				return withCode(exitUsage, fmt.Errorf("need --mysql URL, --mongo URL and --redis URL (the three stores of the site)"))
			}
			if scale < 1 {
				return withCode(exitUsage, fmt.Errorf("--scale %d: want 1 or more", scale))
			}
			if dirty < 0 || dirty > 1 {
				return withCode(exitUsage, fmt.Errorf("--dirty %v: want a share from 0 to 1", dirty))
			}
			mu, err := url.Parse(mongoURL)
			if err != nil || (mu.Scheme != "mongodb" && mu.Scheme != "mongodb+srv") || mongotype.Database(mu) == "" {
				return withCode(exitUsage, fmt.Errorf("--mongo: want mongodb://host:port/db (naming the database), got %s", exporter.Redact(mongoURL)))
			}
			ru, err := url.Parse(redisURL)
			if err != nil {
				return withCode(exitUsage, fmt.Errorf("--redis %s: cannot parse", exporter.Redact(redisURL)))
			}
			ro, err := resp.ParseURL(ru)
			if err != nil {
				return withCode(exitUsage, fmt.Errorf("--redis %s: %w", exporter.Redact(redisURL), err))
			}
			if !resp.HasDB(ru) {
				return withCode(exitUsage, fmt.Errorf("--redis %s: name the database in the URL path (redis://host:port/N), so that db 0 is never filled by accident", exporter.Redact(redisURL)))
			}
			sc := fixtures.Scale{Users: openIMSiteUnit.Users * scale, Groups: openIMSiteUnit.Groups * scale, Messages: openIMSiteUnit.Messages * scale}
			w, err := fixtures.New(seed, sc)
			if err != nil {
				return withCode(exitUsage, err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()

			// Every store is checked (and emptied, with --replace) before
			// any is written: a refused store leaves the others as they were.
			rc, err := resp.Dial(ctx, ro)
			if err != nil {
				return fmt.Errorf("%s: %w", exporter.Redact(redisURL), err)
			}
			defer rc.Close()
			v, err := rc.Do(ctx, "DBSIZE")
			if err != nil {
				return err
			}
			if v.Int > 0 && !replace {
				return withCode(exitUsage, fmt.Errorf("%s holds %d keys; use --replace to empty the three stores first, or choose another database", exporter.Redact(redisURL), v.Int))
			}
			client, err := mongotype.Connect(ctx, mu)
			if err != nil {
				return err
			}
			defer client.Disconnect(ctx)
			mdb := client.Database(mongotype.Database(mu))
			names, err := mdb.ListCollectionNames(ctx, bson.D{})
			if err != nil {
				return err
			}
			if len(names) > 0 && !replace {
				return withCode(exitUsage, fmt.Errorf("MongoDB database %s already holds %d collections; use --replace to empty the three stores first, or choose another database", mdb.Name(), len(names)))
			}
			db, err := openFixtureDB(ctx, myURL, replace)
			if err != nil {
				return err
			}
			defer db.Close()
			if replace {
				if err := mdb.Drop(ctx); err != nil {
					return err
				}
				if v, err := rc.Do(ctx, "FLUSHDB"); err != nil || v.Err() != nil {
					return fmt.Errorf("FLUSHDB: %v %v", err, v.Err())
				}
			}
			site, err := fixtures.LoadOpenIMSite(ctx, db, mdb, rc, w, dirty, fixtures.SiteOptions{MySQL: fixtures.MySQLLoadOptions{Method: method}, BadUTF8: badUTF8})
			if err != nil {
				return fmt.Errorf("loading the OpenIM 3.4 site: %w", err)
			}
			if !globals.quiet {
				fmt.Fprintf(cmd.ErrOrStderr(), "OpenIM 3.4 site, seed %d (%d users, %d groups, %d messages): %d dirty records planted\n", seed, sc.Users, sc.Groups, sc.Messages, len(site.Planted))
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			return enc.Encode(site)
		},
	}
	f := cmd.Flags()
	f.StringVar(&myURL, "mysql", "", "mysql://user[:pass]@host:port/db: the site's MySQL database (created if needed)")
	f.StringVar(&mongoURL, "mongo", "", "mongodb://[user:pass@]host:port/db: the site's MongoDB database (msg)")
	f.StringVar(&redisURL, "redis", "", "redis://[user:pass@]host:port/N: the Redis database of the seqs")
	f.IntVar(&scale, "scale", 10, "N x (100 users, 10 groups, 2000 messages)")
	f.Float64Var(&dirty, "dirty", 0, "share (0 to 1) of each kind of record made dirty; 0 plants none")
	f.BoolVar(&badUTF8, "bad-utf8", false, "with --dirty: also plant HAS_READ_SEQ keys whose user ID is not UTF-8 (no check finds them; openim-v3.8's import refuses each, named in its reject file)")
	f.Int64Var(&seed, "seed", 1, "random seed: the same seed and scale give the same site")
	f.BoolVar(&replace, "replace", false, "empty the three stores first (DROP DATABASE, drop the MongoDB database, FLUSHDB)")
	f.StringVar(&method, "method", "", "MySQL load method: load-data or insert (default: load-data, insert if the server refuses LOCAL INFILE)")
	return cmd
}
