package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/go-sql-driver/mysql"

	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/mysqltype"
)

// Secondary indexes of a big table are deferred: a table this import
// creates gets some of its non-unique indexes (KEY, FULLTEXT, SPATIAL)
// dropped before the load and added back by Finish. Measured on the 2M-row
// OpenIM chat_logs (two CHAR(64) utf8mb4 secondary indexes, about 800 MB,
// against MariaDB's default 128 MiB buffer pool): one LOAD DATA with the
// indexes in place took 278 s, without them 30 s plus 57 s to add them
// (bench/mysql.sh).
//
// A small table pays for it instead: the two extra ALTERs (and the
// foreign-key lookups below) cost more than maintaining an index that fits
// in memory. So the strategy is chosen per table from the manifest, before
// anything is written (deferRows, defers).
//
// Which ones: unique keys stay (append mode relies on them), and so does
// every index a foreign key needs, the table's own or another table's
// referencing it: MariaDB drops such an index without a word under
// foreign_key_checks=0, and an import interrupted then would leave the key
// without one. The server keeps indexes in a fixed order (unique first,
// FULLTEXT last, otherwise creation order) and ALTER ... ADD appends within
// it, so only a suffix of the DDL's non-unique indexes is deferred: every
// one after the last index that must stay. Adding them back in DDL order
// then gives SHOW CREATE TABLE the source's order exactly. Finish adds
// every such index the table lacks, so a resumed import that was
// interrupted after Prepare still ends with every index.

// indexLine matches an index line of SHOW CREATE TABLE output other than
// the PRIMARY KEY: "  UNIQUE KEY `name` (`a`,`b`(10)) USING BTREE,".
var indexLine = regexp.MustCompile("(?m)^\\s*(UNIQUE |FULLTEXT |SPATIAL )?KEY `((?:[^`]|``)+)` \\(.*$")

// erDropIndexNeeded: the index is needed by a foreign key and cannot go.
const erDropIndexNeeded = 1553

type keyDef struct {
	name string // unquoted
	kind string // "UNIQUE", "FULLTEXT", "SPATIAL" or "" (plain)
	def  string // "KEY `name` (...)" without the trailing comma
}

// secondaryKeys lists the DDL's indexes other than the PRIMARY KEY, in the
// DDL's order.
func secondaryKeys(ddl string) []keyDef {
	var keys []keyDef
	for _, m := range indexLine.FindAllStringSubmatch(ddl, -1) {
		def := strings.TrimSuffix(strings.TrimSpace(m[0]), ",")
		keys = append(keys, keyDef{name: strings.ReplaceAll(m[2], "``", "`"), kind: strings.TrimSpace(m[1]), def: def})
	}
	return keys
}

// deferrableKeys are the DDL's non-unique indexes, in order.
func deferrableKeys(ddl string) []keyDef {
	var out []keyDef
	for _, k := range secondaryKeys(ddl) {
		if k.kind != "UNIQUE" {
			out = append(out, k)
		}
	}
	return out
}

// deferRows is the row count from which a table's indexes are deferred
// (--param defer-indexes=auto, the default). Measured on this project's
// 2-core machine, MariaDB 10.11 defaults, 128 MiB buffer pool, alternating
// runs (bench/results/mysql-wildfire-import-2026-12-01.md): OpenIM
// chat_logs alone, deferred against in place, medians of 3: 100,000 rows
// 12.1 s vs 8.1 s (no consistent difference, load 10), 300,000 rows 9.0 s
// vs 11.0 s (load 4); 2M rows 87 s vs 278 s (bench/README.md). The
// WildfireChat shape (297 tables, none above 65,000 rows), before this
// rule, deferring against defer-indexes=false, two alternating pairs at
// load 5-6: 26 and 29 s vs 11.6 and 15.7 s; the load phase was no faster
// (12.8 and 12.3 s vs 9.5 and 13.6 s), Prepare (an ALTER and the
// foreign-key lookups per table) took 10-11 s vs 1.8 s and Finish (an
// ALTER per table) 3-5.5 s vs 0.4 s.
const deferRows = 200_000

// Values of --param defer-indexes.
const (
	deferAuto   = "auto"  // by size: defers
	deferAlways = "true"  // every table
	deferNever  = "false" // none
)

// defers reports whether the secondary indexes of a table the import
// creates are deferred (see above).
func (t *Target) defers(it *importer.Item) bool {
	switch t.deferIndexes {
	case deferAlways:
		return true
	case deferNever:
		return false
	}
	return it.Dataset.Rows >= deferRows
}

// deferKeys drops, in one ALTER, the indexes of a table just created that
// can wait for the end of the load (see above).
// referencing: the columns other tables' foreign keys reference in it
// (referencingKeys).
func (t *Target) deferKeys(ctx context.Context, conn *sql.Conn, it *importer.Item, referencing [][]string) error {
	keys := deferrableKeys(it.Dataset.DDL)
	if len(keys) == 0 {
		return nil
	}
	cols, err := indexColumns(ctx, conn, it.Namespace, it.Object)
	if err != nil {
		return err
	}
	own, err := ownForeignKeys(ctx, conn, it.Namespace, it.Object)
	if err != nil {
		return err
	}
	fks := append(own, referencing...)
	unique := map[string]bool{"PRIMARY": true}
	for _, k := range secondaryKeys(it.Dataset.DDL) {
		if k.kind == "UNIQUE" {
			unique[k.name] = true
		}
	}
	keep := -1 // index into keys of the last one that must stay
	for _, fk := range fks {
		served := false
		for name := range unique {
			if hasPrefix(cols[name], fk) {
				served = true
				break
			}
		}
		if served {
			continue
		}
		for i, k := range keys {
			if k.kind == "" && hasPrefix(cols[k.name], fk) {
				if i > keep {
					keep = i
				}
				break
			}
		}
	}
	deferred := keys[keep+1:]
	if len(deferred) == 0 {
		return nil
	}
	drops := make([]string, len(deferred))
	for i, k := range deferred {
		drops[i] = "DROP INDEX " + q(k.name)
	}
	table := q(it.Namespace) + "." + q(it.Object)
	_, err = conn.ExecContext(ctx, "ALTER TABLE "+table+" "+strings.Join(drops, ", "))
	var me *mysql.MySQLError
	if errors.As(err, &me) && me.Number == erDropIndexNeeded {
		// A foreign key this code did not see: keep every index.
		t.opts.Log.Info("indexes not deferred: a foreign key needs one", "table", it.Namespace+"."+it.Object, "error", err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("defer indexes of %s.%s: %w (--param defer-indexes=false keeps indexes during the load)", it.Namespace, it.Object, err)
	}
	return nil
}

// hasPrefix reports whether an index on cols can serve a foreign key on
// fk: the key's columns are the index's first ones, in order, whole.
func hasPrefix(cols []string, fk []string) bool {
	if len(fk) == 0 || len(cols) < len(fk) {
		return false
	}
	for i, c := range fk {
		if !strings.EqualFold(cols[i], c) {
			return false
		}
	}
	return true
}

// indexColumns maps each index of a table to its leading whole columns: a
// column indexed by a prefix (SUB_PART) and those after it cannot serve a
// foreign key.
func indexColumns(ctx context.Context, conn *sql.Conn, db, table string) (map[string][]string, error) {
	rows, err := conn.QueryContext(ctx, `SELECT INDEX_NAME, COLUMN_NAME, SUB_PART IS NOT NULL FROM information_schema.STATISTICS
		WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY INDEX_NAME, SEQ_IN_INDEX`, db, table)
	if err != nil {
		return nil, fmt.Errorf("read the indexes of %s.%s: %w", db, table, err)
	}
	defer rows.Close()
	out := map[string][]string{}
	cut := map[string]bool{}
	for rows.Next() {
		var name string
		var col sql.NullString // NULL for an expression index part
		var part bool
		if err := rows.Scan(&name, &col, &part); err != nil {
			return nil, err
		}
		if cut[name] || part || !col.Valid {
			cut[name] = true
			continue
		}
		out[name] = append(out[name], col.String)
	}
	return out, rows.Err()
}

// ownForeignKeys lists the columns of each foreign key of a table.
func ownForeignKeys(ctx context.Context, conn *sql.Conn, db, table string) ([][]string, error) {
	rows, err := conn.QueryContext(ctx, `SELECT '', '', CONSTRAINT_NAME, COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE
		WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND REFERENCED_TABLE_NAME IS NOT NULL
		ORDER BY CONSTRAINT_NAME, ORDINAL_POSITION`, db, table)
	if err != nil {
		return nil, fmt.Errorf("read the foreign keys of %s.%s: %w", db, table, err)
	}
	keys, err := readKeyColumns(rows)
	return keys[[2]string{}], err
}

// referencingKeys lists, per table of the databases dbs that a foreign key
// references, the referenced columns of each such key. information_schema
// cannot look these up by the referenced table, so the server reads every
// table it has: the query runs once for the import, not once per table
// (0.23-0.30 s each on this shared test server, 2,222 tables).
func referencingKeys(ctx context.Context, conn *sql.Conn, dbs []string) (map[[2]string][][]string, error) {
	if len(dbs) == 0 {
		return nil, nil
	}
	args := make([]any, len(dbs))
	for i, db := range dbs {
		args[i] = db
	}
	rows, err := conn.QueryContext(ctx, `SELECT REFERENCED_TABLE_SCHEMA, REFERENCED_TABLE_NAME, CONCAT(TABLE_SCHEMA, '.', TABLE_NAME, '.', CONSTRAINT_NAME), REFERENCED_COLUMN_NAME
		FROM information_schema.KEY_COLUMN_USAGE WHERE REFERENCED_TABLE_SCHEMA IN (?`+strings.Repeat(", ?", len(dbs)-1)+`)
		ORDER BY TABLE_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION`, args...)
	if err != nil {
		return nil, fmt.Errorf("read the foreign keys referencing the tables of %s: %w", strings.Join(dbs, ", "), err)
	}
	return readKeyColumns(rows)
}

// readKeyColumns groups rows of (db, table, key name, column), sorted by
// key, into each table's keys' column lists.
func readKeyColumns(rows *sql.Rows) (map[[2]string][][]string, error) {
	defer rows.Close()
	out := map[[2]string][][]string{}
	last := "\x00"
	var at [2]string
	for rows.Next() {
		var db, table, name, col string
		if err := rows.Scan(&db, &table, &name, &col); err != nil {
			return nil, err
		}
		k := [2]string{db, table}
		if name != last || k != at {
			out[k] = append(out[k], nil)
			last, at = name, k
		}
		keys := out[k]
		keys[len(keys)-1] = append(keys[len(keys)-1], col)
	}
	return out, rows.Err()
}

func (t *Target) buildTableIndexes(ctx context.Context, it *importer.Item, have map[string]bool) error {
	conn, err := t.long.Conn(ctx)
	if err != nil {
		return mysqltype.StepError(t.cfg, t.url, "connect", err)
	}
	defer conn.Close()
	if err := t.session(ctx, conn, it, &sessionState{}); err != nil {
		return err
	}
	return t.addMissingKeys(ctx, conn, it, have)
}

// missingKeys reports whether the table (have: its index names) lacks one
// of the DDL's non-unique indexes.
func missingKeys(it *importer.Item, have map[string]bool) bool {
	for _, k := range deferrableKeys(it.Dataset.DDL) {
		if !have[k.name] {
			return true
		}
	}
	return false
}

// addMissingKeys adds the DDL's non-unique indexes the table (have: its
// index names) lacks, in DDL order: the plain and SPATIAL ones in one
// ALTER, then each FULLTEXT one in its own (InnoDB builds one FULLTEXT
// index per statement; the server sorts them last anyway).
func (t *Target) addMissingKeys(ctx context.Context, conn *sql.Conn, it *importer.Item, have map[string]bool) error {
	keys := deferrableKeys(it.Dataset.DDL)
	var adds []string
	var fulltext []string
	for _, k := range keys {
		switch {
		case have[k.name]:
		case k.kind == "FULLTEXT":
			fulltext = append(fulltext, "ADD "+k.def)
		default:
			adds = append(adds, "ADD "+k.def)
		}
	}
	if len(adds)+len(fulltext) == 0 {
		return nil
	}
	t.opts.Log.Info("building deferred indexes", "table", it.Namespace+"."+it.Object, "indexes", len(adds)+len(fulltext))
	stmts := fulltext
	if len(adds) > 0 {
		stmts = append([]string{strings.Join(adds, ", ")}, fulltext...)
	}
	for _, s := range stmts {
		if _, err := conn.ExecContext(ctx, "ALTER TABLE "+q(it.Namespace)+"."+q(it.Object)+" "+s); err != nil {
			return fmt.Errorf("add deferred indexes to %s.%s: %w; the rows are loaded: run the import again to retry, or add them by hand", it.Namespace, it.Object, err)
		}
	}
	return nil
}

// Finish adds the indexes deferred by Prepare (and any an earlier,
// interrupted run left out), recreates the triggers suspended for the load,
// and then removes this import's state: a finished import leaves nothing of
// imbundle's on the server.
func (t *Target) Finish(ctx context.Context, p *importer.Plan) error {
	if err := t.buildIndexes(ctx, p); err != nil {
		return err
	}
	if err := t.restoreTriggers(ctx, p); err != nil {
		return err
	}
	// Anything else Finish does goes above: dropState must stay last, so
	// that a run failing before it is resumed by the next one.
	return t.dropState(ctx, p)
}

// buildIndexes runs addMissingKeys on every table that lacks an index of
// its DDL, jobs tables at a time. Which ones lack one is read in one query
// per database: a table whose indexes stayed during the load costs no
// statement here, whichever run created it.
func (t *Target) buildIndexes(ctx context.Context, p *importer.Plan) error {
	jobs := t.opts.Jobs
	if jobs < 1 {
		jobs = 1
	}
	var dbs []string
	for _, it := range p.Items {
		dbs = append(dbs, it.Namespace)
	}
	conn, err := t.db.Conn(ctx)
	if err != nil {
		return mysqltype.StepError(t.cfg, t.url, "connect", err)
	}
	indexes, err := perDatabase(ctx, conn, dbs, indexesOf)
	conn.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", t.url, err)
	}
	sem := make(chan struct{}, jobs)
	errs := make(chan error, len(p.Items))
	for _, it := range p.Items {
		have := indexes[it.Namespace][it.Object]
		if !missingKeys(it, have) {
			continue
		}
		sem <- struct{}{}
		go func(it *importer.Item) {
			defer func() { <-sem }()
			// An index build keeps the server silent for as long as it
			// takes: no read timeout on its connection, watched instead.
			wctx, stop := mysqltype.Watch(ctx, t.db, t.cfg, t.url, "build the indexes of "+it.Namespace+"."+it.Object)
			err := t.buildTableIndexes(wctx, it, have)
			if werr := stop(); werr != nil && err != nil {
				err = werr
			}
			errs <- err
		}(it)
	}
	for i := 0; i < jobs; i++ {
		sem <- struct{}{}
	}
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	if err := errors.Join(all...); err != nil {
		return err
	}
	return t.createObjects(ctx)
}
