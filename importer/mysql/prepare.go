package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

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
	var dbList []string
	for _, it := range p.Items {
		if dbs[it.Namespace] == nil {
			dbs[it.Namespace] = it
			dbList = append(dbList, it.Namespace)
		}
	}
	sort.Strings(dbList)

	// Checks: a refused import writes nothing, not even its state.
	tables, err := perDatabase(ctx, conn, dbList, tablesOf)
	if err != nil {
		return fmt.Errorf("%s: %w", t.url, err)
	}
	exists := map[*importer.Item]bool{}
	var refused []string
	for _, it := range p.Items {
		_, ok := tables[it.Namespace][it.Object]
		exists[it] = ok
		if !ok || p.ModeOf(it) != importer.ModeFail {
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
	// Objects (views, routines, ...) are checked before anything is
	// written too: a missing DEFINER or a refused object stops here.
	if err := t.planObjects(ctx, conn, p); err != nil {
		return err
	}
	trigs, err := t.targetTriggers(ctx, conn, p, exists)
	if err != nil {
		return err
	}
	trigs = t.notCreatedByEarlierRun(trigs)
	if len(trigs) > 0 && !t.suspendTriggers {
		names := make([]string, len(trigs))
		for i, tr := range trigs {
			names[i] = tr.db + "." + tr.table + "." + tr.name
		}
		return importer.Refused(fmt.Errorf("target table(s) have triggers, which would change the imported rows: %s; nothing was written. Drop them, or import with --param triggers=suspend to drop them for the load and recreate them afterwards", strings.Join(names, ", ")))
	}
	if p.DryRun {
		return nil // every check above passed; what follows writes
	}

	if err := t.createState(ctx, conn); err != nil {
		return err
	}
	for _, db := range dbList {
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

	var replaced []*importer.Item
	for _, it := range p.Items {
		if p.ModeOf(it) == importer.ModeReplace {
			replaced = append(replaced, it)
		}
	}
	// Every replaced table starts over: no part of any earlier run counts.
	if err := t.forgetTables(ctx, conn, replaced); err != nil {
		return err
	}
	allowNoPrimaryKey(ctx, conn)
	var created []*importer.Item
	var sess sessionState
	for _, it := range p.Items {
		if p.ModeOf(it) == importer.ModeReplace && exists[it] {
			// One at a time: concurrent DROPs conflict on InnoDB's
			// statistics tables (error 1205, seen in TestModes).
			if err := t.session(ctx, conn, it, &sess); err != nil {
				return err
			}
			if _, err := conn.ExecContext(ctx, "DROP TABLE "+q(it.Namespace)+"."+q(it.Object)); err != nil {
				return fmt.Errorf("replace %s.%s: %w", it.Namespace, it.Object, err)
			}
			exists[it] = false
		}
		if !exists[it] {
			created = append(created, it)
		}
	}
	if err := t.createTables(ctx, conn, created); err != nil {
		return err
	}
	columns, err := perDatabase(ctx, conn, dbList, columnsOf)
	if err != nil {
		return fmt.Errorf("%s: %w", t.url, err)
	}
	for _, it := range p.Items {
		if err := checkColumns(it, columns[it.Namespace][it.Object]); err != nil {
			return err
		}
	}
	// Indexes are deferred once every table exists: which ones a foreign
	// key needs depends on the tables referencing it too.
	var deferred []*importer.Item
	var deferDBs []string
	for _, it := range created {
		if t.defers(it) {
			deferred = append(deferred, it)
			if !slices.Contains(deferDBs, it.Namespace) {
				deferDBs = append(deferDBs, it.Namespace)
			}
		}
	}
	referencing, err := referencingKeys(ctx, conn, deferDBs)
	if err != nil {
		return fmt.Errorf("%s: %w", t.url, err)
	}
	for _, it := range deferred {
		if err := t.session(ctx, conn, it, &sess); err != nil {
			return err
		}
		if err := t.deferKeys(ctx, conn, it, referencing[[2]string{it.Namespace, it.Object}]); err != nil {
			return err
		}
	}
	return nil
}

// createTables creates the tables of items on up to --jobs connections
// at once: the server runs DDL on different tables side by side, and with
// hundreds of small tables the DDL is most of Prepare (WildfireChat's 297
// CREATE TABLEs from a dump file: 1.75 s on one connection, 1.28 s on two,
// on this machine). Concurrent DDL can conflict inside the server (InnoDB's
// dictionary and statistics tables, the metadata locks a foreign key takes
// on the table it references): a table whose CREATE failed on a deadlock
// or lock wait is created again afterwards, one at a time on conn.
func (t *Target) createTables(ctx context.Context, conn *sql.Conn, items []*importer.Item) error {
	workers := min(max(t.opts.Jobs, 1), len(items))
	next := make(chan int)
	errs := make([]error, len(items))
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wconn, err := t.long.Conn(ctx)
			if err != nil {
				err = mysqltype.StepError(t.cfg, t.url, "connect", err)
			} else {
				defer wconn.Close()
				allowNoPrimaryKey(ctx, wconn)
			}
			var sess sessionState
			for i := range next {
				if err != nil {
					errs[i] = err // not tried: this worker has no connection
					continue
				}
				if errs[i] = t.session(ctx, wconn, items[i], &sess); errs[i] == nil {
					errs[i] = t.createTable(ctx, wconn, items[i])
				}
			}
		}()
	}
	for i := range items {
		select {
		case next <- i:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil && !lockConflict(err) {
			return err
		}
	}
	var sess sessionState
	for i, err := range errs {
		if err == nil {
			continue
		}
		if err := t.session(ctx, conn, items[i], &sess); err != nil {
			return err
		}
		if err := t.createTable(ctx, conn, items[i]); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// allowNoPrimaryKey lets the session create a table without a primary key:
// MySQL 8 may refuse one (sql_require_primary_key), and the source had it.
// Servers without the variable need nothing.
func allowNoPrimaryKey(ctx context.Context, conn *sql.Conn) {
	conn.ExecContext(ctx, "SET SESSION sql_require_primary_key = 0")
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

// sessionState is what session last set on a connection.
type sessionState struct {
	mode, db string
	history  bool
	// unique, if set ("0" or "1"), is sent as unique_checks with the
	// sql_mode, in the same statement.
	unique string
}

// session puts conn in the import session state for its source: sql_mode,
// default database and, for a system-versioned dataset, history inserts.
// A statement is sent only for what differs from *st (which it updates);
// a fresh zero sessionState sends them all.
func (t *Target) session(ctx context.Context, conn *sql.Conn, it *importer.Item, st *sessionState) error {
	mode := sessionSQLMode(it.Source.Settings["sql_mode"])
	if mode != st.mode || st.unique != "" {
		set := "SET SESSION sql_mode = ?"
		if st.unique != "" {
			set += ", SESSION unique_checks = " + st.unique
		}
		if _, err := conn.ExecContext(ctx, set, mode); err != nil {
			return fmt.Errorf("%s: set sql_mode %q: %w", t.url, mode, err)
		}
		st.mode, st.unique = mode, ""
	}
	if it.Namespace != st.db {
		if _, err := conn.ExecContext(ctx, "USE "+q(it.Namespace)); err != nil {
			return fmt.Errorf("%s: use database %s: %w", t.url, it.Namespace, err)
		}
		st.db = it.Namespace
	}
	if !st.history && carriesSystemTime(it) {
		if err := t.systemTimeSession(ctx, conn, it); err != nil {
			return err
		}
		st.history = true
	}
	return nil
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
	if _, err := conn.ExecContext(ctx, ddl); err != nil {
		return fmt.Errorf("create table %s.%s from the bundle's DDL: %w (if the target server is another flavour or version, create the table yourself and import with --mode append)", it.Namespace, it.Object, err)
	}
	return nil
}

// checkColumns makes sure the target table (have: its columns,
// lower-cased) has every column the bundle loads, so that a schema
// mismatch fails before any row is sent.
func checkColumns(it *importer.Item, have map[string]bool) error {
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
