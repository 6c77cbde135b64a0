package main

import (
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"time"

	"github.com/spf13/cobra"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/fixtures"
	"github.com/imbundle/imbundle/internal/mongotype"
)

func init() { fixtureCmds = append(fixtureCmds, newFixturesMongoCmd) }

func newFixturesMongoCmd() *cobra.Command {
	var (
		target          string
		sc              = fixtures.DefaultScale
		seed            int64
		edge, replaceDB bool
	)
	cmd := &cobra.Command{
		Use:   "mongo --target mongodb://host:port/db",
		Short: "Create an OpenIM v3.8 MongoDB database (user, friend, group, group_member, conversation, msg, seq, seq_user) and the BSON edge-case collection",
		Long: `Fill the database the URL names with one consistent OpenIM world
(fixtures.World: the same users, groups and conversations as the MySQL and
Redis fixtures of the same --seed and scale) in OpenIM v3.5+/3.8's MongoDB
shape: msg documents of 100 slots keyed "<conversationID>:<n>", seq and
seq_user. With --edge (default) also the bson_edge collection: edge values
of every BSON type that FerretDB 1.24 stores unchanged. A database that
already holds collections is refused unless --replace, which drops it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			u, err := url.Parse(target)
			if err != nil || (u.Scheme != "mongodb" && u.Scheme != "mongodb+srv") || mongotype.Database(u) == "" {
				return withCode(exitUsage, fmt.Errorf("need --target mongodb://host:port/db (naming the database), got %s", exporter.Redact(target)))
			}
			w, err := fixtures.New(seed, sc)
			if err != nil {
				return withCode(exitUsage, err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			client, err := mongotype.Connect(ctx, u)
			if err != nil {
				return err
			}
			defer client.Disconnect(ctx)
			db := client.Database(mongotype.Database(u))
			names, err := db.ListCollectionNames(ctx, bson.D{})
			if err != nil {
				return err
			}
			if len(names) > 0 {
				if !replaceDB {
					return withCode(exitUsage, fmt.Errorf("database %s already holds %d collections; use --replace to drop it, or choose another database", db.Name(), len(names)))
				}
				if err := db.Drop(ctx); err != nil {
					return err
				}
			}
			out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
			start := time.Now()
			counts, err := fixtures.LoadOpenIMMongo(ctx, db, w, fixtures.MongoLoadOptions{
				Progress: func(coll string, docs int64, took time.Duration) {
					if !globals.quiet {
						fmt.Fprintf(errOut, "  %-16s %10d docs  %6.1fs  %9.0f docs/s\n", coll, docs, took.Seconds(), float64(docs)/took.Seconds())
					}
				},
			})
			if err != nil {
				return fmt.Errorf("loading the OpenIM fixture into %s: %w", exporter.Redact(target), err)
			}
			if edge {
				if err := fixtures.LoadBSONEdge(ctx, db); err != nil {
					return fmt.Errorf("loading %s into %s: %w", fixtures.BSONEdgeCollection, exporter.Redact(target), err)
				}
				counts = append(counts, fixtures.TableCount{Table: fixtures.BSONEdgeCollection, Rows: int64(len(fixtures.BSONEdgeDocs()))})
			}
			fmt.Fprintf(out, "%s: OpenIM world seed %d (%d users, %d groups, %d messages) loaded in %.1fs\n",
				exporter.Redact(target), seed, sc.Users, sc.Groups, sc.Messages, time.Since(start).Seconds())
			var total int64
			for _, c := range counts {
				total += c.Rows
				fmt.Fprintf(out, "  %-16s %10d\n", c.Table, c.Rows)
			}
			fmt.Fprintf(out, "  %-16s %10d\n", "total", total)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&target, "target", "", "mongodb://[user:pass@]host:port/db to fill")
	f.IntVar(&sc.Users, "users", sc.Users, "users (two of them are OpenIM system accounts)")
	f.IntVar(&sc.Groups, "groups", sc.Groups, "groups")
	f.IntVar(&sc.Messages, "messages", sc.Messages, "messages (in msg documents of 100 slots)")
	f.Int64Var(&seed, "seed", 1, "random seed: the same seed and scale give the same data")
	f.BoolVar(&edge, "edge", true, "also create the bson_edge collection")
	f.BoolVar(&replaceDB, "replace", false, "drop the database first if it holds collections")
	return cmd
}
