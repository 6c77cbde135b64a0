// Package redis loads keyspace datasets (SPEC.md §8) into Redis-protocol
// servers with plain commands (SET, HSET, RPUSH, SADD, ZADD, XADD,
// PEXPIREAT), pipelined over several connections: no RESTORE, no Lua, so
// Pika, Kvrocks and miniredis take the same bundle Redis does.
package redis

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/redistype"
	"github.com/imbundle/imbundle/internal/redistype/resp"
	"github.com/imbundle/imbundle/internal/scheme"
	"github.com/imbundle/imbundle/spec"
)

func init() {
	importer.Register(Open, "redis", "rediss")
}

// Defaults of the tunables (Params).
const (
	defaultConns = 4
	defaultBatch = 4000 // commands per pipeline round (and at most batchBytes)
	defaultElems = 512  // elements per HSET/SADD/ZADD/RPUSH
	batchBytes   = 4 << 20
)

// Target is one Redis-protocol server opened for writing.
type Target struct {
	conn        resp.Options
	redacted    string
	urlDB       int               // the URL path's database, -1 if none
	dbMap       map[string]string // --db-map: bundle db -> target db
	mode        importer.Mode
	ttlRelative bool
	prefix      []byte
	conns       int
	batch       int
	elems       int
	log         interface {
		Warn(msg string, args ...any)
	}

	mu      sync.Mutex
	pools   map[int]*pool
	gates   map[gateKey]chan struct{}
	carries map[gateKey]carry
	markers map[int]string      // target db -> marker key of this import
	libs    []redistype.Library // function libraries Finish loads
	skipped map[string]bool     // db:key of streams the keyspace load skipped (prefix, expired)
	noFuncs bool                // --param functions=false
	fresh   map[int]bool        // target db -> --mode fail found none of the keys (not a resumed run)
	hint    hashHint            // how to make a big hash a hash table at once (hashenc.go)

	now       func() time.Time                // the import clock (tests move it)
	afterPart func(ctx context.Context) error // test hook: an interruption
}

type gateKey struct {
	dataset string
	part    int
}

// Open parses the URL and parameters.
func Open(ctx context.Context, u *url.URL, opts importer.Options) (importer.Target, error) {
	return open(u, opts)
}

func open(u *url.URL, opts importer.Options) (*Target, error) {
	co, err := resp.ParseURL(u)
	if err != nil {
		return nil, fmt.Errorf("target URL %s: %w", scheme.RedactURL(u), err)
	}
	t := &Target{
		conn:     co,
		redacted: scheme.RedactURL(u),
		mode:     opts.Mode,
		prefix:   []byte(opts.Param("key-prefix")),
		conns:    defaultConns,
		batch:    defaultBatch,
		elems:    defaultElems,
		log:      opts.Log,
		pools:    map[int]*pool{},
		gates:    map[gateKey]chan struct{}{},
		carries:  map[gateKey]carry{},
		markers:  map[int]string{},
		fresh:    map[int]bool{},
		skipped:  map[string]bool{},
		now:      time.Now,
		urlDB:    -1,
		dbMap:    opts.Map,
	}
	if resp.HasDB(u) {
		t.urlDB = co.DB
	}
	if t.mode == "" {
		t.mode = importer.ModeFail
	}
	if opts.Jobs > t.conns {
		t.conns = opts.Jobs
	}
	switch v := opts.Param("functions"); v {
	case "", "true":
	case "false":
		t.noFuncs = true
	default:
		return nil, scheme.Usagef("functions=%q: want true or false", v)
	}
	switch v := opts.Param("ttl"); v {
	case "", "absolute":
	case "relative":
		t.ttlRelative = true
	default:
		return nil, fmt.Errorf("--ttl %q: want absolute or relative", v)
	}
	for name, dst := range map[string]*int{"connections": &t.conns, "batch": &t.batch, "elements": &t.elems} {
		if v := opts.Param(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("%s=%q: want a positive integer", name, v)
			}
			*dst = n
		}
	}
	return t, nil
}

// Accepts takes keyspace datasets in the layout of SPEC.md §8.
func (t *Target) Accepts(ds *spec.Dataset, src *spec.Source) bool {
	if ds.Kind != spec.KindKeyspace {
		return false
	}
	if isStreamState(ds) {
		return len(ds.Columns) == redistype.GNumCols
	}
	if l := ds.Options["layout"]; l != "" && l != redistype.LayoutName {
		return false
	}
	return len(ds.Columns) == redistype.NumCols || (len(ds.Columns) == redistype.NumColsFieldTTL && redistype.HasFieldTTLs(ds))
}

func isStreamState(ds *spec.Dataset) bool {
	return ds.Options["layout"] == redistype.GroupsLayoutName
}

// placeInURLDB sends the datasets --db-map does not place to the database
// the URL names (redis://host/3): that is where the user said the data
// goes. Several such datasets cannot all go there without merging
// databases, so they need --db-map; the bundle's own db numbers are never
// written unasked while the URL names another.
func (t *Target) placeInURLDB(items []*importer.Item) error {
	if t.urlDB < 0 {
		return nil
	}
	var unmapped []*importer.Item
	var dbs []string
	seen := map[string]bool{}
	for _, it := range items {
		if _, ok := t.dbMap[it.Dataset.Namespace]; ok {
			continue
		}
		unmapped = append(unmapped, it)
		if !seen[it.Dataset.Namespace] {
			seen[it.Dataset.Namespace] = true
			dbs = append(dbs, it.Dataset.Namespace)
		}
	}
	if len(dbs) > 1 {
		var maps []string
		for _, db := range dbs {
			maps = append(maps, fmt.Sprintf("--db-map %s:N", db))
		}
		return scheme.Usagef("the bundle holds databases %s and the target URL names database %d: say where each goes with %s (N = a target database), or leave the database out of the URL to keep the bundle's numbers", strings.Join(dbs, ", "), t.urlDB, strings.Join(maps, " "))
	}
	for _, it := range unmapped {
		it.Namespace = strconv.Itoa(t.urlDB)
	}
	return nil
}

// checkStateWithKeyspace refuses, outside --mode append, a stream-state
// dataset whose keyspace dataset is not imported with it: its groups
// would be written into streams already on the target, which --mode fail
// must not touch and --mode replace would not empty first.
func (t *Target) checkStateWithKeyspace(items []*importer.Item) error {
	if t.mode == importer.ModeAppend {
		return nil
	}
	keyspaces := map[string]bool{}
	for _, it := range items {
		if !isStreamState(it.Dataset) {
			keyspaces[it.Source.ID+"/"+it.Dataset.Namespace] = true
		}
	}
	for _, it := range items {
		if isStreamState(it.Dataset) && !keyspaces[it.Source.ID+"/"+it.Dataset.Namespace] {
			return scheme.Usagef("dataset %q is the stream state of a keyspace dataset this import leaves out: with --mode %s it would change streams already on the target. Import both (add the keyspace to --datasets), or use --mode append", it.Dataset.Name, t.mode)
		}
	}
	return nil
}

func dbOf(it *importer.Item) (int, error) {
	db, err := strconv.Atoi(it.Namespace)
	if err != nil || db < 0 {
		return 0, fmt.Errorf("dataset %q: target database %q is not a number (use --db-map SRC:DST with numbers)", it.Dataset.Name, it.Namespace)
	}
	return db, nil
}

func (t *Target) pool(ctx context.Context, db int) (*pool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p := t.pools[db]; p != nil {
		return p, nil
	}
	p, err := t.newPool(ctx, db)
	if err != nil {
		return nil, err
	}
	t.pools[db] = p
	return p, nil
}

// markerKey names the hash that marks an import of bundle id in progress in
// a target database: a rerun of the same bundle in --mode fail recognises
// its own keys by it, and append-mode lists keep their original length in
// it. Finish deletes it.
func markerKey(bundleID string) string {
	if len(bundleID) > 16 {
		bundleID = bundleID[:16]
	}
	return "imbundle:import:" + bundleID
}

// Prepare checks the mode (fail: no key of the bundle may exist, unless an
// earlier run of this same bundle left its marker), then marks each target
// database and sets up the part gates.
func (t *Target) Prepare(ctx context.Context, p *importer.Plan) error {
	// The plan's mode wins over the one opened with: a delta import
	// (importer/delta.go) replaces its schema objects whatever --mode said.
	t.mode = p.Mode
	if err := t.checkStateWithKeyspace(p.Items); err != nil {
		return err
	}
	dbs := map[int][]*importer.Item{}
	var order []int
	for _, it := range p.Items {
		db, err := dbOf(it)
		if err != nil {
			return err
		}
		if _, ok := dbs[db]; !ok {
			order = append(order, db)
			dbs[db] = nil
		}
		if !isStreamState(it.Dataset) {
			// Stream state writes to the keyspace's streams only.
			dbs[db] = append(dbs[db], it)
		}
	}
	if len(order) > 0 {
		pl, err := t.pool(ctx, order[0])
		if err != nil {
			return err
		}
		if err := t.checkFieldTTLTarget(ctx, p, pl.conns[0]); err != nil {
			return err
		}
		if err := t.prepareFunctions(ctx, p, pl.conns[0]); err != nil {
			return err
		}
		t.hint = readHashHint(ctx, pl.conns[0])
	}
	marker := markerKey(p.BundleID)
	whole := wholeDBs(p)
	for _, db := range order {
		pl, err := t.pool(ctx, db)
		if err != nil {
			return err
		}
		c := pl.conns[0]
		v, err := c.Do(ctx, "EXISTS", marker)
		if err != nil {
			return err
		}
		resumed := v.Int == 1
		if t.mode == importer.ModeFail && !resumed {
			if err := t.checkAbsent(ctx, p, c, db, dbs[db]); err != nil {
				return err
			}
			// No key exists, and no earlier run wrote any: keys need no
			// DEL before they are written. A rerun finds the marker and
			// deletes first.
			t.fresh[db] = true
		}
		if p.DryRun {
			continue // checked; the marker would be the first write
		}
		if whole[strconv.Itoa(db)] {
			if err := t.emptyForWhole(ctx, c, db); err != nil {
				return err
			}
		}
		v, err = c.Do(ctx, "HSET", marker, "bundle", p.BundleID, "mode", string(t.mode), "started", t.now().UTC().Format(time.RFC3339Nano))
		if err == nil {
			err = v.Err()
		}
		if err != nil {
			return fmt.Errorf("db %d: write import marker %s: %w", db, marker, err)
		}
		t.markers[db] = marker
	}
	for _, it := range p.Items {
		for i := range it.Dataset.Parts {
			t.gates[gateKey{it.Dataset.Name, i}] = make(chan struct{})
		}
	}
	return nil
}

// Finish loads the function libraries, then removes the import markers:
// a run that fails before the markers go is resumed, and finds the
// libraries it loaded identical.
func (t *Target) Finish(ctx context.Context, p *importer.Plan) error {
	if err := t.loadFunctions(ctx); err != nil {
		return err
	}
	for db, m := range t.markers {
		pl, err := t.pool(ctx, db)
		if err != nil {
			return err
		}
		if _, err := pl.conns[0].Do(ctx, "DEL", m); err != nil {
			return err
		}
	}
	return nil
}

// Close closes every connection.
func (t *Target) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, p := range t.pools {
		p.close()
	}
	t.pools = map[int]*pool{}
	return nil
}
