package mysqltype_test

import (
	"context"
	"database/sql"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/imbundle/imbundle/internal/mysqltype"
	"github.com/imbundle/imbundle/internal/testenv"
)

// freezer forwards TCP connections to a server until frozen; then it
// passes nothing more, as a wedged server or a dead route does.
type freezer struct {
	frozen atomic.Bool
	mu     sync.Mutex
	conns  []net.Conn
}

func startFreezer(t *testing.T, target string) (*freezer, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &freezer{}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			f.mu.Lock()
			f.conns = append(f.conns, c, s)
			f.mu.Unlock()
			go f.pipe(c, s)
			go f.pipe(s, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		f.mu.Lock()
		for _, c := range f.conns {
			c.Close()
		}
		f.mu.Unlock()
	})
	return f, ln.Addr().String()
}

func (f *freezer) pipe(dst, src net.Conn) {
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if f.frozen.Load() {
			io.Copy(io.Discard, src) // swallow everything from now on
			return
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// TestWatchLongStatement: a statement silent for longer than the read
// timeout succeeds under Watch on a LongConfig connection (and fails on a
// plain one); when the server stops answering, Watch gives up on it and
// says so, naming the server and the step.
func TestWatchLongStatement(t *testing.T) {
	addr := testenv.MySQLAddr() // user@host:port
	at := strings.LastIndex(addr, "@")
	f, proxy := startFreezer(t, addr[at+1:])
	u, _ := url.Parse("mysql://" + addr[:at+1] + proxy + "/?readTimeout=1s")
	cfg, err := mysqltype.Config(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	open := func(cfg *mysql.Config) *sql.DB {
		c, err := mysql.NewConnector(cfg)
		if err != nil {
			t.Fatal(err)
		}
		db := sql.OpenDB(c)
		t.Cleanup(func() { db.Close() })
		return db
	}
	db, long := open(cfg), open(mysqltype.LongConfig(cfg))
	ctx := context.Background()
	if err := db.PingContext(ctx); err != nil {
		testenv.Unavailable(t, "MariaDB at "+addr, err)
	}

	if _, err := db.ExecContext(ctx, "DO SLEEP(3)"); err == nil {
		t.Fatal("a 3 s statement succeeded under readTimeout=1s: the read timeout is not applied")
	}
	wctx, stop := mysqltype.Watch(ctx, db, cfg, "mysql://"+proxy, "sleep")
	_, err = long.ExecContext(wctx, "DO SLEEP(3)")
	if werr := stop(); err != nil || werr != nil {
		t.Fatalf("3 s statement under Watch: %v (watch: %v)", err, werr)
	}

	wctx, stop = mysqltype.Watch(ctx, db, cfg, "mysql://"+proxy, "long sleep")
	f.frozen.Store(true)
	_, err = long.ExecContext(wctx, "DO SLEEP(20)")
	werr := stop()
	if err == nil || werr == nil || !strings.Contains(werr.Error(), proxy) || !strings.Contains(werr.Error(), "long sleep") || !strings.Contains(werr.Error(), "stopped answering") {
		t.Fatalf("statement on a frozen server: %v; watch: %v", err, werr)
	}
}
