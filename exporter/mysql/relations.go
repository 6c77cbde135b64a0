package mysql

import (
	"context"
	"fmt"
	"strings"

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
		rows, err := q.QueryContext(ctx, `SELECT k.CONSTRAINT_NAME, k.TABLE_NAME, k.COLUMN_NAME,
			k.REFERENCED_TABLE_SCHEMA, k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME
			FROM information_schema.KEY_COLUMN_USAGE k
			JOIN information_schema.REFERENTIAL_CONSTRAINTS r
			  ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME
			WHERE k.TABLE_SCHEMA = ? AND k.REFERENCED_TABLE_NAME IS NOT NULL
			ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION`, db)
		if err != nil {
			return nil, fmt.Errorf("read foreign keys of %s: %w", db, err)
		}
		var cur *spec.Relation
		for rows.Next() {
			var name, tbl, col, rdb, rtbl, rcol string
			if err := rows.Scan(&name, &tbl, &col, &rdb, &rtbl, &rcol); err != nil {
				rows.Close()
				return nil, err
			}
			if tables[db+"."+tbl] == nil || tables[rdb+"."+rtbl] == nil {
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
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
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
