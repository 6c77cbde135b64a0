// Package redis exports Redis-protocol keyspaces (Redis, Valkey, Pika,
// Kvrocks, and anything else that speaks SCAN, TYPE, PTTL and the
// type-specific read commands) into the keyspace layout of SPEC.md §8. It
// never uses DUMP/RESTORE, KEYS, PSYNC or Lua, so servers without them (Pika,
// miniredis, proxies) export the same way Redis does.
package redis

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/internal/redistype"
	"github.com/imbundle/imbundle/internal/redistype/resp"
	"github.com/imbundle/imbundle/internal/scheme"
	"github.com/imbundle/imbundle/spec"
)

func init() {
	exporter.Register(Open, "redis", "rediss")
}

// Defaults of the tunables (Params).
const (
	defaultConns     = 4    // reader connections per database
	defaultScanCount = 5000 // SCAN COUNT hint: fewer sequential round trips; a few ms of server time per call
	defaultBatchKeys = 1000 // keys per pipelined read round
	defaultPage      = 1000 // elements per page of a big key
	maxAttempts      = 5    // reads of a key whose type keeps changing
	maxListed        = 10   // unsupported keys named in the error
)

// Source exports the databases of one server.
type Source struct {
	conn            resp.Options
	redacted        string
	dbs             []int // explicit (--db or URL path); nil = discover
	urlDB           int   // the URL path's database, -1 if none (or --db was given)
	match           string
	prefix          []byte
	skipUnsupported bool
	skipFieldTTL    bool // export hashes with field TTLs without them
	noFunctions     bool // functions=false: leave function libraries out
	conns           int
	scanCount       int
	batchKeys       int
	page            int
	batchRows       int
	opts            exporter.Options

	mu       sync.Mutex
	counters map[string]*counters // by dataset name
	unmapped map[int]bool         // bundle databases dbOf sent to the URL's database

	// Test hooks: called by the scanner with each SCAN page (after
	// filtering, before dedupe); may return a different page.
	onScanPage func(db int, keys [][]byte) [][]byte
	// Called after a batch's TYPE/PTTL round, before its values are read.
	afterProbe func(db int, keys [][]byte)
}

// Open parses the URL and parameters; it connects on Describe or Read.
func Open(ctx context.Context, u *url.URL, opts exporter.Options) (exporter.Source, error) {
	return open(ctx, u, opts)
}

func open(_ context.Context, u *url.URL, opts exporter.Options) (*Source, error) {
	co, err := resp.ParseURL(u)
	if err != nil {
		return nil, fmt.Errorf("source URL %s: %w", exporter.RedactURL(u), err)
	}
	s := &Source{
		conn:      co,
		redacted:  exporter.RedactURL(u),
		match:     opts.Param("match"),
		prefix:    []byte(opts.Param("key-prefix")),
		conns:     defaultConns,
		scanCount: defaultScanCount,
		batchKeys: defaultBatchKeys,
		page:      defaultPage,
		batchRows: opts.BatchRows,
		opts:      opts,
		counters:  map[string]*counters{},
	}
	switch v := opts.Param("functions"); v {
	case "", "true":
	case "false":
		s.noFunctions = true
	default:
		return nil, scheme.Usagef("functions=%q: want true or false", v)
	}
	switch v := opts.Param("skip-field-ttl"); v {
	case "", "false":
	case "true":
		s.skipFieldTTL = true
	default:
		return nil, scheme.Usagef("skip-field-ttl=%q: want true or false", v)
	}
	switch v := opts.Param("skip-unsupported"); v {
	case "", "false":
	case "true":
		s.skipUnsupported = true
	default:
		return nil, fmt.Errorf("skip-unsupported=%q: want true or false", v)
	}
	s.urlDB = -1
	if v := opts.Param("db"); v != "" {
		if s.dbs, err = parseDBList(v); err != nil {
			return nil, err
		}
	} else if resp.HasDB(u) {
		s.dbs = []int{co.DB}
		s.urlDB = co.DB
	}
	if s.dbs != nil && opts.Filter != nil && opts.Filter.AllDatabases {
		return nil, scheme.Usagef("--all-databases: %s names the databases to export (URL path or --db); drop them to export every database", s.redacted)
	}
	s.conn.DB = 0
	for name, dst := range map[string]*int{"connections": &s.conns, "scan-count": &s.scanCount, "batch": &s.batchKeys, "page": &s.page} {
		if v := opts.Param(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("%s=%q: want a positive integer", name, v)
			}
			*dst = n
		}
	}
	return s, nil
}

// Describe finds the databases to export and describes one keyspace dataset
// for each.
func (s *Source) Describe(ctx context.Context) (*exporter.Description, error) {
	c, err := resp.Dial(ctx, s.conn)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.redacted, err)
	}
	defer c.Close()
	now := time.Now().UTC()
	d := &exporter.Description{Source: spec.Source{
		Engine:     "redis",
		URL:        s.redacted,
		Snapshot:   map[string]string{"consistent": "false", "method": "scan"},
		Settings:   map[string]string{},
		ExportedAt: now,
	}}
	info, err := c.Do(ctx, "INFO", "server")
	if err != nil {
		return nil, fmt.Errorf("%s: INFO server: %w", s.redacted, err)
	}
	if info.Kind == resp.KindBulk {
		kind, ver := redistype.ServerKind(string(info.Str))
		d.Source.ServerVersion = ver
		d.Source.Settings["server"] = kind
	} else {
		d.Source.Settings["server"] = "unknown"
	}
	if err := s.describeFunctions(ctx, c, d); err != nil {
		return nil, err
	}
	v, err := c.Do(ctx, "INFO", "keyspace")
	if err != nil {
		return nil, fmt.Errorf("%s: INFO keyspace: %w", s.redacted, err)
	}
	dbs := s.dbs
	if dbs == nil {
		if v.Kind == resp.KindBulk {
			dbs = parseKeyspace(string(v.Str))
			d.Source.Settings["databases_from"] = "INFO keyspace"
		} else {
			if dbs, err = probeDatabases(ctx, c); err != nil {
				return nil, fmt.Errorf("%s: INFO keyspace is not supported (%s) and probing with SELECT/DBSIZE failed: %w; name the databases with --db", s.redacted, v.String(), err)
			}
			d.Source.Settings["databases_from"] = "SELECT/DBSIZE probe of 0..15 (no INFO keyspace)"
			d.Notes = append(d.Notes, "the server has no INFO keyspace; databases 0..15 were probed with DBSIZE")
		}
		if len(dbs) == 0 {
			// An empty keyspace still exports one (empty) dataset: the
			// bundle then says "db 0 was empty", and verify --against an
			// empty target compares it and matches.
			dbs = []int{0}
			d.Notes = append(d.Notes, "the server holds no keys: database 0 is exported empty")
		}
	} else {
		d.Source.Settings["databases_from"] = "--db or URL path"
	}
	var fieldTTLs map[int]int64 // hashes with field TTLs per database, to carry
	if v.Kind == resp.KindBulk {
		fieldTTLs = s.describeFieldTTLs(parseSubexpiry(string(v.Str)), dbs, d)
	}
	d.Notes = append(d.Notes, "keyspaces were read with SCAN and type-specific commands: not a point-in-time snapshot; a key present and unchanged for the whole export is exported exactly once, keys written or deleted meanwhile may or may not appear (see the vanished/retyped counters)")
	for _, db := range dbs {
		if !s.opts.Filter.Keep("redis", "db"+strconv.Itoa(db)) {
			continue
		}
		if w, err := s.opts.Filter.RowFilter("redis", "db"+strconv.Itoa(db)); err != nil || w != "" {
			if err == nil {
				err = scheme.Usagef("--where %s: a Redis database has no rows to filter; select keys with --match or --key-prefix", DatasetName(db))
			}
			return nil, err
		}
		ds := spec.Dataset{
			Name:      DatasetName(db),
			Kind:      spec.KindKeyspace,
			Namespace: strconv.Itoa(db),
			Object:    "keyspace",
			Options:   map[string]string{"layout": redistype.LayoutName},
		}
		if s.match != "" {
			ds.Options["match"] = s.match
		}
		if len(s.prefix) > 0 {
			ds.Options["key-prefix"] = string(s.prefix)
		}
		if n := fieldTTLs[db]; n > 0 {
			ds.Options[redistype.OptFieldTTLs] = strconv.FormatInt(n, 10)
		}
		d.Datasets = append(d.Datasets, exporter.Dataset{Spec: ds, Schema: redistype.SchemaOf(&ds)})
		st := ds
		st.Name, st.Object = StateDatasetName(db), redistype.GroupsObject
		st.Options = map[string]string{"layout": redistype.GroupsLayoutName}
		for k, v := range ds.Options {
			if k != "layout" && k != redistype.OptFieldTTLs {
				st.Options[k] = v
			}
		}
		d.Datasets = append(d.Datasets, exporter.Dataset{Spec: st, Schema: redistype.GroupsSchema})
		s.expectKeys(ctx, c, db)
	}
	return d, nil
}

// describeFunctions records the server's function libraries as manifest
// objects: they are server-wide, in no database, so they travel beside the
// keyspaces. A server without FUNCTION has none, which a note says.
//
// With functions=false they are left out, and counted as not carried
// (as far as the server lets them be listed).
func (s *Source) describeFunctions(ctx context.Context, c *resp.Conn, d *exporter.Description) error {
	libs, err := redistype.Libraries(ctx, c)
	if errors.Is(err, redistype.ErrNoFunctions) {
		d.Notes = append(d.Notes, "the server has no FUNCTION command (Redis < 7, Pika, Kvrocks, miniredis): no function libraries to export")
		return nil
	}
	if s.noFunctions {
		u := spec.Uncarried{Kind: "function library", Count: int64(len(libs)),
			Reason: "left out with --param functions=false"}
		if err != nil {
			u.Reason += fmt.Sprintf("; the server did not list them (%v), so the count is unknown", err)
		}
		for _, l := range libs {
			u.Names = append(u.Names, l.Name)
		}
		if err != nil || len(libs) > 0 {
			d.Uncarried = append(d.Uncarried, u)
			if s.opts.Log != nil {
				s.opts.Log.Warn("not carried: function libraries", "count", len(libs), "names", strings.Join(u.Names, ", "))
			}
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: %w; to export without the function libraries, pass --param functions=false", s.redacted, err)
	}
	for _, l := range libs {
		d.Objects = append(d.Objects, l.Object())
	}
	return nil
}

// DatasetName is the dataset of logical database db.
func DatasetName(db int) string { return "redis.db" + strconv.Itoa(db) }

// Close releases nothing: connections live only inside Read.
func (s *Source) Close() error { return nil }

// Counters reports what the read of ds counted (exporter.CounterReporter).
func (s *Source) Counters(ds *spec.Dataset) (int64, map[string]int64) {
	s.mu.Lock()
	c := s.counters[ds.Name]
	s.mu.Unlock()
	if c == nil {
		return 0, nil
	}
	return c.snapshot()
}

// dbOf is the database Read reads for ds, as the import placed it: a
// namespace --db-map changed is read where it points; an unmapped one is
// read from the database the URL names (redis://host/3), as long as the
// datasets read so far come from one bundle database only (the import
// refuses a URL database for several unmapped ones, and so does this).
// Whether --db-map changed a namespace shows in the dataset's name, which
// keeps the exported database number (redis.db9, redis.db9.stream-state).
func (s *Source) dbOf(ds *spec.Dataset) (int, error) {
	db, err := strconv.Atoi(ds.Namespace)
	if err != nil || db < 0 {
		return 0, fmt.Errorf("dataset %q: namespace %q is not a Redis database number", ds.Name, ds.Namespace)
	}
	orig, named := exportedDB(ds.Name)
	if s.urlDB < 0 || (named && orig != db) {
		return db, nil // no URL database, or --db-map placed it
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.unmapped == nil {
		s.unmapped = map[int]bool{}
	}
	s.unmapped[db] = true
	if len(s.unmapped) > 1 {
		var dbs []string
		for d := range s.unmapped {
			dbs = append(dbs, strconv.Itoa(d))
		}
		sort.Strings(dbs)
		return 0, fmt.Errorf("dataset %q: the bundle holds databases %s and the URL names database %d: give each its place with --db-map (as on import), or leave the database out of the URL", ds.Name, strings.Join(dbs, ", "), s.urlDB)
	}
	return s.urlDB, nil
}

// exportedDB reads the database number a dataset was exported from out of
// its name ("redis.db9", "redis.db9.stream-state", "s1/redis.db9").
func exportedDB(name string) (int, bool) {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	rest, ok := strings.CutPrefix(name, "redis.db")
	if !ok {
		return 0, false
	}
	rest = strings.TrimSuffix(rest, "."+redistype.GroupsObject)
	n, err := strconv.Atoi(rest)
	return n, err == nil && n >= 0
}

// Locate names the database Read reads for ds (exporter.Locator).
func (s *Source) Locate(ds *spec.Dataset) string {
	scheme := "redis"
	if s.conn.TLS != nil {
		scheme = "rediss"
	}
	db := ds.Namespace
	if n, err := s.dbOf(ds); err == nil {
		db = strconv.Itoa(n)
	}
	return scheme + "://" + s.conn.Addr + "/" + db
}

func (s *Source) dial(ctx context.Context, db int) (*resp.Conn, error) {
	o := s.conn
	o.DB = db
	c, err := resp.Dial(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.redacted, err)
	}
	return c, nil
}

// matchPattern is the SCAN MATCH pattern: --match, else the key prefix
// followed by * when the prefix has no glob characters (servers such as
// Kvrocks only honour a literal prefix). Keys are filtered on the prefix
// again client-side, so the pattern only narrows what the server sends.
func (s *Source) matchPattern() string {
	if s.match != "" {
		return s.match
	}
	if len(s.prefix) > 0 && !strings.ContainsAny(string(s.prefix), `*?[]\`) {
		return string(s.prefix) + "*"
	}
	return ""
}

func showKey(k []byte) string {
	if len(k) > 100 {
		return fmt.Sprintf("%q...(%d bytes)", k[:100], len(k))
	}
	return fmt.Sprintf("%q", k)
}
