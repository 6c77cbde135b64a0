package mysql

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/internal/mysqltype"
	"github.com/imbundle/imbundle/spec"
)

// optHistory is the dataset option that says its rows are the table's
// every system time, history included (--param history=true).
const optHistory = "history"

// markSystemTime turns a system-versioned table's named ROW START / ROW END
// columns from generated into data: information_schema calls them STORED
// GENERATED, but a target can take their values (MariaDB 10.11's
// system_versioning_insert_history), and only then do its rows, and a
// mysqldump of it, equal the source's. Implicit system time (row_start and
// row_end not declared) is not in information_schema.COLUMNS and is left
// to the target's clock.
func (t *table) markSystemTime(ctx context.Context, q querier) error {
	rows, err := q.QueryContext(ctx, `SELECT COLUMN_NAME, GENERATION_EXPRESSION FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND GENERATION_EXPRESSION IN ('ROW START', 'ROW END')`, t.db, t.name)
	if err != nil {
		return fmt.Errorf("table %s.%s: read system-time columns: %w", t.db, t.name, err)
	}
	mark := map[string]string{}
	for rows.Next() {
		var c, expr string
		if err := rows.Scan(&c, &expr); err != nil {
			rows.Close()
			return err
		}
		mark[c] = expr
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(mark) == 0 {
		return err
	}
	for i := range t.cols {
		if m, ok := mark[t.cols[i].Name]; ok {
			t.cols[i].Generated, t.cols[i].SystemTime = "", m
		}
	}
	fields, err := mysqltype.Fields(t.cols)
	if err != nil {
		return fmt.Errorf("table %s.%s: %w", t.db, t.name, err)
	}
	t.schema = arrow.NewSchema(fields, nil)
	t.systemTime = true
	return nil
}

// markHistory makes a table with named system-time columns export its
// every row version under --param history=true, and says so in the
// dataset's options, so that verify --against reads the target alike.
func (s *Source) markHistory(t *table, ds *spec.Dataset) error {
	if s.opts.Param("history") != "true" || !t.systemTime {
		return nil
	}
	t.allTime = true
	ds.Options[optHistory] = "true"
	return nil
}

// timeClause selects every row version of an allTime table.
func (t *table) timeClause() string {
	if t.allTime {
		return " FOR SYSTEM_TIME ALL"
	}
	return ""
}
