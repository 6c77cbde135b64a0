package mysqltype

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Some statements rightly keep the server silent for longer than any read
// timeout that still catches a wedged server: building the indexes of a
// 2M-row table took 57 s, and a bulk load waits for the server to apply
// it. Such statements run on connections without a read timeout
// (LongConfig), and Watch pings the server on a pool that has one
// meanwhile: a server that stops answering the pings is given up on all
// the same, after at most its read timeout.

// LongConfig is cfg without the read timeout, for the connections that
// run statements under Watch.
func LongConfig(cfg *mysql.Config) *mysql.Config {
	c := cfg.Clone()
	c.ReadTimeout = 0
	return c
}

// Watch returns a context for a long statement and a stop function to call
// when it has returned. Meanwhile db (a pool with the read timeout of cfg)
// is pinged every third of that timeout, each ping given two thirds of it;
// when one fails, the context is cancelled (the driver then closes the
// statement's connection) and stop returns why, naming the server.
func Watch(ctx context.Context, db *sql.DB, cfg *mysql.Config, server, step string) (context.Context, func() error) {
	wctx, cancel := context.WithCancel(ctx)
	every := cfg.ReadTimeout / 3
	if every <= 0 {
		every = DefaultTimeout / 3
	}
	var (
		wg    sync.WaitGroup
		fired error
	)
	done := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-wctx.Done():
				return
			case <-tick.C:
			}
			pctx, pcancel := context.WithTimeout(wctx, 2*every)
			err := db.PingContext(pctx)
			pcancel()
			if err != nil && ctx.Err() == nil {
				select {
				case <-done: // the statement returned meanwhile
				default:
					fired = fmt.Errorf("%s (%s): %s: the server stopped answering (a ping got no answer within %s): %w; check that it is up, or raise ?readTimeout=", server, cfg.Addr, step, 2*every, err)
					cancel()
				}
				return
			}
		}
	}()
	return wctx, func() error {
		close(done)
		wg.Wait()
		cancel()
		return fired
	}
}
