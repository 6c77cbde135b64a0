package mysql

import (
	"context"
	"fmt"
	"strings"

	"github.com/imbundle/imbundle/internal/mysqltype"
	"github.com/imbundle/imbundle/spec"
)

// relations returns the foreign keys between exported tables, and the
// relations declared with --param relations="t(c,..)->u(d,..);...", all as
// declared edges, then the edges discoverRelations finds (unless --param
// discover-relations=false). Foreign keys to tables outside the export are
// left out.
func (s *Source) relations(ctx context.Context, q querier, tables map[string]*table) ([]spec.Relation, error) {
	var out []spec.Relation
	dbs := map[string]bool{}
	for _, t := range tables {
		dbs[t.db] = true
	}
	for db := range dbs {
		// The foreign keys are the key columns with a referenced table that
		// REFERENTIAL_CONSTRAINTS lists. Joined here, not in SQL: MariaDB
		// materialises the joined information_schema views over every
		// database of the server (0.04-0.25 s on a shared server, where each
		// alone takes milliseconds).
		fks, err := mysqltype.StringRows(ctx, q, `SELECT CONSTRAINT_NAME, TABLE_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS
			WHERE CONSTRAINT_SCHEMA = ?`, db)
		if err != nil {
			return nil, fmt.Errorf("read foreign keys of %s: %w", db, err)
		}
		isFK := map[[2]string]bool{}
		for _, r := range fks {
			isFK[[2]string{r[0], r[1]}] = true
		}
		cols, err := mysqltype.StringRows(ctx, q, `SELECT CONSTRAINT_NAME, TABLE_NAME, COLUMN_NAME,
			REFERENCED_TABLE_SCHEMA, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME
			FROM information_schema.KEY_COLUMN_USAGE
			WHERE TABLE_SCHEMA = ? AND REFERENCED_TABLE_NAME IS NOT NULL
			ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION`, db)
		if err != nil {
			return nil, fmt.Errorf("read foreign keys of %s: %w", db, err)
		}
		var cur *spec.Relation
		for _, r := range cols {
			name, tbl, col, rdb, rtbl, rcol := r[0], r[1], r[2], r[3], r[4], r[5]
			if !isFK[[2]string{name, tbl}] || tables[db+"."+tbl] == nil || tables[rdb+"."+rtbl] == nil {
				continue
			}
			from, to := datasetName(db, tbl), datasetName(rdb, rtbl)
			if cur == nil || cur.Name != name || cur.From.Dataset != from {
				out = append(out, spec.Relation{Name: name, From: spec.RelationEnd{Dataset: from}, To: spec.RelationEnd{Dataset: to}, Origin: spec.RelationDeclared})
				cur = &out[len(out)-1]
			}
			cur.From.Columns = append(cur.From.Columns, col)
			cur.To.Columns = append(cur.To.Columns, rcol)
		}
	}
	extra, err := parseRelations(s.opts.Param("relations"), s.dbName, tables)
	if err != nil {
		return nil, err
	}
	out = append(out, extra...)
	switch v := s.opts.Param("discover-relations"); v {
	case "", "true":
		out = append(out, s.discoverRelations(ctx, q, tables, out)...)
	case "false":
	default:
		return nil, fmt.Errorf("--param discover-relations=%q: want true or false", v)
	}
	return out, nil
}

// parseRelations reads "table(col,...)->table(col,...);..." (tables may be
// written database.table) and checks every table and column exists.
func parseRelations(v, defaultDB string, tables map[string]*table) ([]spec.Relation, error) {
	var out []spec.Relation
	for _, item := range strings.Split(v, ";") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		l, r, ok := strings.Cut(item, "->")
		if !ok {
			return nil, fmt.Errorf("--param relations: %q: want table(col,...)->table(col,...)", item)
		}
		from, err := relationEnd(l, defaultDB, tables)
		if err != nil {
			return nil, fmt.Errorf("--param relations: %q: %w", item, err)
		}
		to, err := relationEnd(r, defaultDB, tables)
		if err != nil {
			return nil, fmt.Errorf("--param relations: %q: %w", item, err)
		}
		if len(from.Columns) != len(to.Columns) {
			return nil, fmt.Errorf("--param relations: %q: %d columns on the left, %d on the right", item, len(from.Columns), len(to.Columns))
		}
		out = append(out, spec.Relation{From: from, To: to, Origin: spec.RelationDeclared})
	}
	return out, nil
}

func relationEnd(s, defaultDB string, tables map[string]*table) (spec.RelationEnd, error) {
	s = strings.TrimSpace(s)
	open := strings.IndexByte(s, '(')
	if open < 1 || !strings.HasSuffix(s, ")") {
		return spec.RelationEnd{}, fmt.Errorf("%q: want table(col,...)", s)
	}
	name := strings.TrimSpace(s[:open])
	if !strings.Contains(name, ".") {
		name = defaultDB + "." + name
	}
	t := tables[name]
	if t == nil {
		return spec.RelationEnd{}, fmt.Errorf("table %s is not exported", name)
	}
	var cols []string
	for _, c := range strings.Split(s[open+1:len(s)-1], ",") {
		c = strings.TrimSpace(c)
		if t.column(c) == nil {
			return spec.RelationEnd{}, fmt.Errorf("table %s has no column %q", name, c)
		}
		cols = append(cols, c)
	}
	return spec.RelationEnd{Dataset: datasetName(t.db, t.name), Columns: cols}, nil
}
