package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/go-sql-driver/mysql"

	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/mysqltype"
	"github.com/imbundle/imbundle/internal/scheme"
	"github.com/imbundle/imbundle/spec"
)

// Schema objects (SPEC.md §7.7) are restored after the data, so that no
// trigger fires on an imported row and no event runs against half-loaded
// tables: Finish creates them in the manifest's order. Sequences are the
// exception: a table's DEFAULT may call one, and CREATE TABLE fails unless
// it exists, so Prepare creates them before the tables. Prepare also
// decides, before anything is written, what happens to each object: the
// mode's refusals and the DEFINER check fail the import there.

// DEFINER handling (--param definers=...).
const (
	definersKeep  = "keep"  // as in the bundle; an account missing on the target is an error
	definersStrip = "strip" // DEFINER clauses removed: the importing user becomes the definer
)

// checkDefinersParam refuses a bad --param definers value when the target
// is opened.
func checkDefinersParam(opts importer.Options) error {
	switch v := opts.Param("definers"); v {
	case "", definersKeep, definersStrip:
		return nil
	default:
		return scheme.Usagef("--param definers=%q: want keep (the default: a DEFINER missing on the target is an error) or strip (the importing user becomes the definer)", v)
	}
}

// Server errors planObjects tells apart.
const (
	erBadDB = 1049
)

// plannedObject is one bundle object as this import will restore it.
type plannedObject struct {
	obj    spec.Object
	ns     string   // target database ("" for a user)
	def    string   // the statement to run: database renamed, DEFINER stripped
	grants []string // a user's GRANTs, database renamed, IDENTIFIED dropped
	drop   bool     // --mode replace and the target has one: drop it first
	skip   bool     // the target has an identical one already
	// setOnly: the target has an identical sequence, unused: Prepare sets
	// its value and does not create it.
	setOnly bool
	// earlier: the target's identical one was created by an earlier,
	// interrupted run of this same import (it loaded parts into po.ns).
	earlier bool
}

// grantIdentified matches the IDENTIFIED clause MariaDB's SHOW GRANTS adds
// to an account's first GRANT: run again, it would reset the password of an
// account the target already had.
var grantIdentified = regexp.MustCompile(`\s+IDENTIFIED\s+(?:BY\s+PASSWORD\s+'[^']*'|VIA\s+\S+(?:\s+(?:USING|AS)\s+'[^']*')?(?:\s+OR\s+\S+(?:\s+(?:USING|AS)\s+'[^']*')?)*)`)

// planObjects maps the bundle's MySQL objects to the target databases of
// p's items, rewrites their definitions, and refuses, naming them, the
// objects the mode does not allow and DEFINERs the target lacks. It writes
// nothing.
func (t *Target) planObjects(ctx context.Context, conn *sql.Conn, p *importer.Plan) error {
	t.objects = nil
	mode := t.opts.Param("definers")
	if mode == "" {
		mode = definersKeep
	}
	renames := map[string]string{}
	tables := map[string]bool{} // bundle "db.table" loaded by this import
	for _, it := range p.Items {
		renames[it.Dataset.Namespace] = it.Namespace
		tables[it.Dataset.Namespace+"."+it.Dataset.Object] = true
	}
	engines := map[string]string{}
	for _, s := range p.Manifest.Sources {
		engines[s.ID] = s.Engine
	}
	var leftOut []string
	carriedUsers := map[string]bool{}
	for _, o := range p.Manifest.Objects {
		if engines[o.Source] != mysqltype.Engine {
			continue
		}
		po := &plannedObject{obj: o, def: mysqltype.RenameSchemas(o.Definition, renames)}
		switch o.Kind {
		case spec.ObjectUser:
			carriedUsers[o.Name] = true
			for _, g := range strings.Split(o.Options[mysqltype.OptGrants], "\n") {
				if g != "" {
					po.grants = append(po.grants, grantIdentified.ReplaceAllString(mysqltype.RenameSchemas(g, renames), ""))
				}
			}
		case spec.ObjectSequence, spec.ObjectView, spec.ObjectFunction, spec.ObjectProcedure, spec.ObjectTrigger, spec.ObjectEvent:
			ns, ok := renames[o.Namespace]
			if !ok || o.Kind == spec.ObjectTrigger && !tables[o.Namespace+"."+o.Table] {
				leftOut = append(leftOut, o.Kind+" "+o.Namespace+"."+o.Name)
				continue
			}
			po.ns = ns
			if mode == definersStrip {
				po.def = mysqltype.StripDefiner(po.def)
			}
		default:
			return fmt.Errorf("the bundle holds a MySQL %s %q, a kind this imbundle does not know; nothing was written. Import with a newer imbundle", o.Kind, o.Name)
		}
		t.objects = append(t.objects, po)
	}
	if len(leftOut) > 0 {
		t.opts.Log.Warn("schema objects not restored: this import loads no table of their database (or, for a trigger, its table)", "objects", strings.Join(leftOut, ", "))
	}
	if len(t.objects) == 0 {
		return nil
	}
	if err := t.checkDefiners(ctx, conn, mode, carriedUsers); err != nil {
		return err
	}
	return t.checkExisting(ctx, conn, p, mode)
}

// checkDefiners refuses, by name, DEFINER accounts that neither the target
// nor the bundle (--param users=true) has: the server would refuse the
// object, or create one nobody can run, after the data is loaded.
func (t *Target) checkDefiners(ctx context.Context, conn *sql.Conn, mode string, carried map[string]bool) error {
	if mode == definersStrip {
		return nil
	}
	users := map[string][]string{} // definer -> objects
	var order []string
	for _, po := range t.objects {
		d := po.obj.Definer
		if d == "" || po.obj.Kind == spec.ObjectUser || carried[d] {
			continue
		}
		if users[d] == nil {
			order = append(order, d)
		}
		users[d] = append(users[d], po.obj.Kind+" "+po.obj.Namespace+"."+po.obj.Name)
	}
	var missing []string
	for _, d := range order {
		user, host, _ := mysqltype.SplitAccount(d)
		var n int
		if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM mysql.user WHERE User = ? AND Host = ?", user, host).Scan(&n); err != nil {
			return fmt.Errorf("%s: check that DEFINER %s exists: %w; nothing was written. Grant the importing user SELECT on mysql.user, or import with --param definers=strip", t.url, d, err)
		}
		if n == 0 {
			missing = append(missing, fmt.Sprintf("%s (%s)", d, strings.Join(users[d], ", ")))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("DEFINER account(s) missing on the target: %s; nothing was written. Create them, export with --param users=true to carry them, or import with --param definers=strip to make the importing user the definer", strings.Join(missing, "; "))
	}
	return nil
}

// checkExisting compares the bundle's objects with those the target
// databases already hold: --mode fail refuses any (except identical ones
// left by an earlier run of this same import), append refuses differing
// ones and leaves identical ones, replace drops and recreates them.
func (t *Target) checkExisting(ctx context.Context, conn *sql.Conn, p *importer.Plan, mode string) error {
	existing := map[string]map[string]spec.Object{} // target db -> kind/name -> object
	var me string
	if err := conn.QueryRowContext(ctx, "SELECT CURRENT_USER()").Scan(&me); err != nil {
		return err
	}
	var exists, differs []string
	for _, po := range t.objects {
		if po.obj.Kind == spec.ObjectUser {
			continue // CREATE USER IF NOT EXISTS: an account is never replaced
		}
		have, ok := existing[po.ns]
		if !ok {
			var err error
			if have, err = t.targetObjects(ctx, conn, po.ns); err != nil {
				return err
			}
			existing[po.ns] = have
		}
		cur, ok := have[objectKey(po.obj.Kind, po.obj.Name)]
		if !ok {
			continue
		}
		name := po.obj.Kind + " " + po.ns + "." + po.obj.Name
		same := sameObject(po, cur, mode, me)
		po.earlier = same && t.resumed(ctx, conn, p, po.ns)
		switch p.Mode {
		case importer.ModeReplace:
			po.drop = true
		case importer.ModeAppend:
			if !same {
				differs = append(differs, name)
			}
			po.skip = true
		default:
			if po.earlier || po.obj.Kind == spec.ObjectSequence && same && sameSequenceValue(po.obj, cur) {
				// A sequence is created by Prepare, before any part is
				// committed: a run stopped in between left it with no
				// progress row. At the bundle's value it is what this
				// import would create, as an empty table is.
				po.skip = true
				continue
			}
			if po.obj.Kind == spec.ObjectSequence && same && unusedSequence(cur) {
				// Never used, at its start value (a run stopped between
				// CREATE SEQUENCE and SETVAL, or one created as an empty
				// table is): it is set to the bundle's value.
				po.setOnly = true
				continue
			}
			exists = append(exists, name)
		}
	}
	if len(exists) > 0 {
		return fmt.Errorf("the target already has schema object(s) %s; nothing was written. Use --mode replace to drop and recreate them, --mode append to keep identical ones, or import into another database", strings.Join(exists, ", "))
	}
	if len(differs) > 0 {
		return fmt.Errorf("the target's schema object(s) %s differ from the bundle's; nothing was written. Use --mode replace to drop and recreate them, or import into another database", strings.Join(differs, ", "))
	}
	return nil
}

func objectKey(kind, name string) string { return kind + "/" + name }

// sequenceStart is the start value in SHOW CREATE SEQUENCE's text.
var sequenceStart = regexp.MustCompile(`(?i)\bstart with (-?[0-9]+)\b`)

// unusedSequence reports whether the target's sequence cur is at its start
// value and never cycled: no NEXTVAL or SETVAL has moved it.
func unusedSequence(cur spec.Object) bool {
	m := sequenceStart.FindStringSubmatch(cur.Definition)
	return m != nil && cur.Options[mysqltype.OptNextValue] == m[1] && cur.Options[mysqltype.OptCycleCount] == "0"
}

// sameSequenceValue reports whether the target's sequence cur holds the
// value the import would set the bundle's o to (createSequences).
func sameSequenceValue(o, cur spec.Object) bool {
	next, cycles := o.Options[mysqltype.OptNextValue], o.Options[mysqltype.OptCycleCount]
	if cycles == "" {
		cycles = "0"
	}
	return next != "" && cur.Options[mysqltype.OptNextValue] == next && cur.Options[mysqltype.OptCycleCount] == cycles
}

// sameObject reports whether the target's object cur is the one po would
// create: the same definition apart from the DEFINER clause and qualifiers
// of its own database, and the same definer (the importing user's, with
// definers=strip).
func sameObject(po *plannedObject, cur spec.Object, mode, me string) bool {
	definer := po.obj.Definer
	if mode == definersStrip {
		definer = me
	}
	same := func(def string) string { return mysqltype.Unqualified(mysqltype.StripDefiner(def), po.ns) }
	if definer != cur.Definer || same(po.def) != same(cur.Definition) || po.obj.Table != cur.Table {
		return false
	}
	for _, k := range []string{mysqltype.OptSQLMode, mysqltype.OptCharsetClient, mysqltype.OptCollationConn} {
		if po.obj.Options[k] != cur.Options[k] {
			return false
		}
	}
	return true
}

// targetObjects reads the objects of a target database, as the exporter
// reads a source's (same session: an empty sql_mode, the database current), so
// that they compare with the bundle's. A database that does not exist has
// none.
func (t *Target) targetObjects(ctx context.Context, conn *sql.Conn, db string) (map[string]spec.Object, error) {
	out := map[string]spec.Object{}
	if _, err := conn.ExecContext(ctx, "SET SESSION sql_mode = ''"); err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, "USE "+q(db)); err != nil {
		var me *mysql.MySQLError
		if errors.As(err, &me) && me.Number == erBadDB {
			return out, nil
		}
		return nil, fmt.Errorf("%s: use database %s: %w", t.url, db, err)
	}
	objs, err := mysqltype.ListObjects(ctx, conn, db)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.url, err)
	}
	for _, o := range objs {
		out[objectKey(o.Kind, o.Name)] = o
	}
	return out, nil
}

// resumed reports whether an earlier run of this bundle loaded parts into
// db: the objects it finds there may be that run's.
func (t *Target) resumed(ctx context.Context, conn *sql.Conn, p *importer.Plan, db string) bool {
	for _, it := range p.Items {
		if it.Namespace != db {
			continue
		}
		if ok, err := t.hasProgress(ctx, conn, p.BundleID, it); err == nil && ok {
			return true
		}
	}
	return false
}

// createSequences creates the bundle's sequences (Prepare, before the
// tables) and sets each to its exported value.
func (t *Target) createSequences(ctx context.Context, conn *sql.Conn) error {
	for _, po := range t.objects {
		if po.obj.Kind != spec.ObjectSequence || po.skip {
			continue
		}
		if !po.setOnly {
			if err := t.createObject(ctx, conn, po); err != nil {
				return err
			}
		}
		next, cycles := po.obj.Options[mysqltype.OptNextValue], po.obj.Options[mysqltype.OptCycleCount]
		if next == "" {
			continue
		}
		if cycles == "" {
			cycles = "0"
		}
		// is_used = 0: next_not_cached_value is the next value NEXTVAL gives.
		if _, err := conn.ExecContext(ctx, "SELECT SETVAL("+q(po.ns)+"."+q(po.obj.Name)+", "+next+", 0, "+cycles+")"); err != nil {
			return fmt.Errorf("sequence %s.%s: set its value to %s: %w", po.ns, po.obj.Name, next, err)
		}
	}
	return nil
}

// createObjects restores every object but the sequences, in the bundle's
// order, once the data and its indexes are in place (Finish).
func (t *Target) createObjects(ctx context.Context) error {
	if len(t.objects) == 0 {
		return nil
	}
	conn, err := t.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", t.url, err)
	}
	defer conn.Close()
	created := 0
	for _, po := range t.objects {
		if po.obj.Kind == spec.ObjectSequence || po.skip {
			continue
		}
		if po.obj.Kind == spec.ObjectUser {
			err = t.createUser(ctx, conn, po)
		} else {
			err = t.createObject(ctx, conn, po)
		}
		if err != nil {
			return err
		}
		created++
	}
	t.opts.Log.Info("schema objects created", "objects", created)
	return nil
}

// dropStatement names the DROP of each kind.
var dropStatement = map[string]string{
	spec.ObjectView: "DROP VIEW IF EXISTS ", spec.ObjectTrigger: "DROP TRIGGER IF EXISTS ",
	spec.ObjectProcedure: "DROP PROCEDURE IF EXISTS ", spec.ObjectFunction: "DROP FUNCTION IF EXISTS ",
	spec.ObjectEvent: "DROP EVENT IF EXISTS ", spec.ObjectSequence: "DROP SEQUENCE IF EXISTS ",
}

// createObject runs one object's definition in its database under the
// session settings the source recorded with it.
func (t *Target) createObject(ctx context.Context, conn *sql.Conn, po *plannedObject) error {
	name := po.obj.Kind + " " + po.ns + "." + po.obj.Name
	if _, err := conn.ExecContext(ctx, "USE "+q(po.ns)); err != nil {
		return fmt.Errorf("%s: use database %s: %w", t.url, po.ns, err)
	}
	// Converted before the session takes the object's character set: the
	// conversion's own statement is UTF-8.
	if _, err := conn.ExecContext(ctx, "SET NAMES utf8mb4"); err != nil {
		return err
	}
	def, err := mysqltype.ObjectText(ctx, conn, spec.Object{Kind: po.obj.Kind, Name: po.obj.Name, Definition: po.def, Options: po.obj.Options})
	if err != nil {
		return err
	}
	tz := po.obj.Options[mysqltype.OptTimeZone]
	if tz == "" {
		tz = "+00:00"
	}
	settings := []struct{ name, value string }{
		{"sql_mode", po.obj.Options[mysqltype.OptSQLMode]},
		{"character_set_client", po.obj.Options[mysqltype.OptCharsetClient]},
		{"collation_connection", po.obj.Options[mysqltype.OptCollationConn]},
		{"time_zone", tz},
	}
	for _, s := range settings {
		if s.value == "" && s.name != "sql_mode" {
			continue
		}
		if _, err := conn.ExecContext(ctx, "SET SESSION "+s.name+" = ?", s.value); err != nil {
			return fmt.Errorf("%s: set %s = %q: %w", name, s.name, s.value, err)
		}
	}
	if po.drop {
		if _, err := conn.ExecContext(ctx, dropStatement[po.obj.Kind]+q(po.ns)+"."+q(po.obj.Name)); err != nil {
			return fmt.Errorf("replace %s: %w", name, err)
		}
	}
	if _, err := conn.ExecContext(ctx, def); err != nil {
		return fmt.Errorf("create %s: %w; the rows are loaded: fix the cause and run the same import again, which resumes and creates the remaining objects (--param definers=strip if the server refuses a DEFINER)", name, err)
	}
	return nil
}

// createUser creates an account the bundle carries (--param users=true on
// export) and grants it the source's privileges. An account the target has
// already is left as it is, password and grants: it is the target's, and
// adding the source's privileges to it is a decision for its owner. A
// GRANT's IDENTIFIED BY clause is dropped: CREATE USER set the password.
func (t *Target) createUser(ctx context.Context, conn *sql.Conn, po *plannedObject) error {
	if _, err := conn.ExecContext(ctx, "SET SESSION sql_mode = ''"); err != nil {
		return err
	}
	user, host, _ := mysqltype.SplitAccount(po.obj.Name)
	var n int
	if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM mysql.user WHERE User = ? AND Host = ?", user, host).Scan(&n); err != nil {
		return fmt.Errorf("%s: check account %s: %w", t.url, po.obj.Name, err)
	}
	if n > 0 {
		t.opts.Log.Info("account exists on the target; left as it is", "user", po.obj.Name)
		return nil
	}
	create := po.def
	if rest, ok := strings.CutPrefix(create, "CREATE USER "); ok {
		create = "CREATE USER IF NOT EXISTS " + rest
	}
	if _, err := conn.ExecContext(ctx, create); err != nil {
		return fmt.Errorf("create user %s: %w", po.obj.Name, err)
	}
	for _, g := range po.grants {
		if _, err := conn.ExecContext(ctx, g); err != nil {
			return fmt.Errorf("user %s: %s: %w", po.obj.Name, g, err)
		}
	}
	return nil
}
