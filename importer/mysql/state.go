package mysql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"

	"github.com/go-sql-driver/mysql"

	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/mysqltype"
	"github.com/imbundle/imbundle/internal/scheme"
)

// The import's resume state lives in a schema of its own on the target
// server (default `imbundle`, --param state-schema=NAME), as
// pt-table-checksum keeps its table in `percona`: never in a database the
// user imports into, so that a dump of the target equals the source. Rows
// are keyed by bundle id and target database and table, so imports into
// different databases never share a row. A successful import deletes its
// rows at the end and drops the tables and the schema once they are empty;
// a failed one leaves them for the re-run that resumes it.

const defaultStateSchema = "imbundle"

// State tables, in the state schema.
const (
	progressTable = "progress" // one row per committed part
	triggersTable = "triggers" // target triggers suspended for the load
)

const progressDDL = "CREATE TABLE IF NOT EXISTS %s (" +
	"bundle_id CHAR(64) CHARACTER SET ascii NOT NULL, " +
	"db VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL, " +
	"tbl VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL, " +
	"part INT NOT NULL, " +
	"dataset VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL, " +
	"`rows` BIGINT NOT NULL, " +
	"rejected BIGINT NOT NULL DEFAULT 0, " +
	"loaded_at DATETIME(6) NOT NULL, " +
	"PRIMARY KEY (bundle_id, db, tbl, part)" +
	") ENGINE=InnoDB"

// The statement is kept as the bytes SHOW CREATE TRIGGER returned under
// the trigger's own character_set_client, and is run again under it.
const triggersDDL = "CREATE TABLE IF NOT EXISTS %s (" +
	"bundle_id CHAR(64) CHARACTER SET ascii NOT NULL, " +
	"db VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL, " +
	"name VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL, " +
	"tbl VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL, " +
	"action_order INT NOT NULL, " +
	"sql_mode TEXT CHARACTER SET ascii NOT NULL, " +
	"character_set_client VARCHAR(64) CHARACTER SET ascii NOT NULL, " +
	"collation_connection VARCHAR(64) CHARACTER SET ascii NOT NULL, " +
	"statement LONGBLOB NOT NULL, " +
	"saved_at DATETIME(6) NOT NULL, " +
	"PRIMARY KEY (bundle_id, db, name)" +
	") ENGINE=InnoDB"

// stateSchemaParam reads --param state-schema.
func stateSchemaParam(opts importer.Options) (string, error) {
	s := opts.Param("state-schema")
	if s == "" {
		return defaultStateSchema, nil
	}
	if len(s) > 64 {
		return "", scheme.Usagef("--param state-schema=%q: a schema name has at most 64 characters", s)
	}
	return s, nil
}

func (t *Target) stateTable(name string) string { return q(t.stateSchema) + "." + q(name) }

// stateExists reports whether the state table name exists.
func (t *Target) stateExists(ctx context.Context, conn *sql.Conn, name string) (bool, error) {
	return tableExists(ctx, conn, t.stateSchema, name)
}

// tableExists looks up one table (the state tables; the target's are
// listed per database, catalog.go).
func tableExists(ctx context.Context, conn *sql.Conn, db, table string) (bool, error) {
	var n int
	err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?", db, table).Scan(&n)
	return n > 0, err
}

// stateGone reports an error of a statement on the state tables that found
// them, or their schema, dropped: a concurrent import into another
// database of this server finished and removed the shared state while it
// held no row (dropState). Nothing of this import was in them.
func stateGone(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && (me.Number == erNoSuchTable || me.Number == erBadDB)
}

// createState creates the state schema and its tables.
func (t *Target) createState(ctx context.Context, conn *sql.Conn) error {
	// A concurrent import's cleanup may drop the empty schema between our
	// CREATE DATABASE and CREATE TABLE: start again a few times.
	for try := 0; ; try++ {
		err := t.createStateOnce(ctx, conn)
		var me *mysql.MySQLError
		if err == nil || try == 4 || !errors.As(err, &me) || me.Number != erBadDB {
			return err
		}
	}
}

func (t *Target) createStateOnce(ctx context.Context, conn *sql.Conn) error {
	for _, stmt := range []string{
		"CREATE DATABASE IF NOT EXISTS " + q(t.stateSchema) + " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
		fmt.Sprintf(progressDDL, t.stateTable(progressTable)),
		fmt.Sprintf(triggersDDL, t.stateTable(triggersTable)),
	} {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("%s: create the import's state schema %s: %w (the importing user needs CREATE on it; --param state-schema=NAME picks another)", t.url, t.stateSchema, err)
		}
	}
	return nil
}

// hasProgress reports whether this bundle has committed parts into it.
func (t *Target) hasProgress(ctx context.Context, conn *sql.Conn, bundleID string, it *importer.Item) (bool, error) {
	if ok, err := t.stateExists(ctx, conn, progressTable); err != nil || !ok {
		return false, err
	}
	var n int
	err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+t.stateTable(progressTable)+" WHERE bundle_id = ? AND db = ? AND tbl = ?",
		bundleID, it.Namespace, it.Object).Scan(&n)
	if stateGone(err) {
		return false, nil
	}
	return n > 0, err
}

// forgetTables deletes the progress of every bundle into these tables:
// they start over (replace mode).
func (t *Target) forgetTables(ctx context.Context, conn *sql.Conn, items []*importer.Item) error {
	return t.deleteState(ctx, conn, progressTable, "", items)
}

// stateBatch is how many tables one state DELETE names.
const stateBatch = 500

// deleteState deletes the rows of the state table name about items (of
// bundle bundleID, or of every bundle if it is ""), one statement per
// database and stateBatch tables rather than one per table.
func (t *Target) deleteState(ctx context.Context, conn *sql.Conn, name, bundleID string, items []*importer.Item) error {
	byDB := map[string][]any{}
	var dbs []string
	for _, it := range items {
		if byDB[it.Namespace] == nil {
			dbs = append(dbs, it.Namespace)
		}
		byDB[it.Namespace] = append(byDB[it.Namespace], it.Object)
	}
	for _, db := range dbs {
		tbls := byDB[db]
		for len(tbls) > 0 {
			n := min(len(tbls), stateBatch)
			stmt := "DELETE FROM " + t.stateTable(name) + " WHERE db = ? AND tbl IN (?" + strings.Repeat(", ?", n-1) + ")"
			args := append([]any{db}, tbls[:n]...)
			if bundleID != "" {
				stmt += " AND bundle_id = ?"
				args = append(args, bundleID)
			}
			if _, err := conn.ExecContext(ctx, stmt, args...); err != nil {
				if stateGone(err) {
					return nil // no table, no row of ours
				}
				return err
			}
			tbls = tbls[n:]
		}
	}
	return nil
}

// dropState deletes this import's state, then the state tables and schema
// if no other import has rows in them. The emptiness check and the drop
// run under LOCK TABLES ... WRITE, so that a concurrent import cannot
// commit a row in between; such an import then finds the table gone, fails
// its part and resumes on its re-run (it had committed nothing).
func (t *Target) dropState(ctx context.Context, p *importer.Plan) error {
	conn, err := t.db.Conn(ctx)
	if err != nil {
		return mysqltype.StepError(t.cfg, t.url, "connect", err)
	}
	defer conn.Close()
	for _, name := range []string{progressTable, triggersTable} {
		ok, err := t.stateExists(ctx, conn, name)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if err := t.deleteState(ctx, conn, name, p.BundleID, p.Items); err != nil {
			return fmt.Errorf("%s: clear the import's state in %s: %w", t.url, t.stateTable(name), err)
		}
	}
	// A concurrent import's open part transaction holds the table: wait a
	// little, then leave the drop to whichever import finishes last.
	defer discard(conn)
	if _, err := conn.ExecContext(ctx, "SET SESSION lock_wait_timeout = 5"); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "LOCK TABLES "+t.stateTable(progressTable)+" WRITE, "+t.stateTable(triggersTable)+" WRITE"); err != nil {
		t.opts.Log.Info("state tables left in place (in use, or already gone)", "schema", t.stateSchema, "error", err)
		return nil
	}
	defer conn.ExecContext(context.Background(), "UNLOCK TABLES")
	var rows int
	if err := conn.QueryRowContext(ctx, "SELECT (SELECT COUNT(*) FROM "+t.stateTable(progressTable)+") + (SELECT COUNT(*) FROM "+t.stateTable(triggersTable)+")").Scan(&rows); err != nil {
		return err
	}
	if rows > 0 {
		return nil // another import's state
	}
	if _, err := conn.ExecContext(ctx, "DROP TABLE "+t.stateTable(progressTable)+", "+t.stateTable(triggersTable)); err != nil {
		return fmt.Errorf("%s: drop the empty state tables of %s: %w", t.url, t.stateSchema, err)
	}
	if _, err := conn.ExecContext(ctx, "UNLOCK TABLES"); err != nil {
		return err
	}
	var left int
	if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?", t.stateSchema).Scan(&left); err != nil {
		return err
	}
	if left == 0 {
		if _, err := conn.ExecContext(ctx, "DROP DATABASE IF EXISTS "+q(t.stateSchema)); err != nil {
			return fmt.Errorf("%s: drop the empty state schema %s: %w", t.url, t.stateSchema, err)
		}
	}
	return nil
}

// discard closes conn instead of returning it to the pool: its session
// state (character set, lock wait) was changed for one task.
func discard(conn *sql.Conn) {
	conn.Raw(func(any) error { return driver.ErrBadConn })
}
