package mysql

import (
	"context"

	"github.com/imbundle/imbundle/internal/scheme"
)

// A table's --where (SPEC.md §7.3): a WHERE condition in the server's SQL,
// as mysqldump --where takes it, ANDed to nothing else: the read is
// "SELECT ... FROM t [FORCE INDEX (PRIMARY)] WHERE (filter) ORDER BY pk".
// It is the operator's own SQL, sent as it is; the manifest records it and
// verify --against reads the target through the same clause.

// whereClause is " WHERE (filter)", or "" for every row.
func (t *table) whereClause() string {
	if t.where == "" {
		return ""
	}
	return " WHERE (" + t.where + ")"
}

// whereAnd is the filter's WHERE clause with cond ANDed to it.
func (t *table) whereAnd(cond string) string {
	if t.where == "" {
		return " WHERE " + cond
	}
	return " WHERE (" + t.where + ") AND " + cond
}

// checkWhere runs the table's filter on no rows, so that a typo in it, or a
// column it names that the table lacks, stops the export before any part is
// written, naming the table and the filter.
func checkWhere(ctx context.Context, q querier, t *table) error {
	if t.where == "" {
		return nil
	}
	rows, err := q.QueryContext(ctx, "SELECT 1 FROM "+t.qualified()+t.timeClause()+t.whereClause()+" LIMIT 0")
	if err != nil {
		return scheme.Usagef("--where %s.%s:%s: the server refused the filter: %v", t.db, t.name, t.where, err)
	}
	rows.Close()
	return nil
}
