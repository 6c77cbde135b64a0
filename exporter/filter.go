package exporter

import (
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/imbundle/imbundle/internal/scheme"
	"github.com/imbundle/imbundle/spec"
)

// Filter is what an export selects (SPEC.md §3.1, "Filtered exports"):
// datasets by name pattern (--tables, --exclude), the rows of some of them
// (--where), every database of a server (--all-databases). One Filter is
// shared by all sources of an export, so that a pattern matching a dataset
// of any source counts as used: a pattern or --where that matches nothing
// is an error naming it (Unmatched), a mistyped name being the likely cause.
//
// A name is database.object: db.table for MySQL, db.collection for MongoDB,
// redis.dbN for a Redis logical database. A pattern with a dot matches the
// whole name; one without matches the object alone (the table, collection,
// or dbN), in whichever database is exported. Patterns are path.Match globs
// (*, ?, [a-z], \ quoting).
type Filter struct {
	Include      []string // --tables; empty = every dataset
	Exclude      []string // --exclude
	Where        []Where  // --where
	AllDatabases bool     // --all-databases
	// Shards are the export's shard rules: a pattern naming a logical
	// dataset (t_messages) selects each of its members.
	Shards Shards
	// Absent allows patterns that match nothing: a rollback capture names
	// the objects an import will write, some of which do not exist yet.
	Absent bool

	mu   sync.Mutex
	used map[string]bool // patterns and --where keys that matched
}

// Where is one --where: the rows of the datasets Pattern matches that
// satisfy Filter, an expression in the source engine's own query language
// (a MySQL WHERE clause, a MongoDB query document in Extended JSON).
type Where struct {
	Pattern, Filter string
}

// ParseWhere parses --where's "NAME:FILTER" (the first colon separates).
func ParseWhere(s string) (Where, error) {
	name, filter, ok := strings.Cut(s, ":")
	name, filter = strings.TrimSpace(name), strings.TrimSpace(filter)
	if !ok || name == "" || filter == "" {
		return Where{}, scheme.Usagef("--where %q: want TABLE:FILTER, e.g. 'chat_logs:send_time >= \"2025-01-01\"'", s)
	}
	if err := checkPattern("--where", name); err != nil {
		return Where{}, err
	}
	return Where{Pattern: name, Filter: filter}, nil
}

// CheckPatterns refuses a malformed glob in --tables or --exclude.
func (f *Filter) CheckPatterns() error {
	for _, p := range f.Include {
		if err := checkPattern("--tables", p); err != nil {
			return err
		}
	}
	for _, p := range f.Exclude {
		if err := checkPattern("--exclude", p); err != nil {
			return err
		}
	}
	return nil
}

func checkPattern(flag, p string) error {
	if _, err := path.Match(p, ""); err != nil {
		return scheme.Usagef("%s %q: not a valid pattern (*, ?, [a-z], \\ to quote): %v", flag, p, err)
	}
	return nil
}

// matches reports whether pattern p selects db.object (see Filter).
func matches(p, db, object string) bool {
	if strings.Contains(p, ".") {
		// A MongoDB collection name may hold dots: a.b in the URL's
		// database is selected by "a.b" as well as by "db.a.b".
		ok, _ := path.Match(p, db+"."+object)
		if !ok {
			ok, _ = path.Match(p, object)
		}
		return ok
	}
	ok, _ := path.Match(p, object)
	return ok
}

// selects is matches of db.object, or of the logical dataset it is a
// member of.
func (f *Filter) selects(p, db, object string) bool {
	if matches(p, db, object) {
		return true
	}
	if l := f.Shards.Logical(db, db+"."+object); l != "" {
		return matches(p, db, l[len(db)+1:])
	}
	return false
}

// Keep reports whether the export takes db.object, and marks the --tables
// patterns that selected it as used. A nil Filter keeps everything.
func (f *Filter) Keep(db, object string) bool {
	if f == nil {
		return true
	}
	for _, p := range f.Exclude {
		if f.selects(p, db, object) {
			f.mark("--exclude " + p)
			return false
		}
	}
	if len(f.Include) == 0 {
		return true
	}
	keep := false
	for _, p := range f.Include {
		if f.selects(p, db, object) {
			f.mark("--tables " + p)
			keep = true
		}
	}
	return keep
}

// Whole reports whether the filter selects every dataset (no --tables, no
// --exclude): only then do a database's views and routines travel.
func (f *Filter) Whole() bool { return f == nil || len(f.Include) == 0 && len(f.Exclude) == 0 }

// RowFilter is the --where filter of db.object, "" for all rows. Two
// --where that match one dataset are refused: which would apply?
func (f *Filter) RowFilter(db, object string) (string, error) {
	if f == nil {
		return "", nil
	}
	var got *Where
	for i := range f.Where {
		w := &f.Where[i]
		if !f.selects(w.Pattern, db, object) {
			continue
		}
		f.mark("--where " + w.Pattern)
		if got != nil {
			return "", scheme.Usagef("--where %s and --where %s both match %s.%s: give one filter per table", got.Pattern, w.Pattern, db, object)
		}
		got = w
	}
	if got == nil {
		return "", nil
	}
	return got.Filter, nil
}

// Databases lists the databases the patterns name literally (the part
// before the dot, when it has no glob character), and reports whether some
// pattern's database part is a glob: the engine must then list the
// server's databases to find those it matches.
func (f *Filter) Databases() (literal []string, glob bool) {
	if f == nil {
		return nil, false
	}
	seen := map[string]bool{}
	for _, p := range f.Include {
		db, _, ok := strings.Cut(p, ".")
		if !ok {
			continue
		}
		if strings.ContainsAny(db, `*?[\`) {
			glob = true
			continue
		}
		if !seen[db] {
			seen[db] = true
			literal = append(literal, db)
		}
	}
	sort.Strings(literal)
	return literal, glob
}

// DatabaseWanted reports whether a database the engine found on the server
// is to be listed: with --all-databases, each that some --tables pattern
// could select (all without --tables); else each that the database part of
// a dotted pattern matches (a dotless pattern then applies to the URL's
// database only).
func (f *Filter) DatabaseWanted(db string) bool {
	if f == nil {
		return false
	}
	if f.AllDatabases && len(f.Include) == 0 {
		return true
	}
	for _, p := range f.Include {
		pdb, _, ok := strings.Cut(p, ".")
		if !ok {
			if f.AllDatabases {
				return true
			}
			continue
		}
		if m, _ := path.Match(pdb, db); m {
			return true
		}
	}
	return false
}

func (f *Filter) mark(k string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.used == nil {
		f.used = map[string]bool{}
	}
	f.used[k] = true
}

// Unmatched is an error naming the --tables patterns and --where filters
// that selected no dataset of any source, nil if each matched one.
// --exclude patterns that exclude nothing are fine.
func (f *Filter) Unmatched() error {
	if f == nil || f.Absent {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var missing []string
	for _, p := range f.Include {
		if !f.used["--tables "+p] {
			missing = append(missing, "--tables "+p)
		}
	}
	for _, w := range f.Where {
		if !f.used["--where "+w.Pattern] {
			missing = append(missing, "--where "+w.Pattern)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return scheme.Usagef("%s: no such table, collection or database in the sources (check the name; views and system tables are not exported); nothing was written", strings.Join(missing, ", "))
}

// Record is the filter as a source's manifest records it, nil for an
// export of everything the URL names.
func (f *Filter) Record() *spec.Filter {
	if f == nil || len(f.Include) == 0 && len(f.Exclude) == 0 && len(f.Where) == 0 && !f.AllDatabases {
		return nil
	}
	r := &spec.Filter{Tables: f.Include, Exclude: f.Exclude, AllDatabases: f.AllDatabases}
	for _, w := range f.Where {
		r.Where = append(r.Where, w.Pattern+":"+w.Filter)
	}
	return r
}

// FilterHelp explains the filter flags, for export --help.
const FilterHelp = `

Filters (the manifest records them: the bundle says it is partial):
  A dataset's name is DATABASE.OBJECT: db.table (MySQL), db.collection
  (MongoDB), redis.dbN (a Redis logical database; select keys with --match
  or --key-prefix). A pattern with a dot matches the whole name, one without
  the table or collection alone, in every exported database. Patterns are
  globs: * ? [a-z], \ quotes.
  --tables 't_messages_*'        the sharded message tables
  --tables 'openIM_v3.*'         every collection of database openIM_v3
  --exclude 'openIM_v3.log*'     all but the logs
  --where 'chat_logs:send_time >= "2025-01-01"'
                                 MySQL: a WHERE condition, as mysqldump --where
  --where 'msgs:{"send_time": {"$gte": {"$date": "2025-01-01T00:00:00Z"}}}'
                                 MongoDB: a query in Extended JSON, as mongodump --query
  --all-databases                every database of the server but the system
                                 ones (MySQL: information_schema, mysql,
                                 performance_schema, sys; MongoDB: admin,
                                 config, local; imbundle's import state)
  A --tables pattern or --where that matches no dataset is an error naming
  it; verify --against reads the target with the bundle's --where filters.`
