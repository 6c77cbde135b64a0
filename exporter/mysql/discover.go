package mysql

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/imbundle/imbundle/internal/mysqltype"
	"github.com/imbundle/imbundle/spec"
)

// maxOrphanShare is the share of a candidate column's non-NULL values that
// may lack a row in the referenced table for the edge still to count: IM
// databases keep messages and memberships of deleted users, so a real
// reference is rarely complete, while an unrelated column matches almost
// nothing.
const maxOrphanShare = 0.05

// checkRows bounds the rows of a candidate column that are checked, so
// that discovery costs about a second however large the tables are.
const checkRows = 100_000

// discoverRelations infers the edges no constraint declares (OpenIM's and
// WildfireChat's schemas declare none). A candidate is a column whose name
// says it holds another exported table's single-column primary key —
// named like a compound key (user_id) or ending in "_" + it
// (owner_user_id), or, for a one-word key (id, name), named after the
// table (user_id or owner_user_id for users.id) — and whose values are of
// the same kind (text or integer). Each candidate is checked against the
// snapshot with one anti-join over its first checkRows rows; it is kept as
// "discovered", with its counts, when some of its values match and at most
// maxOrphanShare do not. Candidates already declared are skipped; a check
// the server refuses is logged and skipped.
func (s *Source) discoverRelations(ctx context.Context, q querier, tables map[string]*table, declared []spec.Relation) []spec.Relation {
	have := map[string]bool{}
	for _, r := range declared {
		have[r.From.Dataset+"("+strings.Join(r.From.Columns, ",")+")"] = true
	}
	names := make([]string, 0, len(tables))
	for n := range tables {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []spec.Relation
	for _, tn := range names {
		to := tables[tn]
		if len(to.pk) != 1 {
			continue
		}
		key := to.column(to.pk[0])
		if key == nil {
			continue
		}
		for _, fn := range names {
			from := tables[fn]
			if from == to {
				continue
			}
			for i := range from.cols {
				c := &from.cols[i]
				if c.Generated != "" || !refersTo(c.Name, to.name, key.Name) || kindClass(c.Kind) != kindClass(key.Kind) || kindClass(c.Kind) == "" {
					continue
				}
				fromDS := datasetName(from.db, from.name)
				if have[fromDS+"("+c.Name+")"] {
					continue
				}
				start := time.Now()
				values, orphans, err := checkReference(ctx, q, from, c, to, key)
				if err != nil {
					s.opts.Log.Info("relation candidate not checked", "from", fromDS+"("+c.Name+")", "to", datasetName(to.db, to.name)+"("+key.Name+")", "error", err)
					continue
				}
				keep := values > orphans && float64(orphans) <= maxOrphanShare*float64(values)
				s.opts.Log.Debug("relation candidate", "from", fromDS+"("+c.Name+")", "to", datasetName(to.db, to.name)+"("+key.Name+")",
					"values", values, "orphans", orphans, "kept", keep, "elapsed_s", time.Since(start).Seconds())
				if keep {
					out = append(out, spec.Relation{
						From:    spec.RelationEnd{Dataset: fromDS, Columns: []string{c.Name}},
						To:      spec.RelationEnd{Dataset: datasetName(to.db, to.name), Columns: []string{key.Name}},
						Origin:  spec.RelationDiscovered,
						Checked: &spec.RelationCheck{Values: values, Orphans: orphans},
					})
				}
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].From, out[j].From
		return a.Dataset < b.Dataset || a.Dataset == b.Dataset && a.Columns[0] < b.Columns[0]
	})
	return out
}

// refersTo reports whether a column named col, by its name, holds keys of
// table's primary key column pk.
func refersTo(col, table, pk string) bool {
	col, table, pk = strings.ToLower(col), strings.ToLower(table), strings.ToLower(pk)
	if strings.Contains(pk, "_") && (col == pk || strings.HasSuffix(col, "_"+pk)) {
		return true
	}
	named := strings.TrimSuffix(table, "s") + "_" + pk // users.id: user_id
	return col == named || strings.HasSuffix(col, "_"+named)
}

// kindClass groups the kinds whose values can be equal across tables.
func kindClass(k mysqltype.Kind) string {
	switch k {
	case mysqltype.KindString:
		return "text"
	case mysqltype.KindInt8, mysqltype.KindInt16, mysqltype.KindInt32, mysqltype.KindInt64,
		mysqltype.KindUint8, mysqltype.KindUint16, mysqltype.KindUint32, mysqltype.KindUint64:
		return "integer"
	}
	return ""
}

// checkReference counts from.col's non-NULL values among the table's first
// checkRows rows and those with no row in to (a LEFT JOIN on to's primary
// key: one index lookup per row). Text
// is compared in the key's collation, so that the key's index serves and
// columns of differing collations compare at all.
func checkReference(ctx context.Context, q querier, from *table, col *mysqltype.Column, to *table, key *mysqltype.Column) (values, orphans int64, err error) {
	c, k := "f."+mysqltype.QuoteIdent(col.Name), "t."+mysqltype.QuoteIdent(key.Name)
	on := c
	if col.Collation != key.Collation && key.Collation != "" {
		on += " COLLATE " + key.Collation
	}
	query := fmt.Sprintf("SELECT COUNT(%s), COUNT(%s) - COUNT(%s) FROM (SELECT %s FROM %s LIMIT %d) f LEFT JOIN %s t ON %s = %s",
		c, c, k, mysqltype.QuoteIdent(col.Name), from.qualified(), checkRows, to.qualified(), k, on)
	err = q.QueryRowContext(ctx, query).Scan(&values, &orphans)
	return values, orphans, err
}
