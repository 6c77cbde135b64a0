package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/go-sql-driver/mysql"

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
	// empty: the table holds no row in the export's snapshot (markEmpty).
	empty bool
	// where is the --where filter the table is read with (where.go).
	where string
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

// loadTables reads the definitions of database db's tables from
// information_schema, one query per view of it (columns, primary keys,
// CHECK constraints, system-versioned tables) whatever the number of
// tables: on a sharded schema of hundreds of small tables, three or four
// round trips a table were most of an export. only names one table to
// read (verify --against reads a target's table by itself); "" reads them
// all. Tables that vanish between listing and loading are simply absent.
func loadTables(ctx context.Context, q querier, db, only string) (map[string]*table, error) {
	where, args := "TABLE_SCHEMA = ?", []any{db}
	if only != "" {
		where, args = where+" AND TABLE_NAME = ?", append(args, only)
	}
	what := "database " + db
	if only != "" {
		what = "table " + db + "." + only
	}
	tables := map[string]*table{}
	// systemTime: "ROW START"/"ROW END" by table and column.
	systemTime := map[string]map[string]string{}
	rows, err := q.QueryContext(ctx, `SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE,
		COALESCE(CHARACTER_SET_NAME, ''), COALESCE(COLLATION_NAME, ''),
		COALESCE(NUMERIC_PRECISION, 0), COALESCE(NUMERIC_SCALE, 0), EXTRA, COALESCE(GENERATION_EXPRESSION, '')
		FROM information_schema.COLUMNS WHERE `+where+`
		ORDER BY TABLE_NAME, ORDINAL_POSITION`, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: read columns: %w", what, err)
	}
	for rows.Next() {
		var name, nullable, expr string
		var c mysqltype.Column
		if err := rows.Scan(&name, &c.Name, &c.DataType, &c.ColumnType, &nullable, &c.Charset, &c.Collation, &c.Precision, &c.Scale, &c.Extra, &expr); err != nil {
			rows.Close()
			return nil, fmt.Errorf("%s: read columns: %w", what, err)
		}
		c.Nullable = nullable == "YES"
		extra := strings.ToUpper(c.Extra)
		switch {
		case strings.Contains(extra, "VIRTUAL"):
			c.Generated = "VIRTUAL"
		case strings.Contains(extra, "STORED"), strings.Contains(extra, "PERSISTENT"):
			c.Generated = "STORED"
		}
		if expr == "ROW START" || expr == "ROW END" {
			if systemTime[name] == nil {
				systemTime[name] = map[string]string{}
			}
			systemTime[name][c.Name] = expr
		}
		t := tables[name]
		if t == nil {
			t = &table{db: db, name: name}
			tables[name] = t
		}
		t.cols = append(t.cols, c)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, fmt.Errorf("%s: read columns: %w", what, err)
	}
	if err := markMariaDBJSON(ctx, q, where, args, tables); err != nil {
		return nil, fmt.Errorf("%s: read CHECK constraints: %w", what, err)
	}
	pks, err := mysqltype.StringRows(ctx, q, `SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.STATISTICS
		WHERE `+where+` AND INDEX_NAME = 'PRIMARY' ORDER BY TABLE_NAME, SEQ_IN_INDEX`, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: read primary keys: %w", what, err)
	}
	for _, r := range pks {
		if t := tables[r[0]]; t != nil {
			t.pk = append(t.pk, r[1])
		}
	}
	versioned, err := mysqltype.StringRows(ctx, q, `SELECT TABLE_NAME FROM information_schema.TABLES
		WHERE `+where+` AND TABLE_TYPE = 'SYSTEM VERSIONED'`, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: read table types: %w", what, err)
	}
	for _, r := range versioned {
		if t := tables[r[0]]; t != nil {
			t.systemTime = true
		}
	}
	for name, t := range tables {
		if err := t.finish(systemTime[name]); err != nil {
			return nil, err
		}
	}
	return tables, nil
}

// loadTable reads one table's definition (loadTables).
func loadTable(ctx context.Context, q querier, db, name string) (*table, error) {
	tables, err := loadTables(ctx, q, db, name)
	if err != nil {
		return nil, err
	}
	t := tables[name]
	if t == nil {
		return nil, fmt.Errorf("table %s.%s does not exist (or has no columns visible to this user)", db, name)
	}
	return t, nil
}

// finish classifies a loaded table's columns and builds its Arrow schema;
// systemTime names its ROW START/ROW END columns, if it is system-versioned.
func (t *table) finish(systemTime map[string]string) error {
	for i := range t.cols {
		if err := t.cols[i].Classify(); err != nil {
			return fmt.Errorf("table %s.%s: %w", t.db, t.name, err)
		}
	}
	if t.systemTime {
		if err := t.markSystemTime(systemTime); err != nil {
			return err
		}
	}
	fields, err := mysqltype.Fields(t.cols)
	if err != nil {
		return fmt.Errorf("table %s.%s: %w", t.db, t.name, err)
	}
	t.schema = arrow.NewSchema(fields, nil)
	return nil
}

// Server errors markMariaDBJSON expects from MySQL.
const (
	errBadField     = 1054 // ER_BAD_FIELD_ERROR
	errUnknownTable = 1109 // ER_UNKNOWN_TABLE
)

// markMariaDBJSON finds MariaDB's JSON columns: JSON is an alias there for
// LONGTEXT with a column-level CHECK (json_valid(`col`)). MySQL has a real
// JSON type (DATA_TYPE 'json') and no TABLE_NAME in CHECK_CONSTRAINTS, so
// the query fails harmlessly. where and args select the tables by
// TABLE_SCHEMA (and TABLE_NAME), as in information_schema.COLUMNS.
func markMariaDBJSON(ctx context.Context, q querier, where string, args []any, tables map[string]*table) error {
	where = strings.Replace(where, "TABLE_SCHEMA", "CONSTRAINT_SCHEMA", 1)
	checks, err := mysqltype.StringRows(ctx, q, `SELECT TABLE_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS WHERE `+where, args...)
	var me *mysql.MySQLError
	if errors.As(err, &me) && (me.Number == errBadField || me.Number == errUnknownTable) {
		return nil // MySQL: no TABLE_NAME there (or no such view before 8.0.16)
	}
	if err != nil {
		return err
	}
	for _, r := range checks {
		t := tables[r[0]]
		if t == nil {
			continue
		}
		clause := strings.ReplaceAll(r[1], " ", "")
		for i := range t.cols {
			c := &t.cols[i]
			if strings.EqualFold(clause, "json_valid("+mysqltype.QuoteIdent(c.Name)+")") {
				c.JSON = true
			}
		}
	}
	return nil
}

// showCreate returns the table's native DDL.
func showCreate(ctx context.Context, q querier, db, name string) (string, error) {
	ddl, err := showCreates(ctx, q, []tableName{{db: db, name: name}})
	if err != nil {
		return "", err
	}
	return ddl[0], nil
}

// showCreateBatch is how many SHOW CREATE TABLE statements go to the server
// in one round trip.
const showCreateBatch = 100

// showCreates returns the native DDL of each table, in order. The
// statements go in multi-statement batches (the exporter's connections
// allow them, open): one round trip per showCreateBatch tables rather than
// one a table. The server stops a batch at a failing statement; the error
// names that table.
func showCreates(ctx context.Context, q querier, tables []tableName) ([]string, error) {
	out := make([]string, 0, len(tables))
	for len(tables) > 0 {
		batch := tables[:min(len(tables), showCreateBatch)]
		tables = tables[len(batch):]
		stmts := make([]string, len(batch))
		for i, t := range batch {
			stmts[i] = "SHOW CREATE TABLE " + mysqltype.QuoteIdent(t.db) + "." + mysqltype.QuoteIdent(t.name)
		}
		rows, err := q.QueryContext(ctx, strings.Join(stmts, "; "))
		if err != nil {
			return nil, fmt.Errorf("table %s.%s: SHOW CREATE TABLE: %w", batch[0].db, batch[0].name, err)
		}
		for i, t := range batch {
			var n, ddl string
			if i > 0 && !rows.NextResultSet() {
				err = rows.Err()
				if err == nil {
					err = errors.New("no result")
				}
			} else if !rows.Next() {
				err = rows.Err()
				if err == nil {
					err = errors.New("no row")
				}
			} else {
				err = rows.Scan(&n, &ddl)
			}
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("table %s.%s: SHOW CREATE TABLE: %w", t.db, t.name, err)
			}
			out = append(out, ddl)
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("SHOW CREATE TABLE: %w", err)
		}
	}
	return out, nil
}
