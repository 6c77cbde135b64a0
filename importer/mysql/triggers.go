package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"sort"

	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/mysqltype"
	"github.com/imbundle/imbundle/spec"
)

// A trigger on a target table fires for every row the import writes and
// may rewrite it (sakila's customer_create_date sets create_date = NOW()),
// so that the target no longer holds the bundle's values. By default
// Prepare refuses, naming them; with --param triggers=suspend it saves each
// definition in the state schema, drops the trigger for the load, and
// Finish creates it again, under the character set and sql_mode it was
// created with. A resumed run finds the definitions saved by the run it
// resumes, so a trigger dropped by a killed run is still recreated.

// trigger is one trigger on a target table.
type trigger struct {
	db, table, name    string
	order              int
	charset, collation string // character_set_client, collation_connection
}

// targetTriggers lists the triggers on the target tables that exist, per
// table in action order (the order recreating them must keep).
func (t *Target) targetTriggers(ctx context.Context, conn *sql.Conn, p *importer.Plan, exists map[*importer.Item]bool) ([]trigger, error) {
	want := map[[2]string]bool{}
	dbs := map[string]bool{}
	for _, it := range p.Items {
		if exists[it] {
			want[[2]string{it.Namespace, it.Object}] = true
			dbs[it.Namespace] = true
		}
	}
	list := make([]string, 0, len(dbs))
	for db := range dbs {
		list = append(list, db)
	}
	sort.Strings(list)
	var out []trigger
	for _, db := range list {
		rows, err := conn.QueryContext(ctx, `SELECT EVENT_OBJECT_TABLE, TRIGGER_NAME, ACTION_ORDER, CHARACTER_SET_CLIENT, COLLATION_CONNECTION
			FROM information_schema.TRIGGERS WHERE EVENT_OBJECT_SCHEMA = ? ORDER BY EVENT_OBJECT_TABLE, ACTION_ORDER, TRIGGER_NAME`, db)
		if err != nil {
			return nil, fmt.Errorf("%s: list the triggers of %s: %w", t.url, db, err)
		}
		for rows.Next() {
			tr := trigger{db: db}
			if err := rows.Scan(&tr.table, &tr.name, &tr.order, &tr.charset, &tr.collation); err != nil {
				rows.Close()
				return nil, err
			}
			if want[[2]string{db, tr.table}] {
				out = append(out, tr)
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// notCreatedByEarlierRun leaves out of trigs the bundle's own triggers,
// identical to its definitions, that an earlier, interrupted run of this
// import created (planObjects marks them): that run's Finish creates them
// only after every part is loaded, so a resumed --mode fail or append run
// loads nothing they could fire on, and --mode replace drops them with
// their tables. They are not the target's triggers to refuse or suspend.
func (t *Target) notCreatedByEarlierRun(trigs []trigger) []trigger {
	earlier := map[[3]string]bool{}
	for _, po := range t.objects {
		if po.obj.Kind == spec.ObjectTrigger && po.earlier {
			earlier[[3]string{po.ns, po.obj.Table, po.obj.Name}] = true
		}
	}
	out := trigs[:0:0]
	for _, tr := range trigs {
		if !earlier[[3]string{tr.db, tr.table, tr.name}] {
			out = append(out, tr)
		}
	}
	return out
}

// charsetName guards the names interpolated into SET NAMES.
var charsetName = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// setNames puts conn in a trigger's client character set, so that its
// statement is read and run again as the same bytes. The caller discards
// conn afterwards.
func setNames(ctx context.Context, conn *sql.Conn, charset, collation string) error {
	if !charsetName.MatchString(charset) || !charsetName.MatchString(collation) {
		return fmt.Errorf("unexpected character set %q / collation %q", charset, collation)
	}
	_, err := conn.ExecContext(ctx, "SET NAMES "+charset+" COLLATE "+collation)
	return err
}

// suspend saves each trigger's definition in the state schema, then drops
// the triggers. Every definition is saved before any trigger is dropped.
func (t *Target) suspend(ctx context.Context, conn *sql.Conn, bundleID string, trigs []trigger) error {
	for _, tr := range trigs {
		mode, stmt, err := t.showCreateTrigger(ctx, tr)
		if err != nil {
			return fmt.Errorf("%s: save trigger %s.%s.%s: %w; nothing was written", t.url, tr.db, tr.table, tr.name, err)
		}
		save := func() error {
			_, err := conn.ExecContext(ctx, "REPLACE INTO "+t.stateTable(triggersTable)+
				" (bundle_id, db, name, tbl, action_order, sql_mode, character_set_client, collation_connection, statement, saved_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NOW(6))",
				bundleID, tr.db, tr.name, tr.table, tr.order, mode, tr.charset, tr.collation, stmt)
			return err
		}
		err = save()
		for try := 0; stateGone(err) && try < 4; try++ {
			// Dropped by a concurrent import's cleanup since Prepare made it.
			if err = t.createState(ctx, conn); err == nil {
				err = save()
			}
		}
		if err != nil {
			return fmt.Errorf("%s: save trigger %s.%s.%s in %s: %w; nothing was written", t.url, tr.db, tr.table, tr.name, t.stateTable(triggersTable), err)
		}
	}
	for _, tr := range trigs {
		if _, err := conn.ExecContext(ctx, "DROP TRIGGER "+q(tr.db)+"."+q(tr.name)); err != nil {
			return fmt.Errorf("%s: suspend trigger %s.%s.%s: %w (its definition is saved in %s; the next run recreates it)", t.url, tr.db, tr.table, tr.name, err, t.stateTable(triggersTable))
		}
		t.opts.Log.Info("trigger suspended for the load", "trigger", tr.db+"."+tr.table+"."+tr.name)
	}
	return nil
}

// showCreateTrigger returns a trigger's sql_mode and its statement as the
// bytes SHOW CREATE TRIGGER gives under its own character set.
func (t *Target) showCreateTrigger(ctx context.Context, tr trigger) (mode string, stmt []byte, err error) {
	conn, err := t.db.Conn(ctx)
	if err != nil {
		return "", nil, err
	}
	defer conn.Close()
	defer discard(conn)
	if err := setNames(ctx, conn, tr.charset, tr.collation); err != nil {
		return "", nil, err
	}
	rows, err := conn.QueryContext(ctx, "SHOW CREATE TRIGGER "+q(tr.db)+"."+q(tr.name))
	if err != nil {
		return "", nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return "", nil, err
	}
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return "", nil, err
		}
		return "", nil, fmt.Errorf("SHOW CREATE TRIGGER returned nothing")
	}
	vals := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return "", nil, err
	}
	for i, c := range cols {
		switch c {
		case "sql_mode":
			mode = string(vals[i])
		case "SQL Original Statement":
			stmt = append([]byte(nil), vals[i]...)
		}
	}
	if len(stmt) == 0 {
		return "", nil, fmt.Errorf("SHOW CREATE TRIGGER returned no statement (columns %v)", cols)
	}
	return mode, stmt, rows.Err()
}

// savedTrigger is a trigger definition kept in the state schema.
type savedTrigger struct {
	trigger
	mode string
	stmt []byte
}

// restoreTriggers creates again, in their action order, the triggers this
// bundle's import suspended on its tables (by this run or an interrupted
// one) that do not exist now. Their saved rows are deleted with the rest of
// the state once the import has finished.
func (t *Target) restoreTriggers(ctx context.Context, p *importer.Plan) error {
	conn, err := t.db.Conn(ctx)
	if err != nil {
		return mysqltype.StepError(t.cfg, t.url, "connect", err)
	}
	defer conn.Close()
	if ok, err := t.stateExists(ctx, conn, triggersTable); err != nil || !ok {
		return err
	}
	// One query per database; the definitions are then taken in the
	// plan's table order, each table's in action order.
	byTable := map[[2]string][]savedTrigger{}
	read := map[string]bool{}
	for _, it := range p.Items {
		if read[it.Namespace] {
			continue
		}
		read[it.Namespace] = true
		rows, err := conn.QueryContext(ctx, "SELECT tbl, name, action_order, sql_mode, character_set_client, collation_connection, statement FROM "+
			t.stateTable(triggersTable)+" WHERE bundle_id = ? AND db = ? ORDER BY tbl, action_order, name", p.BundleID, it.Namespace)
		if stateGone(err) {
			continue // dropped by another import's cleanup: it held no trigger of ours
		}
		if err != nil {
			return fmt.Errorf("%s: read the suspended triggers: %w", t.url, err)
		}
		for rows.Next() {
			s := savedTrigger{trigger: trigger{db: it.Namespace}}
			if err := rows.Scan(&s.table, &s.name, &s.order, &s.mode, &s.charset, &s.collation, &s.stmt); err != nil {
				rows.Close()
				return err
			}
			k := [2]string{s.db, s.table}
			byTable[k] = append(byTable[k], s)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return err
		}
	}
	var saved []savedTrigger
	for _, it := range p.Items {
		saved = append(saved, byTable[[2]string{it.Namespace, it.Object}]...)
	}
	for _, s := range saved {
		if err := t.createTrigger(ctx, s); err != nil {
			return fmt.Errorf("%s: recreate trigger %s.%s.%s: %w; the rows are loaded and its definition is kept in %s: run the import again to retry, or create it by hand", t.url, s.db, s.table, s.name, err, t.stateTable(triggersTable))
		}
	}
	return nil
}

func (t *Target) createTrigger(ctx context.Context, s savedTrigger) error {
	conn, err := t.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	defer discard(conn)
	var n int
	if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? AND TRIGGER_NAME = ?", s.db, s.name).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil // recreated by an earlier run that failed later
	}
	if _, err := conn.ExecContext(ctx, "USE "+q(s.db)); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "SET SESSION sql_mode = ?", s.mode); err != nil {
		return err
	}
	if err := setNames(ctx, conn, s.charset, s.collation); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, string(s.stmt)); err != nil {
		return err
	}
	t.opts.Log.Info("trigger recreated", "trigger", s.db+"."+s.table+"."+s.name)
	return nil
}
