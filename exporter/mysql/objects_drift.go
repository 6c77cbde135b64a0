package mysql

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/imbundle/imbundle/internal/mysqltype"
	"github.com/imbundle/imbundle/spec"
)

// objectDrift compares the schema objects the manifest recorded for the
// bundle namespaces in namespaces (bundle database -> target database) with
// those the target databases hold, for verify --against. Each line names
// one object (kind, database, name) that is missing, extra or different,
// and how. Only what an import legitimately changes is normalized: the
// database name where a definition qualifies names, and the DEFINER when
// the target's is the verifying user (an import with --param
// definers=strip gives every object the importing user). Accounts the
// bundle carries (--param users=true) must exist; their grants are not
// compared.
func (s *Source) objectDrift(ctx context.Context, m *spec.Manifest, namespaces map[string]string) ([]string, error) {
	engines := map[string]string{}
	for _, src := range m.Sources {
		engines[src.ID] = src.Engine
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", s.url, err)
	}
	defer conn.Close()
	var me string
	if err := conn.QueryRowContext(ctx, "SELECT CURRENT_USER()").Scan(&me); err != nil {
		return nil, fmt.Errorf("%s: %w", s.url, err)
	}

	want := map[string]map[string]spec.Object{} // target db -> kind/name -> bundle object
	var drift, users []string
	for _, o := range m.Objects {
		if engines[o.Source] != mysqltype.Engine {
			continue
		}
		if o.Kind == spec.ObjectUser {
			users = append(users, o.Name)
			continue
		}
		db, ok := namespaces[o.Namespace]
		if !ok {
			continue
		}
		if want[db] == nil {
			want[db] = map[string]spec.Object{}
		}
		want[db][o.Kind+"/"+o.Name] = o
	}
	dbs := make([]string, 0, len(want))
	for db := range want {
		dbs = append(dbs, db)
	}
	for _, db := range namespaces {
		if want[db] == nil {
			want[db] = map[string]spec.Object{}
			dbs = append(dbs, db)
		}
	}
	sort.Strings(dbs)
	for _, db := range dbs {
		var n int
		if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", db).Scan(&n); err != nil {
			return nil, fmt.Errorf("%s: %w", s.url, err)
		}
		if n == 0 {
			if len(want[db]) > 0 {
				drift = append(drift, fmt.Sprintf("database %s: missing on the target, and with it %d schema object(s) of the bundle", db, len(want[db])))
			}
			continue
		}
		// The exporter's session: SHOW CREATE VIEW leaves names in the
		// current database unqualified.
		if _, err := conn.ExecContext(ctx, "USE "+mysqltype.QuoteIdent(db)); err != nil {
			return nil, fmt.Errorf("%s: use database %s: %w", s.url, db, err)
		}
		have, err := mysqltype.ListObjects(ctx, conn, db)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.url, err)
		}
		bundle := want[db]
		for _, cur := range have {
			key := cur.Kind + "/" + cur.Name
			o, ok := bundle[key]
			if !ok {
				drift = append(drift, fmt.Sprintf("%s %s.%s: on the target, not in the bundle", cur.Kind, db, cur.Name))
				continue
			}
			delete(bundle, key)
			if d := objectDifference(o, cur, namespaces, me); d != "" {
				drift = append(drift, fmt.Sprintf("%s %s.%s: %s", cur.Kind, db, cur.Name, d))
			}
		}
		var missing []string
		for _, o := range bundle {
			missing = append(missing, fmt.Sprintf("%s %s.%s: in the bundle, missing on the target", o.Kind, db, o.Name))
		}
		sort.Strings(missing)
		drift = append(drift, missing...)
	}
	for _, u := range users {
		user, host, _ := mysqltype.SplitAccount(u)
		var n int
		if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM mysql.user WHERE User = ? AND Host = ?", user, host).Scan(&n); err != nil {
			return nil, fmt.Errorf("%s: check account %s: %w", s.url, u, err)
		}
		if n == 0 {
			drift = append(drift, fmt.Sprintf("user %s: in the bundle, missing on the target", u))
		}
	}
	return drift, nil
}

// comparable is a definition without what may differ between equal
// objects: the DEFINER clause, and qualifiers of the object's own database.
func comparable(def, db string) string {
	return mysqltype.Unqualified(mysqltype.StripDefiner(def), db)
}

// objectDifference says how the target's object cur differs from the
// bundle's o, or "" when it does not.
func objectDifference(o, cur spec.Object, namespaces map[string]string, me string) string {
	var diffs []string
	def := comparable(mysqltype.RenameSchemas(o.Definition, namespaces), cur.Namespace)
	if have := comparable(cur.Definition, cur.Namespace); def != have {
		diffs = append(diffs, fmt.Sprintf("definition differs (bundle %.200q, target %.200q)", def, have))
	}
	if o.Definer != cur.Definer && cur.Definer != me {
		diffs = append(diffs, fmt.Sprintf("definer %s in the bundle, %s on the target", o.Definer, cur.Definer))
	}
	if o.Table != cur.Table {
		diffs = append(diffs, fmt.Sprintf("on table %s in the bundle, %s on the target", o.Table, cur.Table))
	}
	keys := make([]string, 0, len(o.Options))
	for k := range o.Options {
		keys = append(keys, k)
	}
	for k := range cur.Options {
		if _, ok := o.Options[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if o.Options[k] != cur.Options[k] {
			diffs = append(diffs, fmt.Sprintf("%s %q in the bundle, %q on the target", k, o.Options[k], cur.Options[k]))
		}
	}
	return strings.Join(diffs, "; ")
}
