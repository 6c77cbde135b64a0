// Package importer replays a bundle's datasets into a live database. Engines
// register an Opener by URL scheme; the mysql, mongo and redis subpackages do
// so in init. Besides Target, a target may implement optional interfaces:
// Pinger, Retrier, Uniter, Dropper, DocumentWriter, and for delta bundles
// (delta.go) Applied, the last-applied record, and KeyDeleter, which
// removes entities by key.
package importer

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/convert"
	"github.com/imbundle/imbundle/internal/scheme"
	"github.com/imbundle/imbundle/progress"
	"github.com/imbundle/imbundle/spec"
)

// Mode says what to do with target objects that already hold data.
type Mode string

const (
	// ModeFail refuses to write into a non-empty table, collection or key,
	// except one this same bundle was being imported into (a resumed run).
	ModeFail Mode = "fail"
	// ModeAppend adds to existing data (upserting where the engine has keys).
	ModeAppend Mode = "append"
	// ModeReplace empties (or drops and recreates) each target object first.
	ModeReplace Mode = "replace"
)

// ParseMode checks a --mode value.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case ModeFail, ModeAppend, ModeReplace:
		return m, nil
	}
	return "", fmt.Errorf("--mode %q: want fail, append or replace", s)
}

// Target is one live database opened for writing.
type Target interface {
	// Accepts reports whether this target loads datasets exported from src
	// (by engine and kind); others are left out of the plan and reported.
	Accepts(ds *spec.Dataset, src *spec.Source) bool
	// Place sets each item's Namespace (already renamed by --map) and
	// Object to where the target's URL or settings send it (a database in
	// the URL's path, --db-map), or refuses it. It sees all items at once,
	// since a target may refuse a combination (Redis: several bundle
	// databases into the one database a URL names), and does no I/O:
	// Import calls it before the bundle is verified, so that a target that
	// cannot take the bundle fails at once. Import then refuses two
	// datasets placed on one object, for every engine, unless a mapping
	// entry's union unites them and the target is a Uniter (union.go).
	Place(items []*Item) error
	// Prepare runs once, after the bundle has been verified and before any
	// LoadPart: it enforces the mode and creates schema objects. It may set
	// Item.Namespace and Item.Object to the names the target will use.
	Prepare(ctx context.Context, p *Plan) error
	// LoadPart writes one part's records. It must be safe to call again for a
	// part whose earlier load was interrupted or completed: no row may end up
	// twice. Rows the target refuses go to p.Rejects, never nowhere.
	LoadPart(ctx context.Context, p *Plan, it *Item, part int, recs RecordSource) (PartResult, error)
	// Finish runs once after every part is loaded (deferred indexes, ...).
	Finish(ctx context.Context, p *Plan) error
	Close() error
}

// Pinger is implemented by targets whose Open does not connect: Open calls
// Ping, so that a wrong address or password fails the import before
// anything else happens, even one that would load nothing.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Retrier is implemented by targets some of whose errors are transient and
// leave nothing written (a MySQL deadlock rolls the whole transaction back):
// the importer then loads the part again from its first record.
type Retrier interface {
	Retryable(err error) bool
}

// RecordSource yields a part's record batches until io.EOF.
type RecordSource interface {
	Next() (arrow.RecordBatch, error)
}

// Plan is what an import will do.
type Plan struct {
	BundleID string
	Manifest *spec.Manifest
	Items    []*Item
	Mode     Mode
	Rejects  *Rejects
	Log      *slog.Logger
	// ReadPart opens a part of the bundle (already verified) for a Prepare
	// that must see rows before anything is written: Redis --mode fail
	// checks that none of the bundle's keys exists on the target. The
	// caller closes it.
	ReadPart func(ds *spec.Dataset, part int) (PartRecords, error)
	// DryRun (import --dry-run): Prepare runs every check it runs before
	// its first write, then returns without writing anything.
	DryRun bool
	// Namespaces are the target namespaces the import's last-applied
	// record covers (Applied): those of its items and, for a delta, of its
	// unchanged and dropped datasets too (delta.go).
	Namespaces []string
	// Dropped are the datasets a delta bundle's parent held and it does
	// not, placed on the target: dropped after the load (delta.go), and
	// captured by a rollback bundle before it.
	Dropped []*Item
}

// ModeOf is the mode it is loaded in: its own (a delta import's, delta.go)
// or the plan's.
func (p *Plan) ModeOf(it *Item) Mode {
	if it.Mode != "" {
		return it.Mode
	}
	return p.Mode
}

// Lineage is what the last-applied record says of the plan's bundle: the
// chain's base and the bundle's depth in it; a full bundle is its own base,
// at depth 0 (SPEC.md §14.3).
func (p *Plan) Lineage() (base string, depth int) {
	if d := p.Manifest.Delta; d != nil {
		return d.Base, d.Depth
	}
	return p.BundleID, 0
}

// PartRecords is a RecordSource that must be closed.
type PartRecords interface {
	RecordSource
	Close() error
}

// Item is one dataset to load and the names it gets on the target.
type Item struct {
	// Dataset is the dataset as the target sees it: the bundle's, or,
	// when Conversion is set, its conversion into the target engine's
	// layout (whose records the target receives converted).
	Dataset   *spec.Dataset
	Source    *spec.Source
	Namespace string // target database (or Redis db number), after mapping
	Object    string // target table or collection
	// Mode, when set, is the item's mode instead of the plan's (ModeOf):
	// a delta import replaces the datasets it carries whole and appends
	// to those whose entities it deleted first (delta.go).
	Mode Mode
	// Conversion is set when the dataset comes from another engine
	// (package convert); Original is then the bundle's own dataset.
	Conversion *convert.Conversion
	Original   *spec.Dataset
	// United marks an item loaded into the same object as others, by a
	// mapping entry's union (union.go); union is that entry.
	United bool
	union  *convert.DatasetRule
	// sharedDigest marks an item that reads the same bundle dataset as an
	// earlier item, which checks the content digest (a conversion's later
	// outputs, splitItems): the rows are digested once, not per output.
	sharedDigest bool
}

// Stored is the dataset as the bundle holds it: what parts are read and
// checked against.
func (it *Item) Stored() *spec.Dataset {
	if it.Original != nil {
		return it.Original
	}
	return it.Dataset
}

// PartResult counts what LoadPart did.
type PartResult struct {
	Rows     int64 // rows written
	Rejected int64 // rows sent to the reject file
	Filtered int64 // rows a mapping's filter left out (importer-set)
	Expired  int64 // keys already expired at import time, skipped
	Resumed  bool  // the part was already loaded by an earlier run: nothing written
}

// Options are the engine-independent settings of an import.
type Options struct {
	Mode     Mode
	Jobs     int
	Params   map[string]string // engine-specific settings
	Map      map[string]string // namespace renames, old -> new
	Datasets []string          // dataset names to load; empty = all accepted
	Mapping  *convert.Mapping  // a mapping file (--map FILE), or nil
	Log      *slog.Logger
	Progress *progress.Counter
	Rejects  *Rejects
	// Existing reads the target's existing objects, for conversions onto
	// a schema the application created (convert.Into); nil: every
	// converted dataset takes its default mapping's layout.
	Existing convert.Shapes
	// TempDir and SortMemory are where and with how many bytes a
	// conversion that merges records by key sorts (SPEC.md §11.9): ""
	// is os.TempDir(), 0 convert.DefaultSpillMemory.
	TempDir    string
	SortMemory int64
	// WithoutObjects leaves out the schema objects of sources whose
	// datasets are converted to another engine, which no rule carries;
	// without it such objects stop the import before it writes.
	WithoutObjects bool
	// DryRun does everything up to the first write (verifies the parts,
	// plans, connects, runs the target's checks) and writes nothing:
	// Import returns the report of what it would load, nothing written.
	DryRun bool
	// BeforeWrite runs once the bundle is verified and planned, before
	// Prepare makes the first change to the target (not in a dry run): a
	// rollback capture (package rollback). Its error stops the import with
	// nothing written.
	BeforeWrite func(ctx context.Context, p *Plan) error
	// Force applies a delta bundle whatever bundle the target last
	// applied (import --force): without it, a target whose last applied
	// bundle is not the delta's parent refuses it (delta.go).
	Force bool
	// ForgetApplied: the import puts back a prior state (package
	// rollback), so it removes the target's last-applied record of its
	// namespaces instead of recording its own bundle: a delta of the
	// chain is then refused without --force, and the rolled-back delta
	// applies again.
	ForgetApplied bool
}

// Param returns an engine-specific setting.
func (o Options) Param(k string) string { return o.Params[k] }

// Opener opens a Target for a parsed URL.
type Opener func(ctx context.Context, u *url.URL, opts Options) (Target, error)

var openers = scheme.New[Opener]("target", scheme.Redact)

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

// Open opens the target at rawURL with the engine registered for its
// scheme. Errors never repeat the URL's password; a --param key its engine
// does not declare is a scheme.UsageError listing the valid ones.
func Open(ctx context.Context, rawURL string, opts Options) (Target, error) {
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
	t, err := o(ctx, u, opts)
	if err != nil {
		return nil, err
	}
	if p, ok := t.(Pinger); ok {
		if err := p.Ping(ctx); err != nil {
			t.Close()
			return nil, fmt.Errorf("target %s: %w", scheme.RedactURL(u), err)
		}
	}
	return t, nil
}
