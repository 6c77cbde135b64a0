// Package mongo exports MongoDB databases (and servers speaking its wire
// protocol, such as FerretDB) into bundles: one dataset per collection, each
// document stored as the raw BSON bytes the server sent (SPEC.md §9).
package mongo

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"

	"github.com/imbundle/imbundle/exporter"
)

func init() {
	exporter.Register(open, "mongodb", "mongodb+srv")
}

// StateDatabase is the database where the importer keeps its resume
// markers by default (importer/mongo, --param state-db); an export of every
// database leaves it out, since it is imbundle's bookkeeping, not data.
const StateDatabase = "imbundle"

// LegacyProgressCollection is where imbundle releases before the state
// database kept resume markers, inside the user's database; an
// interrupted import of such a release may have left one, and it is
// bookkeeping, not data, so it is never exported.
const LegacyProgressCollection = "imbundle_progress"

type source struct {
	client   *mongo.Client
	redacted string
	database string // from the URL path; "" = every database but admin, local, config
	opts     exporter.Options
	// counts: estimatedDocumentCount is metadata on MongoDB but a full
	// scan on FerretDB (7 s for 20,000 documents here), so progress totals
	// are only asked of MongoDB.
	counts bool
}

func open(ctx context.Context, u *url.URL, opts exporter.Options) (exporter.Source, error) {
	s, err := Connect(ctx, u)
	if err != nil {
		return nil, err
	}
	return &source{client: s, redacted: exporter.RedactURL(u), database: Database(u), opts: opts}, nil
}

// DefaultTimeout is how long a client waits for a server that says
// nothing: to connect (connectTimeoutMS), to find the server
// (serverSelectionTimeoutMS) and for the answer to each command or cursor
// batch (timeoutMS). The URL's own values win.
const DefaultTimeout = 30 * time.Second

// Connect opens a client on u and checks that the server answers. Errors
// name the URL without its password. tune adjusts the client's options
// after the URL and the defaults are applied.
func Connect(ctx context.Context, u *url.URL, tune ...func(*options.ClientOptions)) (*mongo.Client, error) {
	red := exporter.RedactURL(u)
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

func (s *source) Close() error {
	return s.client.Disconnect(context.Background())
}

// serverVersion asks buildInfo for the version, naming FerretDB when the
// server is one (its buildInfo carries ferretdbVersion).
func serverVersion(ctx context.Context, c *mongo.Client) (version string, ferretDB bool) {
	var bi struct {
		Version         string `bson:"version"`
		FerretDBVersion string `bson:"ferretdbVersion"`
	}
	if err := c.Database("admin").RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&bi); err != nil {
		return "", false
	}
	if bi.FerretDBVersion != "" {
		return bi.Version + " (FerretDB " + bi.FerretDBVersion + ")", true
	}
	return bi.Version, false
}
