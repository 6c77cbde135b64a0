package resp

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Options say where and how to connect.
type Options struct {
	Addr     string // host:port
	User     string // ACL user (Redis 6+); empty = legacy AUTH
	Password string
	DB       int
	TLS      *tls.Config // non-nil for rediss://
}

// ParseURL reads redis://[user:pass@]host[:port][/db] or rediss://... The
// query parameter insecure-skip-verify=true disables certificate checks for
// rediss (test servers with self-signed certificates).
func ParseURL(u *url.URL) (Options, error) {
	var o Options
	switch u.Scheme {
	case "redis":
	case "rediss":
		o.TLS = &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
		if u.Query().Get("insecure-skip-verify") == "true" {
			o.TLS.InsecureSkipVerify = true
		}
	default:
		return o, fmt.Errorf("scheme %q is not redis or rediss", u.Scheme)
	}
	host, port := u.Hostname(), u.Port()
	if host == "" {
		host = "127.0.0.1"
	}
	if port == "" {
		port = "6379"
	}
	o.Addr = net.JoinHostPort(host, port)
	if u.User != nil {
		if p, ok := u.User.Password(); ok {
			o.User, o.Password = u.User.Username(), p
		} else {
			// redis://secret@host: the only credential is a password.
			o.Password = u.User.Username()
		}
	}
	if p := strings.Trim(u.Path, "/"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return o, fmt.Errorf("database %q in the URL path is not a number (redis://host:port/N)", p)
		}
		o.DB = n
	}
	return o, nil
}

// HasDB reports whether the URL names a database in its path.
func HasDB(u *url.URL) bool { return strings.Trim(u.Path, "/") != "" }

// Conn is one connection. It is not safe for concurrent use.
type Conn struct {
	nc  net.Conn
	r   *bufio.Reader
	db  int
	buf Buf
	dec decoder
}

const dialTimeout = 10 * time.Second

// RoundTimeout bounds one pipelined round trip.
var RoundTimeout = 5 * time.Minute

// Dial connects, authenticates and selects o.DB (when not 0).
func Dial(ctx context.Context, o Options) (*Conn, error) {
	d := net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}
	var nc net.Conn
	var err error
	if o.TLS != nil {
		td := tls.Dialer{NetDialer: &d, Config: o.TLS}
		nc, err = td.DialContext(ctx, "tcp", o.Addr)
	} else {
		nc, err = d.DialContext(ctx, "tcp", o.Addr)
	}
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", o.Addr, err)
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	c := &Conn{nc: nc, r: bufio.NewReaderSize(nc, 256<<10)}
	if o.Password != "" {
		args := []string{"AUTH", o.Password}
		if o.User != "" {
			args = []string{"AUTH", o.User, o.Password}
		}
		v, err := c.Do(ctx, args...)
		if err == nil {
			err = v.Err()
		}
		if err != nil {
			nc.Close()
			// The reply never echoes the password, but say nothing of it.
			return nil, fmt.Errorf("authenticate to %s: %w", o.Addr, err)
		}
	}
	if o.DB != 0 {
		if err := c.Select(ctx, o.DB); err != nil {
			nc.Close()
			return nil, err
		}
	}
	return c, nil
}

// Close closes the connection.
func (c *Conn) Close() error { return c.nc.Close() }

// DB is the selected database.
func (c *Conn) DB() int { return c.db }

// Select switches the connection to database db.
func (c *Conn) Select(ctx context.Context, db int) error {
	v, err := c.Do(ctx, "SELECT", strconv.Itoa(db))
	if err == nil {
		err = v.Err()
	}
	if err != nil {
		return fmt.Errorf("SELECT %d: %w", db, err)
	}
	c.db = db
	return nil
}

// Do sends one command and returns its reply. An error reply is returned as
// a Value of KindError, not as err: err means the connection failed.
func (c *Conn) Do(ctx context.Context, args ...string) (Value, error) {
	c.buf.Reset()
	c.buf.Cmd(args...)
	var out Value
	err := c.Round(ctx, &c.buf, func(_ int, v Value) error { out = v; return nil })
	return out, err
}

// Round writes every command of b and reads one reply per command, calling
// fn in order. The caller keeps the number of commands per round bounded
// (thousands, not millions) so that replies never back up while commands
// are still being written. After an error the connection must be closed.
func (c *Conn) Round(ctx context.Context, b *Buf, fn func(i int, v Value) error) error {
	if b.open {
		panic("resp: Round with an open command")
	}
	// A server that stops answering fails the round instead of hanging
	// the export or import; no single round of a bounded pipeline takes
	// minutes on a live server. Set before the cancel hook, which must win.
	c.nc.SetDeadline(time.Now().Add(RoundTimeout))
	if ctx.Done() != nil {
		if err := ctx.Err(); err != nil {
			return err
		}
		stop := context.AfterFunc(ctx, func() { c.nc.SetDeadline(time.Unix(1, 0)) })
		defer stop()
	}
	if _, err := c.nc.Write(b.b); err != nil {
		return c.wrap(ctx, err)
	}
	c.dec.reset()
	var ferr error
	for i := 0; i < b.cmds; i++ {
		v, err := c.dec.read(c.r)
		if err != nil {
			return c.wrap(ctx, err)
		}
		if ferr == nil {
			ferr = fn(i, v)
		}
	}
	return ferr
}

func (c *Conn) wrap(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("redis %s: timeout: %w", c.nc.RemoteAddr(), err)
	}
	return fmt.Errorf("redis %s: %w", c.nc.RemoteAddr(), err)
}
