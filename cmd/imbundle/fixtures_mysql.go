package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/spf13/cobra"

	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/fixtures"
	"github.com/imbundle/imbundle/internal/mysqltype"
)

func init() { fixtureCmds = append(fixtureCmds, newFixturesMySQLCmd) }

func newFixturesMySQLCmd() *cobra.Command {
	var (
		target          string
		sc              = fixtures.DefaultScale
		seed            int64
		edge, replaceDB bool
		method          string
	)
	cmd := &cobra.Command{
		Use:   "mysql --target mysql://user@host:port/db",
		Short: "Create an OpenIM v3.4 MySQL database (users, friends, groups, conversations, chat_logs...) and the type edge-case tables",
		Long: `Create the database if needed and fill it with one consistent OpenIM v3.4
world (fixtures.World) of the given scale, dirty records included, then
(with --edge) the tables of MySQL type edge values. The same --seed and
scale always give the same rows. A database that already holds tables is
refused unless --replace, which drops and recreates it.

Declared relations for the exporter: --param relations=` + "'" + `$(imbundle fixtures mysql relations)` + "'",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if target == "" {
				return withCode(exitUsage, fmt.Errorf("need --target mysql://user@host:port/db"))
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			w, err := fixtures.New(seed, sc)
			if err != nil {
				return withCode(exitUsage, err)
			}
			db, err := openFixtureDB(ctx, target, replaceDB)
			if err != nil {
				return err
			}
			defer db.Close()
			out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
			start := time.Now()
			_, err = fixtures.LoadOpenIMMySQL(ctx, db, w, fixtures.MySQLLoadOptions{
				Method: method,
				Progress: func(table string, rows int64, took time.Duration) {
					if !globals.quiet {
						fmt.Fprintf(errOut, "  %-16s %10d rows  %6.1fs  %9.0f rows/s\n", table, rows, took.Seconds(), float64(rows)/took.Seconds())
					}
				},
			})
			if err != nil {
				return fmt.Errorf("loading the OpenIM fixture into %s: %w", exporter.Redact(target), err)
			}
			loaded := time.Since(start)
			if edge {
				if err := fixtures.MySQLEdgeTypes(ctx, db); err != nil {
					return fmt.Errorf("loading the type edge tables into %s: %w", exporter.Redact(target), err)
				}
			}
			fmt.Fprintf(out, "%s: OpenIM world seed %d (%d users, %d groups, %d messages) loaded in %.1fs\n",
				exporter.Redact(target), seed, sc.Users, sc.Groups, sc.Messages, loaded.Seconds())
			return printTableCounts(ctx, db, out)
		},
	}
	f := cmd.Flags()
	f.StringVar(&target, "target", "", "mysql://user[:pass]@host:port/db to create and fill")
	f.IntVar(&sc.Users, "users", sc.Users, "users (two of them are OpenIM system accounts)")
	f.IntVar(&sc.Groups, "groups", sc.Groups, "groups")
	f.IntVar(&sc.Messages, "messages", sc.Messages, "chat_logs rows")
	f.Int64Var(&seed, "seed", 1, "random seed: the same seed and scale give the same data")
	f.BoolVar(&edge, "edge", true, "also create the MySQL type edge-case tables (type_edges, no_pk_dups)")
	f.BoolVar(&replaceDB, "replace", false, "drop and recreate the database if it holds tables")
	f.StringVar(&method, "method", "", "load method: load-data or insert (default: load-data, insert if the server refuses LOCAL INFILE)")
	cmd.AddCommand(&cobra.Command{
		Use:   "relations",
		Short: "Print the OpenIM relations for the MySQL exporter's --param relations=",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), fixtures.OpenIMRelations())
			return nil
		},
	})
	return cmd
}

// openFixtureDB creates the target database if needed and opens it,
// refusing one that already holds tables unless replace.
func openFixtureDB(ctx context.Context, target string, replace bool) (*sql.DB, error) {
	cfg, err := fixtureMySQLConfig(target)
	if err != nil {
		return nil, withCode(exitUsage, err)
	}
	name := cfg.DBName
	if name == "" {
		return nil, withCode(exitUsage, fmt.Errorf("%s: the URL must name a database", exporter.Redact(target)))
	}
	cfg.DBName = ""
	admin, err := openConfig(cfg)
	if err != nil {
		return nil, err
	}
	defer admin.Close()
	if err := admin.PingContext(ctx); err != nil {
		return nil, fmt.Errorf("cannot reach %s: %w", exporter.Redact(target), err)
	}
	q := "`" + strings.ReplaceAll(name, "`", "``") + "`"
	var tables int
	if err := admin.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = ?", name).Scan(&tables); err != nil {
		return nil, err
	}
	if tables > 0 {
		if !replace {
			return nil, withCode(exitUsage, fmt.Errorf("database %s already holds %d tables; use --replace to drop and recreate it, or choose another database", name, tables))
		}
		if _, err := admin.ExecContext(ctx, "DROP DATABASE "+q); err != nil {
			return nil, err
		}
	}
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS "+q+" CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		return nil, err
	}
	cfg.DBName = name
	return openConfig(cfg)
}

func openConfig(cfg *mysql.Config) (*sql.DB, error) {
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(conn), nil
}

// fixtureMySQLConfig turns mysql://user:pass@host:port/db into a driver
// configuration, the same way the MySQL exporter and importer do.
func fixtureMySQLConfig(raw string) (*mysql.Config, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "mysql" && u.Scheme != "mariadb") {
		return nil, fmt.Errorf("%s: want mysql://user[:pass]@host:port/db", exporter.Redact(raw))
	}
	cfg, err := mysqltype.Config(u, nil)
	if err == nil && u.Query().Get("readTimeout") == "" {
		// The loader's own statements (ALTER TABLE ADD KEY on millions of
		// rows) run for minutes without a byte on the wire: the engines'
		// 30 s silence limit cut a 2M-message load short at its indexes.
		cfg.ReadTimeout = 0
	}
	return cfg, err
}

func printTableCounts(ctx context.Context, db *sql.DB, out interface{ Write([]byte) (int, error) }) error {
	rows, err := db.QueryContext(ctx, "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY table_name")
	if err != nil {
		return err
	}
	var names []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		names = append(names, n)
	}
	rows.Close()
	var total int64
	for _, n := range names {
		var c int64
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM `"+strings.ReplaceAll(n, "`", "``")+"`").Scan(&c); err != nil {
			return err
		}
		total += c
		fmt.Fprintf(out, "  %-16s %10d\n", n, c)
	}
	fmt.Fprintf(out, "  %-16s %10d\n", "total", total)
	return nil
}
