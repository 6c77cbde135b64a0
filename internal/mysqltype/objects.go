package mysqltype

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"

	"github.com/imbundle/imbundle/spec"
)

// Querier is a *sql.DB, *sql.Conn or *sql.Tx.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Object option keys (spec.Object.Options). The session settings are those
// the server recorded with the object: they change how its body parses and
// runs, so a target creates it under the same ones.
const (
	OptSQLMode           = "sql_mode"
	OptCharsetClient     = "character_set_client"
	OptCollationConn     = "collation_connection"
	OptDatabaseCollation = "database_collation"
	OptTimeZone          = "time_zone"             // events
	OptActionOrder       = "action_order"          // triggers, within table, timing and event
	OptNextValue         = "next_not_cached_value" // sequences: the value SETVAL restores
	OptCycleCount        = "cycle_count"           // sequences
	OptGrants            = "grants"                // users: SHOW GRANTS, one statement a line
)

// ListObjects reads the schema objects of database db in an order a target
// can create them in: sequences (a table's DEFAULT may call one), functions
// (a view may call one), procedures, views (each after the views it reads),
// triggers (per table, timing and event in action order), events. A view's
// sql_mode is "": SHOW CREATE VIEW prints the server's canonical text under
// the session's mode, which is empty on imbundle's connections.
//
// Definitions are read as UTF-8 (character_set_results utf8mb4 for the
// while, then back to the session's): the server keeps a trigger's or
// routine's text in its character_set_client, and under
// character_set_results=binary would return a latin1 body as latin1 bytes,
// which are no JSON string. ObjectText converts it back for a target.
func ListObjects(ctx context.Context, conn *sql.Conn, db string) ([]spec.Object, error) {
	var prev sql.NullString
	if err := conn.QueryRowContext(ctx, "SELECT @@SESSION.character_set_results").Scan(&prev); err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, "SET SESSION character_set_results = utf8mb4"); err != nil {
		return nil, err
	}
	restore := "NULL"
	if prev.Valid {
		restore = QuoteIdent(prev.String)
	}
	defer conn.ExecContext(context.Background(), "SET SESSION character_set_results = "+restore)
	var q Querier = conn
	var out []spec.Object
	for _, read := range []func(context.Context, Querier, string) ([]spec.Object, error){
		readSequences, readRoutines, readViews, readTriggers, readEvents,
	} {
		objs, err := read(ctx, q, db)
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
	return out, nil
}

// StringRows runs a query and returns every row's columns as strings
// (NULL as "").
func StringRows(ctx context.Context, q Querier, query string, args ...any) ([][]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out [][]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = v.String
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

// showCreate runs a SHOW CREATE statement and returns its single row by
// lower-cased column name. A NULL column (the body of a routine the user
// may not read) is missing from the map.
func showCreate(ctx context.Context, q Querier, stmt string) (map[string]string, error) {
	rows, err := q.QueryContext(ctx, stmt)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%s returned no row", stmt)
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for i, c := range cols {
		if vals[i].Valid {
			out[strings.ToLower(c)] = vals[i].String
		}
	}
	return out, rows.Err()
}

// sessionOptions copies the recorded session settings of a SHOW CREATE row.
func sessionOptions(row map[string]string) map[string]string {
	o := map[string]string{}
	for k, opt := range map[string]string{
		"sql_mode": OptSQLMode, "character_set_client": OptCharsetClient,
		"collation_connection": OptCollationConn, "database collation": OptDatabaseCollation,
		"time_zone": OptTimeZone,
	} {
		if v, ok := row[k]; ok {
			o[opt] = v
		}
	}
	return o
}

func qualified(db, name string) string { return QuoteIdent(db) + "." + QuoteIdent(name) }

func readSequences(ctx context.Context, q Querier, db string) ([]spec.Object, error) {
	list, err := StringRows(ctx, q, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'SEQUENCE' ORDER BY TABLE_NAME", db)
	if err != nil {
		return nil, fmt.Errorf("list sequences of %s: %w", db, err)
	}
	var out []spec.Object
	for _, r := range list {
		name := r[0]
		row, err := showCreate(ctx, q, "SHOW CREATE SEQUENCE "+qualified(db, name))
		if err != nil {
			return nil, fmt.Errorf("sequence %s.%s: %w", db, name, err)
		}
		o := spec.Object{Kind: spec.ObjectSequence, Namespace: db, Name: name, Definition: row["create table"], Options: map[string]string{}}
		// Read, not NEXTVAL: the export must not advance the source's
		// sequence. next_not_cached_value is what mariadb-dump restores too.
		var next, cycles string
		if err := q.QueryRowContext(ctx, "SELECT next_not_cached_value, cycle_count FROM "+qualified(db, name)).Scan(&next, &cycles); err != nil {
			return nil, fmt.Errorf("sequence %s.%s: read its value: %w", db, name, err)
		}
		o.Options[OptNextValue], o.Options[OptCycleCount] = next, cycles
		out = append(out, o)
	}
	return out, nil
}

func readRoutines(ctx context.Context, q Querier, db string) ([]spec.Object, error) {
	// FUNCTION before PROCEDURE: a view may call a function. Oracle-mode
	// PACKAGEs are not read here (the exporter counts them as uncarried).
	list, err := StringRows(ctx, q, `SELECT ROUTINE_NAME, ROUTINE_TYPE, DEFINER FROM information_schema.ROUTINES
		WHERE ROUTINE_SCHEMA = ? AND ROUTINE_TYPE IN ('FUNCTION', 'PROCEDURE') ORDER BY ROUTINE_TYPE, ROUTINE_NAME`, db)
	if err != nil {
		return nil, fmt.Errorf("list routines of %s: %w", db, err)
	}
	var out []spec.Object
	for _, r := range list {
		name, typ, definer := r[0], r[1], r[2]
		row, err := showCreate(ctx, q, "SHOW CREATE "+typ+" "+qualified(db, name))
		if err != nil {
			return nil, fmt.Errorf("%s %s.%s: %w", strings.ToLower(typ), db, name, err)
		}
		def, ok := row["create "+strings.ToLower(typ)]
		if !ok {
			return nil, fmt.Errorf("%s %s.%s: the server shows no body to this user; grant it SELECT on mysql.proc (MariaDB) or SHOW_ROUTINE (MySQL 8), or have the routine's definer export", strings.ToLower(typ), db, name)
		}
		out = append(out, spec.Object{Kind: strings.ToLower(typ), Namespace: db, Name: name, Definer: definer, Definition: def, Options: sessionOptions(row)})
	}
	return out, nil
}

func readViews(ctx context.Context, q Querier, db string) ([]spec.Object, error) {
	views, err := readShown(ctx, q, db, "VIEW", "SELECT TABLE_NAME, DEFINER FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME",
		func(r []string, row map[string]string) spec.Object {
			o := spec.Object{Kind: spec.ObjectView, Namespace: db, Name: r[0], Definer: r[1], Definition: row["create view"], Options: sessionOptions(row)}
			o.Options[OptSQLMode] = ""
			return o
		})
	return viewOrder(views), err
}

// readShown lists one kind of object with list (its name first), reads each
// with SHOW CREATE, and builds the object from both.
func readShown(ctx context.Context, q Querier, db, kind, list string, build func(r []string, row map[string]string) spec.Object) ([]spec.Object, error) {
	names, err := StringRows(ctx, q, list, db)
	if err != nil {
		return nil, fmt.Errorf("list %ss of %s: %w", strings.ToLower(kind), db, err)
	}
	var out []spec.Object
	for _, r := range names {
		row, err := showCreate(ctx, q, "SHOW CREATE "+kind+" "+qualified(db, r[0]))
		if err != nil {
			return nil, fmt.Errorf("%s %s.%s: %w", strings.ToLower(kind), db, r[0], err)
		}
		out = append(out, build(r, row))
	}
	return out, nil
}

// viewOrder sorts views so that each comes after the views its definition
// names (MariaDB has no VIEW_TABLE_USAGE). A definition names a view when a
// quoted identifier of it equals the view's name: SHOW CREATE VIEW quotes
// every identifier. A column that happens to be named like a view only adds
// an edge; were that to close a cycle, the rest keep name order.
func viewOrder(views []spec.Object) []spec.Object {
	byName := map[string]int{}
	for i, v := range views {
		byName[v.Name] = i
	}
	deps := make([]map[int]bool, len(views))
	for i, v := range views {
		deps[i] = map[int]bool{}
		for _, id := range QuotedIdents(v.Definition) {
			if j, ok := byName[id]; ok && j != i {
				deps[i][j] = true
			}
		}
	}
	done := make([]bool, len(views))
	var out []spec.Object
	for len(out) < len(views) {
		progress := false
		for i := range views {
			if done[i] {
				continue
			}
			ready := true
			for j := range deps[i] {
				if !done[j] {
					ready = false
					break
				}
			}
			if ready {
				done[i], progress = true, true
				out = append(out, views[i])
			}
		}
		if !progress {
			for i := range views {
				if !done[i] {
					done[i] = true
					out = append(out, views[i])
				}
			}
		}
	}
	return out
}

func readTriggers(ctx context.Context, q Querier, db string) ([]spec.Object, error) {
	return readShown(ctx, q, db, "TRIGGER", `SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE, DEFINER, ACTION_ORDER FROM information_schema.TRIGGERS
		WHERE TRIGGER_SCHEMA = ? ORDER BY EVENT_OBJECT_TABLE, EVENT_MANIPULATION, ACTION_TIMING, ACTION_ORDER`,
		func(r []string, row map[string]string) spec.Object {
			o := spec.Object{Kind: spec.ObjectTrigger, Namespace: db, Name: r[0], Table: r[1], Definer: r[2], Definition: StripTriggerOrder(row["sql original statement"]), Options: sessionOptions(row)}
			o.Options[OptActionOrder] = r[3]
			return o
		})
}

func readEvents(ctx context.Context, q Querier, db string) ([]spec.Object, error) {
	return readShown(ctx, q, db, "EVENT", "SELECT EVENT_NAME, DEFINER FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ? ORDER BY EVENT_NAME",
		func(r []string, row map[string]string) spec.Object {
			return spec.Object{Kind: spec.ObjectEvent, Namespace: db, Name: r[0], Definer: r[1], Definition: row["create event"], Options: sessionOptions(row)}
		})
}

// utf8Client are the character_set_client values whose text is UTF-8.
var utf8Client = map[string]bool{"utf8mb4": true, "utf8mb3": true, "utf8": true, "ascii": true}

// ObjectText returns an object's definition (UTF-8, as ListObjects read it)
// encoded in the character set the object was created under, so that a
// session with that character_set_client sends what the source's client
// sent: the server then records the same text and character set. The
// conversion is the server's own (CONVERT ... USING).
func ObjectText(ctx context.Context, conn *sql.Conn, o spec.Object) (string, error) {
	cs := strings.ToLower(o.Options[OptCharsetClient])
	if cs == "" || utf8Client[cs] {
		return o.Definition, nil
	}
	var b []byte
	if err := conn.QueryRowContext(ctx, "SELECT CAST(CONVERT(CAST(? AS CHAR CHARACTER SET utf8mb4) USING "+QuoteIdent(cs)+") AS BINARY)", o.Definition).Scan(&b); err != nil {
		return "", fmt.Errorf("%s %s: convert its definition to %s: %w", o.Kind, o.Name, cs, err)
	}
	return string(b), nil
}

// SortObjects puts objects of several databases in creation order: by kind
// in ListObjects' order, keeping each kind's relative order.
func SortObjects(objs []spec.Object) {
	rank := map[string]int{spec.ObjectUser: 0, spec.ObjectSequence: 1, spec.ObjectFunction: 2, spec.ObjectProcedure: 3, spec.ObjectView: 4, spec.ObjectTrigger: 5, spec.ObjectEvent: 6}
	sort.SliceStable(objs, func(i, j int) bool { return rank[objs[i].Kind] < rank[objs[j].Kind] })
}
