package mysqltype

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/imbundle/imbundle/internal/scheme"
)

// DefaultTimeout bounds each wait on the server — connecting, reading an
// answer, writing a request — unless the URL sets it: a server that accepts
// the connection and then says nothing must not hang a command.
const DefaultTimeout = 30 * time.Second

// URLParams are the query parameters a mysql:// URL may carry.
var URLParams = []string{"tls", "timeout", "readTimeout", "writeTimeout"}

// Config turns a mysql:// or mariadb:// URL
// (user:pass@host:port/db?tls=NAME&timeout=30s&readTimeout=30s&writeTimeout=30s)
// into a driver configuration. Every connection gets time_zone '+00:00', so
// TIMESTAMP values read and load as UTC on both sides, and the session
// variables in vars. An unknown URL parameter is a usage error naming the
// valid ones. Errors never repeat the password.
func Config(u *url.URL, vars map[string]string) (*mysql.Config, error) {
	if err := scheme.CheckQuery(u, URLParams...); err != nil {
		return nil, err
	}
	cfg := mysql.NewConfig()
	cfg.Net = "tcp"
	host := u.Host
	if host == "" {
		host = "127.0.0.1"
	}
	if _, _, err := net.SplitHostPort(host); err != nil {
		host = net.JoinHostPort(host, "3306")
	}
	cfg.Addr = host
	if u.User != nil {
		cfg.User = u.User.Username()
		cfg.Passwd, _ = u.User.Password()
	}
	cfg.DBName = strings.TrimPrefix(u.Path, "/")
	if strings.Contains(cfg.DBName, "/") {
		return nil, scheme.Usagef("%s://%s%s: the path must be a single database name", u.Scheme, u.Host, u.Path)
	}
	cfg.ParseTime = false
	cfg.InterpolateParams = false
	cfg.AllowNativePasswords = true
	cfg.MultiStatements = false
	cfg.Params = map[string]string{"time_zone": "'+00:00'"}
	for k, v := range vars {
		cfg.Params[k] = v
	}
	q := u.Query()
	if t := q.Get("tls"); t != "" {
		cfg.TLSConfig = t
	}
	for _, p := range []struct {
		name string
		dst  *time.Duration
	}{{"timeout", &cfg.Timeout}, {"readTimeout", &cfg.ReadTimeout}, {"writeTimeout", &cfg.WriteTimeout}} {
		*p.dst = DefaultTimeout
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return nil, scheme.Usagef("URL parameter %s=%q: want a positive duration such as 30s or 2m", p.name, v)
		}
		*p.dst = d
	}
	return cfg, nil
}

// StepError names the server and the step of a failed call. When the
// server went silent (the driver reports a timed-out read or write as an
// invalid connection, and logs the cause), it says which waits ran out.
func StepError(cfg *mysql.Config, server, step string, err error) error {
	var ne net.Error
	if errors.Is(err, mysql.ErrInvalidConn) || errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s (%s): %s: %w: the server did not answer (connect timeout=%s, readTimeout=%s, writeTimeout=%s; set them as URL parameters) or closed the connection; check that a MySQL or MariaDB server is up at that address",
			server, cfg.Addr, step, err, cfg.Timeout, cfg.ReadTimeout, cfg.WriteTimeout)
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case 1049: // ER_BAD_DB_ERROR: the URL names a database the server lacks
			return scheme.Usagef("%s: %s: %w: the database in the URL does not exist on this server; check its name (SHOW DATABASES lists them)", server, step, err)
		case 1044, 1045, 1698: // ER_DBACCESS_DENIED_ERROR, ER_ACCESS_DENIED_ERROR, ER_ACCESS_DENIED_NO_PASSWORD_ERROR
			return fmt.Errorf("%s: %s: %w: check the user and password (in the URL, --passfile or IMBUNDLE_PASSFILE) and the user's grants", server, step, err)
		}
	}
	return fmt.Errorf("%s: %s: %w", server, step, err)
}
