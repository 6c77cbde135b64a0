// Package mongo exports MongoDB databases (and servers speaking its wire
// protocol, such as FerretDB) into bundles: one dataset per collection, each
// document stored as the raw BSON bytes the server sent (SPEC.md §9).
package mongo

import (
	"context"
	"net/url"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/internal/mongotype"
	"github.com/imbundle/imbundle/internal/scheme"
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
	if opts.Filter != nil && opts.Filter.AllDatabases && mongotype.Database(u) != "" {
		return nil, scheme.Usagef("--all-databases: the URL %s names database %s; drop it from the URL to export every database", exporter.RedactURL(u), mongotype.Database(u))
	}
	s, err := mongotype.Connect(ctx, u)
	if err != nil {
		return nil, err
	}
	return &source{client: s, redacted: exporter.RedactURL(u), database: mongotype.Database(u), opts: opts}, nil
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
