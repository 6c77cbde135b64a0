package resp

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/imbundle/imbundle/internal/scheme"
)

// Options say where and how to connect.
type Options struct {
	Addr     string // host:port
	User     string // ACL user (Redis 6+); empty = legacy AUTH
	Password string
	DB       int
	TLS      *tls.Config // non-nil for rediss://

	// A server that accepts a connection and never answers must fail the
	// step it hangs in, not hang it: connecting gives up after
	// DialTimeout, and a read or write after ReadTimeout or WriteTimeout
	// without a byte moving (silence, not the length of a big reply).
	// Zero means DefaultTimeout.
	DialTimeout, ReadTimeout, WriteTimeout time.Duration
}

// DefaultTimeout is the dial, read and write timeout unless the URL sets
// one: far longer than any live server's pause, short enough that a dead
// one is named within a minute.
const DefaultTimeout = 30 * time.Second

// URLParams are the query parameters ParseURL takes.
var URLParams = []string{"timeout", "dial_timeout", "read_timeout", "write_timeout", "insecure-skip-verify"}

// ParseURL reads redis://[user:pass@]host[:port][/db][?params] or
// rediss://... Parameters: timeout= (all three timeouts), dial_timeout=,
// read_timeout=, write_timeout= (Go durations: 5s, 1500ms); for rediss,
// insecure-skip-verify=true disables certificate checks (test servers with
// self-signed certificates). Any other parameter is a usage error that
// lists these.
func ParseURL(u *url.URL) (Options, error) {
	var o Options
	if err := scheme.CheckQuery(u, URLParams...); err != nil {
		return o, err
	}
	q := u.Query()
	switch u.Scheme {
	case "redis":
	case "rediss":
		o.TLS = &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
		if q.Get("insecure-skip-verify") == "true" {
			o.TLS.InsecureSkipVerify = true
		}
	default:
		return o, fmt.Errorf("scheme %q is not redis or rediss", u.Scheme)
	}
	for _, p := range []struct {
		name string
		dst  []*time.Duration
	}{
		{"timeout", []*time.Duration{&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout}},
		{"dial_timeout", []*time.Duration{&o.DialTimeout}},
		{"read_timeout", []*time.Duration{&o.ReadTimeout}},
		{"write_timeout", []*time.Duration{&o.WriteTimeout}},
	} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return o, scheme.Usagef("URL parameter %s=%q: want a positive duration such as 5s or 1500ms", p.name, v)
		}
		for _, dst := range p.dst {
			*dst = d
		}
	}
	for _, d := range []*time.Duration{&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout} {
		if *d == 0 {
			*d = DefaultTimeout
		}
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
	nc   net.Conn
	dl   *deadlines
	addr string
	r    *bufio.Reader
	db   int
	buf  Buf
	dec  decoder
}

// Dial connects, authenticates and selects o.DB (when not 0).
func Dial(ctx context.Context, o Options) (*Conn, error) {
	if o.DialTimeout == 0 {
		o.DialTimeout = DefaultTimeout
	}
	d := net.Dialer{Timeout: o.DialTimeout, KeepAlive: 30 * time.Second}
	var nc net.Conn
	var err error
	if o.TLS != nil {
		td := tls.Dialer{NetDialer: &d, Config: o.TLS}
		nc, err = td.DialContext(ctx, "tcp", o.Addr)
	} else {
		nc, err = d.DialContext(ctx, "tcp", o.Addr)
	}
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() && ctx.Err() == nil {
			return nil, fmt.Errorf("connect to %s: timed out after %s (set dial_timeout= in the URL to wait longer): %w", o.Addr, o.DialTimeout, err)
		}
		return nil, fmt.Errorf("connect to %s: %w", o.Addr, err)
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	dl := &deadlines{Conn: nc, read: o.ReadTimeout, write: o.WriteTimeout}
	if dl.read == 0 {
		dl.read = DefaultTimeout
	}
	if dl.write == 0 {
		dl.write = DefaultTimeout
	}
	c := &Conn{nc: nc, dl: dl, addr: o.Addr, r: bufio.NewReaderSize(dl, 256<<10)}
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

// deadlines moves the connection's deadline forward before every read and
// write that reaches the network (bufio reads 256 KiB at a time), so that
// a timeout measures silence. A cancelled context wins: once cancel has
// set a past deadline, nothing moves it forward again in that round.
type deadlines struct {
	net.Conn
	read, write time.Duration

	mu        sync.Mutex
	cancelled bool
}

func (d *deadlines) Read(p []byte) (int, error) {
	d.mu.Lock()
	if !d.cancelled {
		d.Conn.SetReadDeadline(time.Now().Add(d.read))
	}
	d.mu.Unlock()
	return d.Conn.Read(p)
}

func (d *deadlines) Write(p []byte) (int, error) {
	d.mu.Lock()
	if !d.cancelled {
		d.Conn.SetWriteDeadline(time.Now().Add(d.write))
	}
	d.mu.Unlock()
	return d.Conn.Write(p)
}

func (d *deadlines) cancel() {
	d.mu.Lock()
	d.cancelled = true
	d.Conn.SetDeadline(time.Unix(1, 0))
	d.mu.Unlock()
}

func (d *deadlines) reset() {
	d.mu.Lock()
	d.cancelled = false
	d.mu.Unlock()
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
	if ctx.Done() != nil {
		if err := ctx.Err(); err != nil {
			return err
		}
		c.dl.reset()
		stop := context.AfterFunc(ctx, c.dl.cancel)
		defer stop()
	}
	if _, err := c.dl.Write(b.b); err != nil {
		return c.wrap(ctx, err, "sending", b, 0)
	}
	c.dec.reset()
	var ferr error
	for i := 0; i < b.cmds; i++ {
		v, err := c.dec.read(c.r)
		if err != nil {
			return c.wrap(ctx, err, "reading the reply to", b, i)
		}
		if ferr == nil {
			ferr = fn(i, v)
		}
	}
	return ferr
}

// wrap names the server and the step an error happened in: "reading the
// reply to SCAN from 127.0.0.1:6390 timed out after 1s".
func (c *Conn) wrap(ctx context.Context, err error, step string, b *Buf, i int) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	what := firstName(b.b)
	if b.cmds > 1 {
		what = fmt.Sprintf("command %d of %d pipelined (the first a %s)", i+1, b.cmds, what)
	}
	prep := "from"
	if step == "sending" {
		prep = "to"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		limit, param := c.dl.read, "read_timeout"
		if step == "sending" {
			limit, param = c.dl.write, "write_timeout"
		}
		return fmt.Errorf("%s %s %s %s timed out after %s of silence (the server accepted the connection but does not answer: check that it is a Redis-protocol server and not overloaded, or set %s= in the URL): %w", step, what, prep, c.addr, limit, param, err)
	}
	return fmt.Errorf("%s %s %s %s: %w", step, what, prep, c.addr, err)
}

// firstName is the name of the first command encoded in b
// ("*N\r\n$L\r\nNAME\r\n..."), for error messages.
func firstName(b []byte) string {
	for n := 0; n < 3; n++ {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return "command"
		}
		if n == 2 {
			return strings.ToUpper(strings.TrimSuffix(string(b[:i]), "\r"))
		}
		b = b[i+1:]
	}
	return "command"
}
