package mysqltype

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Config turns a mysql:// or mariadb:// URL (user:pass@host:port/db?tls=...)
// into a driver configuration. Every connection gets time_zone '+00:00', so
// TIMESTAMP values read and load as UTC on both sides, and the session
// variables in vars. Errors never repeat the password.
func Config(u *url.URL, vars map[string]string) (*mysql.Config, error) {
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
		return nil, fmt.Errorf("%s://%s%s: the path must be a single database name", u.Scheme, u.Host, u.Path)
	}
	cfg.ParseTime = false
	cfg.InterpolateParams = false
	cfg.AllowNativePasswords = true
	cfg.MultiStatements = false
	cfg.Timeout = 10 * time.Second
	cfg.Params = map[string]string{"time_zone": "'+00:00'"}
	for k, v := range vars {
		cfg.Params[k] = v
	}
	q := u.Query()
	if t := q.Get("tls"); t != "" {
		cfg.TLSConfig = t
	}
	if t := q.Get("timeout"); t != "" {
		d, err := time.ParseDuration(t)
		if err != nil {
			return nil, fmt.Errorf("URL parameter timeout=%q: %v", t, err)
		}
		cfg.Timeout = d
	}
	return cfg, nil
}
