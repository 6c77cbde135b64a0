package mysql

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/mysqltype"
)

// systemTimeSession lets the session write a system-versioned table's
// ROW START/ROW END columns when the dataset carries them (SPEC.md §7.7):
// the rows then keep the source's system time, and history rows (--param
// history=true on export) go to the table's history. MariaDB 10.11 and
// later have system_versioning_insert_history; elsewhere such a dataset
// cannot load exactly, and says so.
func (t *Target) systemTimeSession(ctx context.Context, conn *sql.Conn, it *importer.Item) error {
	if _, err := conn.ExecContext(ctx, "SET SESSION system_versioning_insert_history = 1"); err != nil {
		return fmt.Errorf("dataset %q carries system time (ROW START/ROW END), which %s cannot take: %w; MariaDB 10.11 or later can (system_versioning_insert_history)", it.Dataset.Name, t.url, err)
	}
	return nil
}

// carriesSystemTime reports whether the dataset has system-time fields.
func carriesSystemTime(it *importer.Item) bool {
	for _, c := range it.Dataset.Columns {
		if c.Metadata[mysqltype.MetaSystemTime] != "" {
			return true
		}
	}
	return false
}
