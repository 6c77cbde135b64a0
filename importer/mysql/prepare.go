package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/mysqltype"
	"github.com/imbundle/imbundle/internal/scheme"
)

// q quotes an identifier.
var q = mysqltype.QuoteIdent

// Prepare maps every item to its target database and checks, before
// anything is written, the mode and the target tables' triggers; then it
// creates what is missing: the state schema, databases, tables.
func (t *Target) Prepare(ctx context.Context, p *importer.Plan) error {
	// Dropping a large table (replace mode) may take a while: watched.
	wctx, stop := mysqltype.Watch(ctx, t.db, t.cfg, t.url, "prepare the target tables")
	err := t.prepare(wctx, p)
	if werr := stop(); werr != nil && err != nil {
		err = werr
	}
	return err
}

func (t *Target) prepare(ctx context.Context, p *importer.Plan) error {
	conn, err := t.long.Conn(ctx)
	if err != nil {
		return mysqltype.StepError(t.cfg, t.url, "connect", err)
	}
	defer conn.Close()
	dbs := map[string]*importer.Item{}
	for _, it := range p.Items {
		if dbs[it.Namespace] == nil {
			dbs[it.Namespace] = it
		}
	}

	// Checks: a refused import writes nothing, not even its state.
	exists := map[*importer.Item]bool{}
	var refused []string
	for _, it := range p.Items {
		ok, err := tableExists(ctx, conn, it.Namespace, it.Object)
		if err != nil {
			return fmt.Errorf("%s: look up table %s.%s: %w", t.url, it.Namespace, it.Object, err)
		}
		exists[it] = ok
		if !ok || p.Mode != importer.ModeFail {
			continue
		}
		var one int
		err = conn.QueryRowContext(ctx, "SELECT 1 FROM "+q(it.Namespace)+"."+q(it.Object)+" LIMIT 1").Scan(&one)
		if err == sql.ErrNoRows {
			continue
		}
		if err != nil {
			return fmt.Errorf("check %s.%s: %w", it.Namespace, it.Object, err)
		}
		// Rows of this same bundle's unfinished import: a resumed run. A
		// finished import left no state, so importing it again is refused.
		resumed, err := t.hasProgress(ctx, conn, p.BundleID, it)
		if err != nil {
			return err
		}
		if !resumed {
			refused = append(refused, it.Namespace+"."+it.Object)
		}
	}
	if len(refused) > 0 {
		return &importer.NonEmptyError{Kind: "table", Objects: refused}
	}
	trigs, err := t.targetTriggers(ctx, conn, p, exists)
	if err != nil {
		return err
	}
	if len(trigs) > 0 && !t.suspendTriggers {
		names := make([]string, len(trigs))
		for i, tr := range trigs {
			names[i] = tr.db + "." + tr.table + "." + tr.name
		}
		return fmt.Errorf("target table(s) have triggers, which would change the imported rows: %s; nothing was written. Drop them, or import with --param triggers=suspend to drop them for the load and recreate them afterwards", strings.Join(names, ", "))
	}
	// Objects (views, routines, ...) are checked before anything is
	// written too: a missing DEFINER or a refused object stops here.
	if err := t.planObjects(ctx, conn, p); err != nil {
		return err
	}

	if err := t.createState(ctx, conn); err != nil {
		return err
	}
	names := make([]string, 0, len(dbs))
	for n := range dbs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, db := range names {
		it := dbs[db]
		create := "CREATE DATABASE IF NOT EXISTS " + q(db)
		if cs := it.Dataset.Options["database_charset"]; cs != "" {
			create += " CHARACTER SET " + cs
			if coll := it.Dataset.Options["database_collation"]; coll != "" {
				create += " COLLATE " + coll
			}
		}
		if _, err := conn.ExecContext(ctx, create); err != nil {
			return fmt.Errorf("%s: create database %s: %w", t.url, db, err)
		}
	}
	if err := t.suspend(ctx, conn, p.BundleID, trigs); err != nil {
		return err
	}
	if err := t.createSequences(ctx, conn); err != nil {
		return err
	}

	var created []*importer.Item
	for _, it := range p.Items {
		if err := t.session(ctx, conn, it); err != nil {
			return err
		}
		if p.Mode == importer.ModeReplace {
			if exists[it] {
				if _, err := conn.ExecContext(ctx, "DROP TABLE "+q(it.Namespace)+"."+q(it.Object)); err != nil {
					return fmt.Errorf("replace %s.%s: %w", it.Namespace, it.Object, err)
				}
				exists[it] = false
			}
			// The table starts over: no part of any earlier run counts.
			if err := t.forgetTable(ctx, conn, it); err != nil {
				return err
			}
		}
		if !exists[it] {
			if err := t.createTable(ctx, conn, it); err != nil {
				return err
			}
			created = append(created, it)
		}
		if err := checkColumns(ctx, conn, it); err != nil {
			return err
		}
	}
	// Indexes are deferred once every table exists: which ones a foreign
	// key needs depends on the tables referencing it too.
	for _, it := range created {
		if err := t.deferKeys(ctx, conn, it); err != nil {
			return err
		}
	}
	return nil
}

// Place sends every dataset to the database the URL names, else to its
// own (after --map); the state schema is never a target .
func (t *Target) Place(items []*importer.Item) error {
	for _, it := range items {
		if t.dbName != "" {
			it.Namespace = t.dbName
		}
		if it.Namespace == "" {
			return fmt.Errorf("dataset %q has no database: put one in the target URL (%s/DBNAME)", it.Dataset.Name, t.url)
		}
		if it.Namespace == t.stateSchema {
			return scheme.Usagef("dataset %q would load into %s, which holds the import's state; --param state-schema=NAME moves the state elsewhere", it.Dataset.Name, t.stateSchema)
		}
		it.Object = it.Dataset.Object
	}
	return nil
}

// session puts conn in the import session state for its source.
func (t *Target) session(ctx context.Context, conn *sql.Conn, it *importer.Item) error {
	mode := sessionSQLMode(it.Source.Settings["sql_mode"])
	if _, err := conn.ExecContext(ctx, "SET SESSION sql_mode = ?", mode); err != nil {
		return fmt.Errorf("%s: set sql_mode %q: %w", t.url, mode, err)
	}
	if _, err := conn.ExecContext(ctx, "USE "+q(it.Namespace)); err != nil {
		return fmt.Errorf("%s: use database %s: %w", t.url, it.Namespace, err)
	}
	return t.systemTimeSession(ctx, conn, it)
}

func tableExists(ctx context.Context, conn *sql.Conn, db, table string) (bool, error) {
	var n int
	err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?", db, table).Scan(&n)
	return n > 0, err
}

// createPrefix matches the start of SHOW CREATE TABLE output, up to the
// table name.
var createPrefix = regexp.MustCompile("^CREATE TABLE `(?:[^`]|``)+`")

// createTable runs the dataset's DDL in the target database. Only the table
// name is rewritten (to the target's); the AUTO_INCREMENT counter, charset,
// collations, generated columns, indexes and foreign keys stay as captured.
func (t *Target) createTable(ctx context.Context, conn *sql.Conn, it *importer.Item) error {
	ddl := it.Dataset.DDL
	if ddl == "" {
		return fmt.Errorf("dataset %q carries no DDL; create table %s.%s yourself and import with --mode append", it.Dataset.Name, it.Namespace, it.Object)
	}
	loc := createPrefix.FindStringIndex(ddl)
	if loc == nil {
		return fmt.Errorf("dataset %q: DDL does not start with CREATE TABLE `name`: %.60q", it.Dataset.Name, ddl)
	}
	ddl = "CREATE TABLE " + q(it.Object) + ddl[loc[1]:]
	// SHOW CREATE TABLE qualifies a DEFAULT's sequence with the database:
	// in a renamed database it must be the target's own.
	ddl = mysqltype.RenameSchemas(ddl, map[string]string{it.Dataset.Namespace: it.Namespace})
	// MySQL 8 may refuse a table without a primary key
	// (sql_require_primary_key); the source had it, so it is allowed here.
	conn.ExecContext(ctx, "SET SESSION sql_require_primary_key = 0")
	if _, err := conn.ExecContext(ctx, ddl); err != nil {
		return fmt.Errorf("create table %s.%s from the bundle's DDL: %w (if the target server is another flavour or version, create the table yourself and import with --mode append)", it.Namespace, it.Object, err)
	}
	return nil
}

// checkColumns makes sure the target table has every column the bundle
// loads, so that a schema mismatch fails before any row is sent.
func checkColumns(ctx context.Context, conn *sql.Conn, it *importer.Item) error {
	rows, err := conn.QueryContext(ctx, "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?", it.Namespace, it.Object)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			rows.Close()
			return err
		}
		have[strings.ToLower(c)] = true
	}
	rows.Close()
	var missing []string
	for _, c := range it.Dataset.Columns {
		// An implicit system time (row_start, row_end) is no column of
		// information_schema, yet every system-versioned table has it.
		if c.Metadata[mysqltype.MetaRawOf] != "" || c.Metadata[mysqltype.MetaGenerated] != "" || c.Metadata[mysqltype.MetaSystemTime] != "" {
			continue
		}
		if !have[strings.ToLower(c.Name)] {
			missing = append(missing, c.Name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("target table %s.%s lacks column(s) %s of dataset %q; add them or import into another database", it.Namespace, it.Object, strings.Join(missing, ", "), it.Dataset.Name)
	}
	return nil
}
