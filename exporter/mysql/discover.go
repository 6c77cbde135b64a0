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
// that discovery costs about a second however large the tables are. A
// table family (shards t_x_0..t_x_N) shares one such budget.
const checkRows = 100_000

// minFamilyCheckRows is the least a family member's check reads.
const minFamilyCheckRows = 1_000

// maxCandidates bounds the checks of one export: past it, discovery stops
// and says so. A count, not a time budget, so that the same database gives
// the same bundle however busy the server is.
const maxCandidates = 2_000

// discoverRelations infers the edges no constraint declares (OpenIM's and
// WildfireChat's schemas declare none). A candidate is a column whose name
// says it holds another exported table's single-column primary key —
// named like a compound key (user_id) or ending in "_" + it
// (owner_user_id), or, for a one-word key (id, name), named after the
// table (user_id or owner_user_id for users.id) — and whose values are of
// the same kind (text or integer). Each candidate is checked against the
// snapshot with one anti-join over its first checkRows rows (shared among
// the members of a table family); it is kept as
// "discovered", with its counts, when some of its values match and at most
// maxOrphanShare do not. Candidates already declared are skipped, and so
// are those whose referenced table is one shard of a family (its keys are
// spread over the family: no one shard holds the referenced set); at most
// maxCandidates are checked. A check the server refuses is logged and
// skipped.
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
	families := tableFamilies(tables)
	type candidate struct {
		from *table
		col  *mysqltype.Column
		to   *table
		key  *mysqltype.Column
		rows int
	}
	began := time.Now()
	// Every table's column names, lower-cased once: the candidates are
	// every (column, other table) pair, 880,000 on WildfireChat's 297 tables.
	lower := map[*table][]string{}
	for _, t := range tables {
		for _, c := range t.cols {
			lower[t] = append(lower[t], strings.ToLower(c.Name))
		}
	}
	var cands []candidate
	skippedShards := 0
	for _, tn := range names {
		to := tables[tn]
		if len(to.pk) != 1 {
			continue
		}
		key := to.column(to.pk[0])
		if key == nil || kindClass(key.Kind) == "" {
			continue
		}
		ref := newReference(to.name, key.Name)
		for _, fn := range names {
			from := tables[fn]
			if from == to {
				continue
			}
			for i := range from.cols {
				c := &from.cols[i]
				if c.Generated != "" || !ref.matches(lower[from][i]) || kindClass(c.Kind) != kindClass(key.Kind) {
					continue
				}
				if have[datasetName(from.db, from.name)+"("+c.Name+")"] {
					continue
				}
				if families[to] > 1 {
					// The keys are spread over the shards of a family: one
					// shard is never the whole referenced set.
					skippedShards++
					continue
				}
				rows := checkRows
				if n := families[from]; n > 1 {
					rows = max(checkRows/n, minFamilyCheckRows)
				}
				cands = append(cands, candidate{from, c, to, key, rows})
			}
		}
	}
	s.opts.Log.Info("discovering relations", "candidates", len(cands), "shard_targets_skipped", skippedShards, "tables", len(tables))
	if len(cands) > maxCandidates {
		s.opts.Log.Warn("relation discovery checks only the first candidates; declare the rest with --param relations=, or turn discovery off with --param discover-relations=false",
			"checked", maxCandidates, "candidates", len(cands))
		cands = cands[:maxCandidates]
	}
	var out []spec.Relation
	for _, cd := range cands {
		fromDS, toDS := datasetName(cd.from.db, cd.from.name), datasetName(cd.to.db, cd.to.name)
		start := time.Now()
		values, orphans, err := checkReference(ctx, q, cd.from, cd.col, cd.to, cd.key, cd.rows)
		if err != nil {
			s.opts.Log.Info("relation candidate not checked", "from", fromDS+"("+cd.col.Name+")", "to", toDS+"("+cd.key.Name+")", "error", err)
			continue
		}
		keep := values > orphans && float64(orphans) <= maxOrphanShare*float64(values)
		s.opts.Log.Debug("relation candidate", "from", fromDS+"("+cd.col.Name+")", "to", toDS+"("+cd.key.Name+")",
			"values", values, "orphans", orphans, "kept", keep, "elapsed_s", time.Since(start).Seconds())
		if keep {
			out = append(out, spec.Relation{
				From:    spec.RelationEnd{Dataset: fromDS, Columns: []string{cd.col.Name}},
				To:      spec.RelationEnd{Dataset: toDS, Columns: []string{cd.key.Name}},
				Origin:  spec.RelationDiscovered,
				Checked: &spec.RelationCheck{Values: values, Orphans: orphans},
			})
		}
	}
	// elapsed_s is the whole of discovery, finding the candidates included.
	s.opts.Log.Info("relations discovered", "kept", len(out), "checked", len(cands), "elapsed_s", time.Since(began).Seconds())
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].From, out[j].From
		return a.Dataset < b.Dataset || a.Dataset == b.Dataset && a.Columns[0] < b.Columns[0]
	})
	return out
}

// tableFamilies counts, for each table, the tables of its database whose
// names differ from its own only in a trailing number (t_messages_0 ..
// t_messages_35): shards of one logical table, to a human and to
// discovery. A table outside any family counts 1.
func tableFamilies(tables map[string]*table) map[*table]int {
	members := map[string]int{}
	base := func(t *table) string {
		n := strings.TrimRight(t.name, "0123456789")
		if n == t.name || n == "" {
			return ""
		}
		return t.db + "\x00" + strings.ToLower(n)
	}
	for _, t := range tables {
		if b := base(t); b != "" {
			members[b]++
		}
	}
	out := map[*table]int{}
	for _, t := range tables {
		out[t] = 1
		if b := base(t); b != "" && members[b] > 1 {
			out[t] = members[b]
		}
	}
	return out
}

// reference is what the name of a column holding keys of one table's
// primary key column looks like, lower-cased.
type reference struct {
	pk, named string // pk "" when it is one word
}

func newReference(table, pk string) reference {
	table, pk = strings.ToLower(table), strings.ToLower(pk)
	r := reference{named: strings.TrimSuffix(table, "s") + "_" + pk} // users.id: user_id
	if strings.Contains(pk, "_") {
		r.pk = pk
	}
	return r
}

// matches reports whether a column named col (lower-cased), by its name,
// holds keys of the reference's table: named like a compound key or
// ending in "_" + it, or named after the table.
func (r reference) matches(col string) bool {
	return r.pk != "" && suffixWord(col, r.pk) || suffixWord(col, r.named)
}

// suffixWord: s is w, or ends in "_" + w.
func suffixWord(s, w string) bool {
	return s == w || len(s) > len(w) && strings.HasSuffix(s, w) && s[len(s)-len(w)-1] == '_'
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
func checkReference(ctx context.Context, q querier, from *table, col *mysqltype.Column, to *table, key *mysqltype.Column, limit int) (values, orphans int64, err error) {
	c, k := "f."+mysqltype.QuoteIdent(col.Name), "t."+mysqltype.QuoteIdent(key.Name)
	on := c
	if col.Collation != key.Collation && key.Collation != "" {
		on += " COLLATE " + key.Collation
	}
	query := fmt.Sprintf("SELECT COUNT(%s), COUNT(%s) - COUNT(%s) FROM (SELECT %s FROM %s LIMIT %d) f LEFT JOIN %s t ON %s = %s",
		c, c, k, mysqltype.QuoteIdent(col.Name), from.qualified(), limit, to.qualified(), k, on)
	err = q.QueryRowContext(ctx, query).Scan(&values, &orphans)
	return values, orphans, err
}
