package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/internal/mysqltype"
)

// querier is a *sql.DB or a *sql.Conn.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// table is one table's columns, Arrow schema and primary key.
type table struct {
	db, name string
	cols     []mysqltype.Column
	schema   *arrow.Schema
	pk       []string
	// systemTime: a system-versioned table, its system time among cols
	// (rowEnd names the ROW END column); allTime: read every row version,
	// history included (objects_versioned.go).
	systemTime, allTime bool
	rowEnd              string
}

// column returns the column named name, or nil.
func (t *table) column(name string) *mysqltype.Column {
	for i := range t.cols {
		if t.cols[i].Name == name {
			return &t.cols[i]
		}
	}
	return nil
}

func (t *table) qualified() string {
	return mysqltype.QuoteIdent(t.db) + "." + mysqltype.QuoteIdent(t.name)
}

// loadTable reads a table's definition from information_schema.
func loadTable(ctx context.Context, q querier, db, name string) (*table, error) {
	t := &table{db: db, name: name}
	rows, err := q.QueryContext(ctx, `SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE,
		COALESCE(CHARACTER_SET_NAME, ''), COALESCE(COLLATION_NAME, ''),
		COALESCE(NUMERIC_PRECISION, 0), COALESCE(NUMERIC_SCALE, 0), EXTRA
		FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?
		ORDER BY ORDINAL_POSITION`, db, name)
	if err != nil {
		return nil, fmt.Errorf("table %s.%s: read columns: %w", db, name, err)
	}
	for rows.Next() {
		var c mysqltype.Column
		var nullable string
		if err := rows.Scan(&c.Name, &c.DataType, &c.ColumnType, &nullable, &c.Charset, &c.Collation, &c.Precision, &c.Scale, &c.Extra); err != nil {
			rows.Close()
			return nil, fmt.Errorf("table %s.%s: read columns: %w", db, name, err)
		}
		c.Nullable = nullable == "YES"
		extra := strings.ToUpper(c.Extra)
		switch {
		case strings.Contains(extra, "VIRTUAL"):
			c.Generated = "VIRTUAL"
		case strings.Contains(extra, "STORED"), strings.Contains(extra, "PERSISTENT"):
			c.Generated = "STORED"
		}
		t.cols = append(t.cols, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("table %s.%s: read columns: %w", db, name, err)
	}
	rows.Close()
	if len(t.cols) == 0 {
		return nil, fmt.Errorf("table %s.%s does not exist (or has no columns visible to this user)", db, name)
	}
	if err := markMariaDBJSON(ctx, q, t); err != nil {
		return nil, err
	}
	for i := range t.cols {
		if err := t.cols[i].Classify(); err != nil {
			return nil, fmt.Errorf("table %s.%s: %w", db, name, err)
		}
	}
	fields, err := mysqltype.Fields(t.cols)
	if err != nil {
		return nil, fmt.Errorf("table %s.%s: %w", db, name, err)
	}
	t.schema = arrow.NewSchema(fields, nil)
	t.pk, err = primaryKey(ctx, q, db, name)
	if err != nil {
		return nil, err
	}
	if err := t.markSystemTime(ctx, q); err != nil {
		return nil, err
	}
	return t, nil
}

// markMariaDBJSON finds MariaDB's JSON columns: JSON is an alias there for
// LONGTEXT with a column-level CHECK (json_valid(`col`)). MySQL has a real
// JSON type (DATA_TYPE 'json') and no TABLE_NAME in CHECK_CONSTRAINTS, so
// the query fails harmlessly.
func markMariaDBJSON(ctx context.Context, q querier, t *table) error {
	rows, err := q.QueryContext(ctx, `SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS
		WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?`, t.db, t.name)
	if err != nil {
		return nil
	}
	defer rows.Close()
	for rows.Next() {
		var clause string
		if err := rows.Scan(&clause); err != nil {
			return err
		}
		for i := range t.cols {
			c := &t.cols[i]
			if strings.EqualFold(strings.ReplaceAll(clause, " ", ""), "json_valid("+mysqltype.QuoteIdent(c.Name)+")") {
				c.JSON = true
			}
		}
	}
	return rows.Err()
}

func primaryKey(ctx context.Context, q querier, db, name string) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT COLUMN_NAME FROM information_schema.STATISTICS
		WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX`, db, name)
	if err != nil {
		return nil, fmt.Errorf("table %s.%s: read primary key: %w", db, name, err)
	}
	defer rows.Close()
	var pk []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		pk = append(pk, c)
	}
	return pk, rows.Err()
}

// showCreate returns the table's native DDL.
func showCreate(ctx context.Context, q querier, db, name string) (string, error) {
	var n, ddl string
	if err := q.QueryRowContext(ctx, "SHOW CREATE TABLE "+mysqltype.QuoteIdent(db)+"."+mysqltype.QuoteIdent(name)).Scan(&n, &ddl); err != nil {
		return "", fmt.Errorf("table %s.%s: SHOW CREATE TABLE: %w", db, name, err)
	}
	return ddl, nil
}
