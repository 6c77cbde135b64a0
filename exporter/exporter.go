// Package exporter turns live databases into datasets of Arrow record
// batches. Engines register a Opener by URL scheme, as database/sql drivers
// register by name; the mysql, mongo and redis subpackages do so in init.
//
// Beyond Source, an engine's source may implement optional interfaces the
// export asks for: Locator, Differ, SideChecker, SchemaDiffer (verify
// --against), CounterReporter, SchemaKeysReporter, and for a resumed
// export (resume.go) ResumeChecker, SnapshotChecker and ResumeReader,
// which lets it keep the finished parts of a dataset a killed run was
// still reading and read only the rows after them.
package exporter

import (
	"context"
	"log/slog"
	"net/url"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/internal/scheme"
	"github.com/imbundle/imbundle/progress"
	"github.com/imbundle/imbundle/spec"
)

// Source is one live database opened for reading.
type Source interface {
	// Describe returns the source descriptor and the datasets this source
	// exports, each with its Arrow schema. For a consistent export it also
	// establishes the snapshot that later Reads see.
	Describe(ctx context.Context) (*Description, error)
	// Read streams the rows of a dataset in primary-key order (where there is
	// one) through emit, in record batches of about bundle.DefaultBatchBytes.
	// ds names the dataset as Describe did, or as a bundle's manifest records
	// it with Namespace and Object mapped to this source: verify --against
	// reads a target through the same function that exported the bundle.
	// Read is safe for concurrent use on distinct datasets.
	Read(ctx context.Context, ds *spec.Dataset, emit func(arrow.RecordBatch) error) error
	// Close releases connections and ends the snapshot.
	Close() error
}

// Locator is implemented by sources whose URL can name the database a
// dataset is read from (so Read may not read ds.Namespace): Locate says what
// Read reads, for reports such as verify --against's.
type Locator interface {
	Locate(ds *spec.Dataset) string
}

// Difference names one row (by key) where a target differs from a bundle.
type Difference struct {
	Row       int64    `json:"row"`                  // position in key order
	BundleKey []string `json:"bundle_key,omitempty"` // nil: the bundle has no row there
	TargetKey []string `json:"target_key,omitempty"` // nil: the target has no row there
}

// Differ is implemented by sources that can locate differing rows better
// than verify's walk in key order (Redis: SCAN order is arbitrary, but keys
// can be looked up one by one).
type Differ interface {
	Diff(ctx context.Context, ds *spec.Dataset, bundleRows func(func(arrow.RecordBatch) error) error, limit int) ([]Difference, error)
}

// SideChecker is implemented by sources whose datasets carry columns that
// the content digest leaves out on purpose but that must still agree within
// a tolerance (Redis expiry times: they move with the clock). verify calls
// it after the digests matched; a Difference it returns fails the dataset.
type SideChecker interface {
	CheckSide(ctx context.Context, ds *spec.Dataset, bundleRows func(func(arrow.RecordBatch) error) error, limit int) ([]Difference, error)
}

// SchemaDiffer is implemented by sources that can compare the schema they
// read (tables' DDL, indexes, objects) with what a bundle recorded, for
// verify --against. Each returned string names one drifted object and how it
// differs; none means the schema matches. ds are the bundle's datasets as
// Read would take them (namespace already mapped to this source).
type SchemaDiffer interface {
	DiffSchema(ctx context.Context, m *spec.Manifest, ds []*spec.Dataset) ([]string, error)
}

// Description is what a Source will export.
type Description struct {
	Source    spec.Source
	Datasets  []Dataset
	Relations []spec.Relation
	// Objects are the source's schema objects (views, triggers, routines,
	// ...), in creation order; Source is filled in by Export.
	Objects []spec.Object
	// Uncarried is what the source holds that the bundle will not carry;
	// Export records each in the manifest, and the CLI prints each as a
	// warning once the bundle is written.
	Uncarried []spec.Uncarried
	Notes     []string // e.g. "no RELOAD privilege: single-connection snapshot"
}

// Dataset is a dataset to export and the Arrow schema of its records.
type Dataset struct {
	Spec   spec.Dataset
	Schema *arrow.Schema
}

// Options are the engine-independent settings of a source.
type Options struct {
	Filter    *Filter           // --tables, --exclude, --where, --all-databases; nil = all the URL names
	Params    map[string]string // engine-specific settings (e.g. "db", "match", "skip-unsupported")
	Log       *slog.Logger
	Progress  *progress.Counter
	BatchRows int // upper bound on rows per record batch; 0 = engine default
	Jobs      int // datasets the export reads at once (connections a source may need); 0 = engine default
}

// Param returns an engine-specific setting.
func (o Options) Param(k string) string { return o.Params[k] }

// Opener opens a Source for a parsed URL.
type Opener func(ctx context.Context, u *url.URL, opts Options) (Source, error)

var openers = scheme.New[Opener]("source", Redact)

// Register makes an engine available for the URL schemes given. It panics on
// a duplicate, as database/sql.Register does.
func Register(o Opener, schemes ...string) { openers.Register(o, schemes...) }

// Engine names an engine and declares its --param keys; Param is one key.
type (
	Engine = scheme.Engine
	Param  = scheme.Param
)

// Declare records an engine's name (the one its sources record in a
// manifest) and --param keys for its schemes. Open refuses a key the engine
// of the URL does not declare. Each engine calls it in init, next to
// Register.
func Declare(e Engine) { openers.Declare(e) }

// Engines lists the engines of the registered schemes, for --help.
func Engines() []Engine { return openers.Engines() }

// EngineOf returns the engine that serves rawURL's scheme.
func EngineOf(rawURL string) (Engine, error) { return openers.EngineOf(rawURL) }

// Schemes lists the registered URL schemes.
func Schemes() []string { return openers.Schemes() }

// Open opens the source at rawURL with the engine registered for its scheme.
// Errors never repeat the URL's password; a --param key its engine does not
// declare is a scheme.UsageError listing the valid ones.
func Open(ctx context.Context, rawURL string, opts Options) (Source, error) {
	u, o, err := openers.Lookup(rawURL)
	if err != nil {
		return nil, err
	}
	if err := openers.Engine(u.Scheme).CheckParams(opts.Params); err != nil {
		return nil, err
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	return o(ctx, u, opts)
}
