package mysql

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/imbundle/imbundle/internal/mysqltype"
	"github.com/imbundle/imbundle/spec"
)

// DiffSchema compares, for verify --against, each table's definition on
// this server with the DDL the bundle captured (exporter.SchemaDiffer): the
// SHOW CREATE TABLE texts must be equal, line by line, so that columns and
// their types, indexes and their order, foreign keys, the AUTO_INCREMENT
// counter and the table options all count. Database qualifiers (a foreign
// key's referenced table, a DEFAULT nextval() of a sequence) are mapped
// back to the bundle's names, as the import renamed them.
// Each drifted table gives one line naming what differs; a missing table is
// a drift too.
func (s *Source) DiffSchema(ctx context.Context, m *spec.Manifest, ds []*spec.Dataset) ([]string, error) {
	engines := map[string]string{}
	for _, src := range m.Sources {
		engines[src.ID] = src.Engine
	}
	original := map[string]string{} // dataset name -> the bundle's database
	for i := range m.Datasets {
		original[m.Datasets[i].Name] = m.Datasets[i].Namespace
	}
	back := map[string]string{} // database here -> the bundle's
	for _, d := range ds {
		if o, ok := original[d.Name]; ok && o != s.database(d) {
			back[s.database(d)] = o
		}
	}
	var out []string
	for _, d := range ds {
		if engines[d.Source] != mysqltype.Engine || d.Kind != spec.KindTable || d.DDL == "" {
			continue
		}
		db := s.database(d)
		var n int
		if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?", db, d.Object).Scan(&n); err != nil {
			return nil, fmt.Errorf("%s: look up table %s.%s: %w", s.url, db, d.Object, err)
		}
		if n == 0 {
			out = append(out, fmt.Sprintf("table %s.%s: missing on the target", db, d.Object))
			continue
		}
		got, err := showCreate(ctx, s.db, db, d.Object)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.url, err)
		}
		// The import renamed every database qualifier of the DDL by the
		// same rule (a foreign key's referenced table, a sequence's
		// nextval() in a DEFAULT): map them back to the bundle's names.
		got = mysqltype.RenameSchemas(got, back)
		if diff := ddlDiff(d.DDL, got); diff != "" {
			out = append(out, fmt.Sprintf("table %s.%s: %s", db, d.Object, diff))
		}
	}
	// Views, triggers, routines, events and sequences of the same databases.
	namespaces := map[string]string{} // the bundle's database -> here
	for _, d := range ds {
		if o, ok := original[d.Name]; ok && engines[d.Source] == mysqltype.Engine {
			namespaces[o] = s.database(d)
		}
	}
	objs, err := s.objectDrift(ctx, m, namespaces)
	if err != nil {
		return nil, err
	}
	return append(out, objs...), nil
}

// ddlLine is one line of SHOW CREATE TABLE output and what it defines.
type ddlLine struct {
	what string // "column `a`", "index `k`", "constraint `fk`", "table options", ...
	text string // without the separating comma
}

var (
	columnLine     = regexp.MustCompile("^(`(?:[^`]|``)+`) ")
	keyLine        = regexp.MustCompile("^(?:UNIQUE |FULLTEXT |SPATIAL )?KEY (`(?:[^`]|``)+`)")
	constraintLine = regexp.MustCompile("^CONSTRAINT (`(?:[^`]|``)+`)")
)

func ddlLines(ddl string) []ddlLine {
	var out []ddlLine
	for _, l := range strings.Split(ddl, "\n") {
		l = strings.TrimSuffix(strings.TrimSpace(l), ",")
		if l == "" {
			continue
		}
		what := l
		switch {
		case strings.HasPrefix(l, "CREATE TABLE "):
			what = "table name"
		case strings.HasPrefix(l, ")"):
			what = "table options"
		case strings.HasPrefix(l, "PRIMARY KEY"):
			what = "primary key"
		case columnLine.MatchString(l):
			what = "column " + columnLine.FindStringSubmatch(l)[1]
		case keyLine.MatchString(l):
			what = "index " + keyLine.FindStringSubmatch(l)[1]
		case constraintLine.MatchString(l):
			what = "constraint " + constraintLine.FindStringSubmatch(l)[1]
		}
		out = append(out, ddlLine{what: what, text: l})
	}
	return out
}

// ddlDiff describes how the target's DDL differs from the bundle's, or
// returns "" when they are equal: each object defined otherwise, missing on
// the target or not in the bundle, or else the first place where the order
// of the lines differs.
func ddlDiff(bundle, target string) string {
	b, t := ddlLines(bundle), ddlLines(target)
	inTarget := map[string]string{}
	for _, l := range t {
		inTarget[l.what] = l.text
	}
	inBundle := map[string]string{}
	var parts []string
	for _, l := range b {
		inBundle[l.what] = l.text
		got, ok := inTarget[l.what]
		switch {
		case !ok:
			parts = append(parts, fmt.Sprintf("%s missing on the target (bundle: %s)", l.what, l.text))
		case got != l.text:
			parts = append(parts, fmt.Sprintf("%s differs (bundle: %s; target: %s)", l.what, l.text, got))
		}
	}
	for _, l := range t {
		if _, ok := inBundle[l.what]; !ok {
			parts = append(parts, fmt.Sprintf("%s not in the bundle (target: %s)", l.what, l.text))
		}
	}
	if len(parts) > 0 {
		return strings.Join(parts, "; ")
	}
	for i := range b {
		if i >= len(t) || b[i].what != t[i].what {
			other := "nothing"
			if i < len(t) {
				other = t[i].what
			}
			return fmt.Sprintf("order differs at line %d: bundle has %s, target %s", i+1, b[i].what, other)
		}
	}
	if len(t) != len(b) {
		return fmt.Sprintf("the target's definition has %d lines, the bundle's %d", len(t), len(b))
	}
	return ""
}
