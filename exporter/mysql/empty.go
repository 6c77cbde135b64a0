package mysql

import (
	"context"
	"fmt"
	"strings"
)

// emptyProbeBatch is how many tables one emptiness probe covers.
const emptyProbeBatch = 100

// markEmpty finds the tables that hold no row in the snapshot, one query
// per emptyProbeBatch tables, so that Read returns at once for them instead
// of preparing and running a SELECT each: 154 of WildfireChat's 297 tables
// are empty on a young site. q must be a snapshot connection, and the
// tables' time clauses set (markHistory): the probe then sees exactly what
// their reads would.
func markEmpty(ctx context.Context, q querier, tables []*table) error {
	for len(tables) > 0 {
		batch := tables[:min(len(tables), emptyProbeBatch)]
		tables = tables[len(batch):]
		probes := make([]string, len(batch))
		for i, t := range batch {
			probes[i] = "EXISTS (SELECT 1 FROM " + t.qualified() + t.timeClause() + t.whereClause() + ")"
		}
		found := make([]bool, len(batch))
		dest := make([]any, len(batch))
		for i := range found {
			dest[i] = &found[i]
		}
		if err := q.QueryRowContext(ctx, "SELECT "+strings.Join(probes, ", ")).Scan(dest...); err != nil {
			return fmt.Errorf("look for empty tables (%s.%s and %d more): %w", batch[0].db, batch[0].name, len(batch)-1, err)
		}
		for i, t := range batch {
			t.empty = !found[i]
		}
	}
	return nil
}
