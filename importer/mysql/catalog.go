package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// What Prepare and Finish need to know of the target's tables (which
// exist, their columns, their indexes) is read with one information_schema
// query per target database, not one per table: on the WildfireChat shape
// (297 tables) the per-table lookups were about 1,800 statements of an
// import's 13,800, and `WHERE TABLE_SCHEMA = ?` lets the server open only
// that database's tables.

// catalog maps a table of one database to a set of names (its columns,
// lower-cased, or its indexes).
type catalog map[string]map[string]bool

func (c catalog) has(table, name string) bool { return c[table][name] }

// readCatalog runs query (two string columns: table, name; one argument:
// the database) and collects the names per table. lower folds the names.
func readCatalog(ctx context.Context, conn *sql.Conn, query, db string, lower bool) (catalog, error) {
	rows, err := conn.QueryContext(ctx, query, db)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := catalog{}
	for rows.Next() {
		var table, name string
		if err := rows.Scan(&table, &name); err != nil {
			return nil, err
		}
		if lower {
			name = strings.ToLower(name)
		}
		if out[table] == nil {
			out[table] = map[string]bool{}
		}
		out[table][name] = true
	}
	return out, rows.Err()
}

// tablesOf lists the base tables and views of db (a table's set is empty).
func tablesOf(ctx context.Context, conn *sql.Conn, db string) (catalog, error) {
	c, err := readCatalog(ctx, conn, "SELECT TABLE_NAME, '' FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?", db, false)
	if err != nil {
		return nil, fmt.Errorf("list the tables of %s: %w", db, err)
	}
	return c, nil
}

// columnsOf lists the columns of every table of db, lower-cased.
func columnsOf(ctx context.Context, conn *sql.Conn, db string) (catalog, error) {
	c, err := readCatalog(ctx, conn, "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ?", db, true)
	if err != nil {
		return nil, fmt.Errorf("read the columns of the tables of %s: %w", db, err)
	}
	return c, nil
}

// indexesOf lists the index names of every table of db.
func indexesOf(ctx context.Context, conn *sql.Conn, db string) (catalog, error) {
	c, err := readCatalog(ctx, conn, "SELECT DISTINCT TABLE_NAME, INDEX_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ?", db, false)
	if err != nil {
		return nil, fmt.Errorf("read the indexes of the tables of %s: %w", db, err)
	}
	return c, nil
}

// perDatabase runs read once for each distinct database of names.
func perDatabase(ctx context.Context, conn *sql.Conn, dbs []string, read func(context.Context, *sql.Conn, string) (catalog, error)) (map[string]catalog, error) {
	out := map[string]catalog{}
	for _, db := range dbs {
		if _, done := out[db]; done {
			continue
		}
		c, err := read(ctx, conn, db)
		if err != nil {
			return nil, err
		}
		out[db] = c
	}
	return out, nil
}
