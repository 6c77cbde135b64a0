package main

import (
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"time"

	"github.com/spf13/cobra"

	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/fixtures"
	"github.com/imbundle/imbundle/internal/redistype/resp"
)

func init() { fixtureCmds = append(fixtureCmds, newFixturesRedisCmd) }

func newFixturesRedisCmd() *cobra.Command {
	var (
		target        string
		sc            = fixtures.DefaultScale
		seed          int64
		big           int
		openim, edge  bool
		replace       bool
		tokenTTLHours int
	)
	cmd := &cobra.Command{
		Use:   "redis --target redis://host:port/N [--big N]",
		Short: "Fill a Redis-protocol database with OpenIM v3.4 keys and Redis edge cases",
		Long: `Fill logical database N with the Redis state OpenIM v3.4 keeps for the
same world as "imbundle fixtures mysql" (same --seed and scale: MAX_SEQ,
MIN_SEQ, HAS_READ_SEQ, CON_USER_MIN_SEQ, UID_PID_TOKEN_STATUS token hashes
with TTLs), and with --edge the keys that break migrators: all 256 byte
values in keys, empty values, a 100,000-byte key, a hash, list, set and
sorted set of --big elements each, bit-exact scores (0.1, 1e-300, inf,
-inf, -0), streams, keys with and without TTL. A database that holds keys
is refused unless --replace (FLUSHDB of that database only).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if target == "" {
				return withCode(exitUsage, fmt.Errorf("need --target redis://host:port/N"))
			}
			u, err := url.Parse(target)
			if err != nil {
				return withCode(exitUsage, fmt.Errorf("%s: cannot parse", exporter.Redact(target)))
			}
			o, err := resp.ParseURL(u)
			if err != nil {
				return withCode(exitUsage, fmt.Errorf("%s: %w", exporter.Redact(target), err))
			}
			if !resp.HasDB(u) {
				return withCode(exitUsage, fmt.Errorf("%s: name the database in the URL path (redis://host:port/N), so that db 0 is never filled by accident", exporter.Redact(target)))
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			c, err := resp.Dial(ctx, o)
			if err != nil {
				return fmt.Errorf("%s: %w", exporter.Redact(target), err)
			}
			defer c.Close()
			v, err := c.Do(ctx, "DBSIZE")
			if err != nil {
				return err
			}
			if v.Int > 0 {
				if !replace {
					return withCode(exitUsage, fmt.Errorf("%s holds %d keys; use --replace to empty that database first (FLUSHDB), or choose another", exporter.Redact(target), v.Int))
				}
				if v, err := c.Do(ctx, "FLUSHDB"); err != nil || v.Err() != nil {
					return fmt.Errorf("FLUSHDB: %v %v", err, v.Err())
				}
			}
			out := cmd.OutOrStdout()
			start := time.Now()
			if openim {
				w, err := fixtures.New(seed, sc)
				if err != nil {
					return withCode(exitUsage, err)
				}
				n, err := fixtures.LoadOpenIMRedis(ctx, c, w, int64(tokenTTLHours)*3600*1000)
				if err != nil {
					return fmt.Errorf("loading the OpenIM keys into %s: %w", exporter.Redact(target), err)
				}
				for _, p := range []string{fixtures.RedisMaxSeq, fixtures.RedisMinSeq, fixtures.RedisHasReadSeq, fixtures.RedisConUserMinSeq, fixtures.RedisTokenStatus} {
					fmt.Fprintf(out, "  %-24s %8d keys\n", p+"*", n[p])
				}
			}
			if edge {
				n, err := fixtures.LoadRedisEdge(ctx, c, fixtures.RedisEdgeOptions{Big: big})
				if err != nil {
					return fmt.Errorf("loading the edge-case keys into %s: %w", exporter.Redact(target), err)
				}
				fmt.Fprintf(out, "  %-24s %8d keys (%d with TTL, big keys of %d elements)\n", "edge cases", n.Keys, n.WithTTL, big)
			}
			v, err = c.Do(ctx, "DBSIZE")
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "%s: %d keys in %.1fs\n", exporter.Redact(target), v.Int, time.Since(start).Seconds())
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&target, "target", "", "redis://[user:pass@]host:port/N to fill")
	f.IntVar(&sc.Users, "users", sc.Users, "users of the OpenIM world")
	f.IntVar(&sc.Groups, "groups", sc.Groups, "groups of the OpenIM world")
	f.IntVar(&sc.Messages, "messages", sc.Messages, "messages of the OpenIM world (they set the seqs)")
	f.Int64Var(&seed, "seed", 1, "random seed: the same seed and scale as the MySQL fixture give consistent data")
	f.IntVar(&big, "big", 1_000_000, "elements of each big key (hash, list, set, sorted set)")
	f.BoolVar(&openim, "openim", true, "write the OpenIM v3.4 keys")
	f.BoolVar(&edge, "edge", true, "write the edge-case keys")
	f.BoolVar(&replace, "replace", false, "FLUSHDB the target database first if it holds keys")
	f.IntVar(&tokenTTLHours, "token-ttl-hours", 90*24, "TTL of the token hashes (OpenIM's default token expiry is 90 days)")
	return cmd
}
