// Package mysql exports MySQL and MariaDB tables (SPEC.md §7): one
// consistent snapshot across parallel readers, rows streamed in primary-key
// order through the binary protocol, text as the stored bytes.
package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strconv"
	"sync"

	"github.com/go-sql-driver/mysql"

	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/internal/mysqltype"
	"github.com/imbundle/imbundle/internal/scheme"
)

func init() {
	exporter.Register(open, "mysql", "mariadb")
}

// defaultReaders is the number of snapshot connections, and so of tables
// read at once, when neither --jobs nor --param readers=N says otherwise.
const defaultReaders = 4

// defaultLockWait is how many seconds FLUSH TABLES WITH READ LOCK may wait
// for running statements (--param lock-wait=N).
const defaultLockWait = 10

// Source is an open MySQL/MariaDB database.
type Source struct {
	url      string // redacted
	cfg      *mysql.Config
	dbName   string // the URL's database; "" = take ds.Namespace
	db       *sql.DB
	opts     exporter.Options
	readers  int
	lockWait int

	mu     sync.Mutex
	snap   *snapshot         // set by Describe
	tables map[string]*table // described tables by "db.table"
}

func open(ctx context.Context, u *url.URL, opts exporter.Options) (exporter.Source, error) {
	// sql_mode '' on the reading session: SHOW CREATE TABLE is then written
	// in plain MariaDB/MySQL syntax (no ANSI_QUOTES), and CHAR values are
	// never padded (PAD_CHAR_TO_FULL_LENGTH), whatever the server default.
	// character_set_results=binary: text arrives as the bytes stored.
	cfg, err := mysqltype.Config(u, map[string]string{
		"sql_mode":              "''",
		"character_set_results": "binary",
	})
	if err != nil {
		return nil, err
	}
	// Several statements in one query: showCreates sends the SHOW CREATE
	// TABLE of a hundred tables in one round trip. Every statement the
	// exporter sends is its own text, identifiers quoted (QuoteIdent), and
	// values travel as parameters, never interpolated.
	cfg.MultiStatements = true
	readers := defaultReaders
	if opts.Jobs > 0 {
		readers = opts.Jobs
	}
	if v := opts.Param("readers"); v != "" {
		readers, err = strconv.Atoi(v)
		if err != nil || readers < 1 {
			return nil, fmt.Errorf("--param readers=%q: want a positive number", v)
		}
	}
	lockWait := defaultLockWait
	if v := opts.Param("lock-wait"); v != "" {
		lockWait, err = strconv.Atoi(v)
		if err != nil || lockWait < 1 {
			return nil, fmt.Errorf("--param lock-wait=%q: want seconds, at least 1", v)
		}
	}
	if err := checkObjectParams(opts); err != nil {
		return nil, err
	}
	if opts.Filter != nil && opts.Filter.AllDatabases && cfg.DBName != "" {
		return nil, scheme.Usagef("--all-databases: the URL %s names database %s; drop it from the URL to export every database", exporter.RedactURL(u), cfg.DBName)
	}
	s := &Source{url: exporter.RedactURL(u), cfg: cfg, dbName: cfg.DBName, opts: opts, readers: readers, lockWait: lockWait, tables: map[string]*table{}}
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.url, err)
	}
	s.db = sql.OpenDB(connector)
	s.db.SetMaxIdleConns(readers + 2)
	if err := s.db.PingContext(ctx); err != nil {
		s.db.Close()
		return nil, mysqltype.StepError(cfg, s.url, "connect", err)
	}
	return s, nil
}

// Close ends the snapshot and closes every connection.
func (s *Source) Close() error {
	s.mu.Lock()
	snap := s.snap
	s.snap = nil
	s.mu.Unlock()
	if snap != nil {
		snap.close()
	}
	return s.db.Close()
}
