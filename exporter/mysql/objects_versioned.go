package mysql

import (
	"fmt"

	"github.com/imbundle/imbundle/internal/mysqltype"
	"github.com/imbundle/imbundle/spec"
)

// optHistory is the dataset option that says its rows are the table's
// every system time, history included (--param history=true).
const optHistory = "history"

// markSystemTime makes a system-versioned table's system time part of its
// rows. Named ROW START / ROW END columns, which information_schema calls
// STORED GENERATED, are exported as data, not as generated columns; an
// implicit system time (not in information_schema.COLUMNS) is read by its
// fixed names row_start and row_end, as TIMESTAMP(6). A target takes the
// values (MariaDB 10.11's system_versioning_insert_history), and only then
// do its rows, and a mysqldump of it, equal the source's. mark holds the
// named ones' GENERATION_EXPRESSION by column (loadTables).
func (t *table) markSystemTime(mark map[string]string) error {
	for i := range t.cols {
		if m, ok := mark[t.cols[i].Name]; ok {
			t.cols[i].Generated, t.cols[i].SystemTime = "", m
			if m == "ROW END" {
				t.rowEnd = t.cols[i].Name
			}
		}
	}
	if len(mark) == 0 {
		for _, c := range []mysqltype.Column{
			{Name: "row_start", DataType: "timestamp", ColumnType: "timestamp(6)", SystemTime: "ROW START"},
			{Name: "row_end", DataType: "timestamp", ColumnType: "timestamp(6)", SystemTime: "ROW END"},
		} {
			if t.column(c.Name) != nil {
				return fmt.Errorf("table %s.%s is system-versioned with implicit system time, yet has a column %s; name its system-time columns (ROW START/ROW END)", t.db, t.name, c.Name)
			}
			if err := c.Classify(); err != nil {
				return err
			}
			t.cols = append(t.cols, c)
		}
		t.rowEnd = "row_end"
	}
	return nil
}

// readAllTime makes a system-versioned table read every row version,
// history included, keyed by its primary key and its ROW END (which
// MariaDB adds to a named system time's key already).
func (t *table) readAllTime() {
	if !t.systemTime || t.allTime {
		return
	}
	t.allTime = true
	for _, k := range t.pk {
		if k == t.rowEnd {
			return
		}
	}
	if len(t.pk) > 0 {
		t.pk = append(t.pk, t.rowEnd)
	}
}

// markHistory makes a system-versioned table export its every row version
// under --param history=true, and says so in the dataset's options, so
// that verify --against reads the target alike.
func (s *Source) markHistory(t *table, ds *spec.Dataset) error {
	if s.opts.Param("history") != "true" || !t.systemTime {
		return nil
	}
	t.readAllTime()
	ds.PrimaryKey = t.pk
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
