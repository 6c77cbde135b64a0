// Command redisbench prepares and measures the Redis benchmark of
// bench/redis/run.sh: it loads the mixed keyspace, and runs the DUMP/RESTORE
// copy loop that imbundle is compared with. It talks to the server with the
// same pipelining client as imbundle, so the comparison is of method, not
// of client.
//
//	redisbench load  -url redis://127.0.0.1:6379/14 -keys 1000000
//	redisbench bigkeys -url redis://127.0.0.1:6379/14 -keys 6000 -seed 1
//	redisbench dumpcopy -from redis://127.0.0.1:6379/14 -to redis://127.0.0.1:6379/15
package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/imbundle/imbundle/fixtures"
	"github.com/imbundle/imbundle/internal/redistype/resp"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: redisbench load|bigkeys|dumpcopy [flags]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	u := fs.String("url", "redis://127.0.0.1:6379/14", "database to load")
	keys := fs.Int("keys", 0, "keys to load (default 1,000,000 for load, 6,000 for bigkeys)")
	from := fs.String("from", "redis://127.0.0.1:6379/14", "dumpcopy source database")
	to := fs.String("to", "redis://127.0.0.1:6379/15", "dumpcopy target database")
	conns := fs.Int("conns", 4, "dumpcopy connections per side")
	seed := fs.Int64("seed", 1, "bigkeys fixture seed")
	fs.Parse(os.Args[2:])
	ctx := context.Background()
	var err error
	switch os.Args[1] {
	case "load":
		if *keys == 0 {
			*keys = 1_000_000
		}
		err = load(ctx, dial(*u), *keys)
	case "bigkeys":
		var n fixtures.RedisBigKeysCounts
		n, err = fixtures.LoadRedisBigKeys(ctx, dial(*u), fixtures.RedisBigKeysOptions{Seed: *seed, Keys: *keys})
		if err == nil {
			fmt.Printf("bigkeys: %d keys, %d elements, %d with TTL\n", n.Keys, n.Elements, n.WithTTL)
		}
	case "dumpcopy":
		err = dumpCopy(ctx, *from, *to, *conns)
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "redisbench:", err)
		os.Exit(1)
	}
}

func dial(raw string) *resp.Conn {
	u, err := url.Parse(raw)
	if err != nil {
		panic(err)
	}
	o, err := resp.ParseURL(u)
	if err != nil {
		panic(err)
	}
	c, err := resp.Dial(context.Background(), o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "redisbench:", err)
		os.Exit(1)
	}
	return c
}

func round(ctx context.Context, c *resp.Conn, b *resp.Buf) error {
	err := c.Round(ctx, b, func(i int, v resp.Value) error { return v.Err() })
	b.Reset()
	return err
}

// load writes n small keys: 60% strings, 10% each of hashes, lists, sets
// and sorted sets of 5 elements, one key in 20 with a TTL.
func load(ctx context.Context, c *resp.Conn, n int) error {
	var b resp.Buf
	for i := 0; i < n; i++ {
		is := strconv.Itoa(i)
		switch i % 10 {
		case 0, 1, 2, 3, 4, 5:
			key := "str:" + is
			b.Cmd("SET", key, "value-"+is+"-abcdefghijklmnop")
		case 6:
			b.Cmd("HSET", "hash:"+is, "f1", is, "f2", "x", "f3", "yy", "f4", "zzz", "f5", "v")
		case 7:
			b.Cmd("RPUSH", "list:"+is, "a", "b", is, "d", "e")
		case 8:
			b.Cmd("SADD", "set:"+is, "m1", "m2", is, "m4", "m5")
		case 9:
			b.Cmd("ZADD", "zset:"+is, "1", "a", "2.5", "b", "-3", "c", "0.1", is, "inf", "e")
		}
		if (i/10)%10 == 0 { // 10% of the keys of each type
			b.Cmd("PEXPIRE", []string{"str:", "hash:", "list:", "set:", "zset:"}[typeIndex(i)]+is, "86400000")
		}
		if b.Cmds() >= 1000 {
			if err := round(ctx, c, &b); err != nil {
				return err
			}
		}
	}
	return round(ctx, c, &b)
}

func typeIndex(i int) int {
	switch i % 10 {
	case 6:
		return 1
	case 7:
		return 2
	case 8:
		return 3
	case 9:
		return 4
	}
	return 0
}

// dumpCopy is the RedisShake scan-mode method: SCAN, then DUMP and PTTL per
// key, RESTORE on the target, pipelined, on conns connections per side.
func dumpCopy(ctx context.Context, from, to string, conns int) error {
	scan := dial(from)
	batches := make(chan []string, conns)
	start := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var copied int
	var ferr error
	for w := 0; w < conns; w++ {
		src, dst := dial(from), dial(to)
		wg.Add(1)
		go func() {
			defer wg.Done()
			var b resp.Buf
			for keys := range batches {
				for _, k := range keys {
					b.Cmd("DUMP", k)
					b.Cmd("PTTL", k)
				}
				dumps := make([]resp.Value, 0, len(keys)*2)
				if err := src.Round(ctx, &b, func(_ int, v resp.Value) error { dumps = append(dumps, v); return v.Err() }); err != nil {
					mu.Lock()
					ferr = err
					mu.Unlock()
					return
				}
				b.Reset()
				for i, k := range keys {
					d, ttl := dumps[2*i], dumps[2*i+1].Int
					if d.Kind == resp.KindNil {
						continue
					}
					if ttl < 0 {
						ttl = 0
					}
					b.Begin("RESTORE")
					b.ArgString(k)
					b.ArgInt(ttl)
					b.Arg(d.Str)
					b.ArgString("REPLACE")
					b.End()
				}
				n := b.Cmds()
				if err := round(ctx, dst, &b); err != nil {
					mu.Lock()
					ferr = err
					mu.Unlock()
					return
				}
				mu.Lock()
				copied += n
				mu.Unlock()
			}
		}()
	}
	cursor := "0"
	for {
		v, err := scan.Do(ctx, "SCAN", cursor, "COUNT", "1000")
		if err != nil {
			return err
		}
		cursor = string(v.Elems[0].Str)
		var keys []string
		for _, k := range v.Elems[1].Elems {
			keys = append(keys, string(k.Str))
		}
		batches <- keys
		if cursor == "0" {
			break
		}
	}
	close(batches)
	wg.Wait()
	if ferr != nil {
		return ferr
	}
	el := time.Since(start)
	fmt.Printf("dumpcopy: %d keys in %.2fs = %.0f keys/s\n", copied, el.Seconds(), float64(copied)/el.Seconds())
	return nil
}
