package mongotype

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"

	"github.com/imbundle/imbundle/internal/scheme"
)

// DefaultTimeout is how long a client waits for a server that says
// nothing: to connect (connectTimeoutMS), to find the server
// (serverSelectionTimeoutMS) and for the answer to each command or cursor
// batch (timeoutMS). The URL's own values win.
const DefaultTimeout = 30 * time.Second

// Connect opens a client on u and checks that the server answers. Errors
// name the URL without its password. tune adjusts the client's options
// after the URL and the defaults are applied.
func Connect(ctx context.Context, u *url.URL, tune ...func(*options.ClientOptions)) (*mongo.Client, error) {
	red := scheme.RedactURL(u)
	co := options.Client().ApplyURI(u.String()).SetAppName("imbundle")
	if err := co.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %s", red, scrub(err.Error(), u))
	}
	if co.ConnectTimeout == nil {
		co.SetConnectTimeout(DefaultTimeout)
	}
	if co.ServerSelectionTimeout == nil {
		co.SetServerSelectionTimeout(DefaultTimeout)
	}
	if co.Timeout == nil {
		co.SetTimeout(DefaultTimeout)
	}
	for _, f := range tune {
		f(co)
	}
	c, err := mongo.Connect(co)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", red, scrub(err.Error(), u))
	}
	if err := c.Ping(ctx, readpref.Primary()); err != nil {
		c.Disconnect(context.Background())
		return nil, fmt.Errorf("%s does not answer (connect and ping; connectTimeoutMS, serverSelectionTimeoutMS and timeoutMS in the URL set how long to wait, default %s): %s (check host, port and credentials)", red, DefaultTimeout, scrub(err.Error(), u))
	}
	return c, nil
}

// Step wraps an error of one step (a command, a cursor) against server:
// a timeout says which step waited in vain and how to wait longer.
func Step(server, step string, err error) error {
	if err == nil {
		return nil
	}
	if mongo.IsTimeout(err) {
		return fmt.Errorf("%s: %s: the server did not answer in time (timeoutMS in the URL sets how long to wait, default %s): %w", server, step, DefaultTimeout, err)
	}
	return fmt.Errorf("%s: %s: %w", server, step, err)
}

// Database is the database a mongodb:// URL names in its path, or "".
func Database(u *url.URL) string {
	return strings.TrimPrefix(u.Path, "/")
}

// scrub removes the URL's password from a driver message, in case the
// driver quoted the connection string.
func scrub(msg string, u *url.URL) string {
	if u.User != nil {
		if p, ok := u.User.Password(); ok && p != "" {
			msg = strings.ReplaceAll(msg, p, "REDACTED")
			msg = strings.ReplaceAll(msg, url.QueryEscape(p), "REDACTED")
		}
	}
	return msg
}
