package rollback

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/go-sql-driver/mysql"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/mysqltype"
	"github.com/imbundle/imbundle/internal/scheme"
	"github.com/imbundle/imbundle/spec"
)

// Capture is what a rollback capture needs besides the import's plan.
type Capture struct {
	Target string // the target URL, password included (never written)
	Engine string // the target's engine name (importer.EngineOf)
	Out    string // the rollback bundle to write
	Jobs   int
	Tool   spec.Tool
	Log    *slog.Logger
}

// Result is what Write did.
type Result struct {
	Path     string
	Kept     bool // an earlier run of the same import wrote it: kept as it is
	Datasets int  // tables, collections or databases whose prior content it holds
	Objects  int  // schema objects whose prior definition it holds
	Absent   int  // objects that did not exist, which a rollback drops
}

// Write exports, from the target, the prior state of everything plan will
// change into c.Out (written as c.Out.partial, renamed when complete), and
// records the objects that do not exist yet. A rollback bundle of the same
// bundle and target already at c.Out is kept: a resumed import must not
// replace the prior state by the half-imported one.
func (c Capture) Write(ctx context.Context, plan *importer.Plan) (*Result, error) {
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	redacted := scheme.Redact(c.Target)
	res := &Result{Path: c.Out}
	if _, err := os.Stat(c.Out); err == nil {
		m, err := manifestOf(c.Out)
		if err != nil {
			return nil, scheme.Usagef("%s exists and is not a readable rollback bundle (%v): remove it or choose another --rollback-out; nothing was written", c.Out, err)
		}
		if m.Rollback == nil || m.Rollback.Of != plan.BundleID || m.Rollback.Target != redacted {
			return nil, scheme.Usagef("%s exists and is not the rollback of bundle %s into %s: remove it or choose another --rollback-out; nothing was written", c.Out, short(plan.BundleID), redacted)
		}
		res.Kept, res.Datasets, res.Objects, res.Absent = true, len(m.Datasets), len(m.Objects), len(m.Rollback.Absent)
		return res, nil
	}
	want, err := touched(c.Engine, plan)
	if err != nil {
		return nil, err
	}
	missing, err := c.missingDatabases(ctx, want)
	if err != nil {
		return nil, err
	}
	filter, params, err := c.selection(want, missing)
	if err != nil {
		return nil, err
	}
	srcURL, err := c.sourceURL()
	if err != nil {
		return nil, err
	}
	src, err := exporter.Open(ctx, srcURL, exporter.Options{Filter: filter, Params: params, Log: c.Log, Jobs: c.Jobs})
	if err != nil {
		return nil, err
	}
	defer src.Close()
	w, err := bundle.Create(c.Out, bundle.Options{Tool: c.Tool})
	if err != nil {
		return nil, err
	}
	defer w.Abort()
	if err := exporter.ExportResumable(ctx, []exporter.Source{src}, w, c.Jobs, filter, c.Log, nil); err != nil {
		return nil, fmt.Errorf("rollback capture of %s: %w", redacted, err)
	}
	if c.Engine == "mysql" {
		if err := c.addRoutines(ctx, w, want); err != nil {
			return nil, err
		}
	}
	m := w.Manifest()
	if err := objectsBesideTables(m); err != nil {
		return nil, err
	}
	m.Rollback = &spec.Rollback{Of: plan.BundleID, Target: redacted, Engine: c.Engine, Absent: absent(m, want)}
	for db := range missing {
		m.Rollback.Absent = append(m.Rollback.Absent, spec.RollbackObject{Kind: KindDatabase, Namespace: db})
	}
	slices.SortFunc(m.Rollback.Absent, func(a, b spec.RollbackObject) int { return strings.Compare(key(a), key(b)) })
	w.AddNote(fmt.Sprintf("rollback bundle: the prior state of %s before the import of bundle %s", redacted, plan.BundleID))
	if err := w.Close(); err != nil {
		return nil, err
	}
	res.Datasets, res.Objects, res.Absent = len(m.Datasets), len(m.Objects), len(m.Rollback.Absent)
	return res, nil
}

func short(id string) string {
	if len(id) > 16 {
		return id[:16]
	}
	return id
}

func manifestOf(path string) (*spec.Manifest, error) {
	r, err := bundle.Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return r.Manifest(), nil
}

// selection is the export filter (MySQL, MongoDB) or --db (Redis) that
// reads exactly the objects in want.
func (c Capture) selection(want []spec.RollbackObject, missing map[string]bool) (*exporter.Filter, map[string]string, error) {
	if c.Engine == "redis" {
		var dbs []string
		for _, o := range want {
			dbs = append(dbs, o.Namespace)
		}
		return nil, map[string]string{"db": strings.Join(dbs, ",")}, nil
	}
	f := &exporter.Filter{Absent: true}
	var params map[string]string
	if c.Engine == "mysql" {
		// Relations are for checks of a site; a rollback restores rows.
		params = map[string]string{"discover-relations": "false"}
	}
	for _, o := range want {
		if missing[o.Namespace] {
			continue // the MySQL exporter refuses a database that does not exist
		}
		if o.Kind == KindTable || o.Kind == KindCollection || c.Engine == "mongodb" && o.Kind == spec.ObjectView {
			f.Include = append(f.Include, pattern(o.Namespace, o.Name))
		}
	}
	if len(f.Include) == 0 {
		// Nothing to read: a table no server has, in the database every
		// MySQL server has.
		f.Include = []string{pattern("mysql", "imbundle rollback: nothing")}
	}
	return f, params, nil
}

// absent is want less what the export found: the datasets, and the
// schema objects it carried (triggers of exported tables, MongoDB views,
// and the MySQL routines and views addRoutines added).
func absent(m *spec.Manifest, want []spec.RollbackObject) []spec.RollbackObject {
	have := map[string]bool{}
	for _, ds := range m.Datasets {
		have[ds.Namespace+"\x00"+ds.Object] = true
	}
	for _, o := range m.Objects {
		have[o.Kind+"\x00"+o.Namespace+"\x00"+o.Name] = true
	}
	var out []spec.RollbackObject
	for _, o := range want {
		switch o.Kind {
		case KindTable, KindCollection, KindDatabase:
			if have[o.Namespace+"\x00"+o.Name] {
				continue
			}
			if o.Kind == KindDatabase && slices.ContainsFunc(m.Datasets, func(ds spec.Dataset) bool { return ds.Namespace == o.Namespace }) {
				continue
			}
		default:
			if have[o.Kind+"\x00"+o.Namespace+"\x00"+o.Name] {
				continue
			}
		}
		out = append(out, o)
	}
	return out
}

// addRoutines adds the prior definition of the MySQL views, routines,
// events and sequences the import replaces: an export with --tables
// carries the triggers of its tables only. A sequence the import would
// replace is refused (it is a table the exporter does not read by name).
func (c Capture) addRoutines(ctx context.Context, w *bundle.Writer, want []spec.RollbackObject) error {
	byDB := map[string][]spec.RollbackObject{}
	for _, o := range want {
		if o.Kind != KindTable && o.Kind != spec.ObjectTrigger {
			byDB[o.Namespace] = append(byDB[o.Namespace], o)
		}
	}
	if len(byDB) == 0 {
		return nil
	}
	return c.withMySQL(ctx, func(conn *sql.Conn) error {
		for db, objs := range byDB {
			have, err := mysqltype.ListObjects(ctx, conn, db)
			if err != nil {
				return fmt.Errorf("rollback capture: list schema objects of %s: %w", db, err)
			}
			for _, o := range objs {
				for _, h := range have {
					if h.Kind != o.Kind || h.Name != o.Name {
						continue
					}
					if h.Kind == spec.ObjectSequence {
						return refuse("the import replaces sequence %s.%s, whose prior state a rollback bundle does not hold", db, h.Name)
					}
					h.Source = "s0"
					w.AddObjects(h)
					carried(w.Manifest(), db+"."+h.Name)
				}
			}
		}
		return nil
	})
}

// missingDatabases are the MySQL databases of want that do not exist:
// everything in them is absent, and a rollback drops them once empty.
func (c Capture) missingDatabases(ctx context.Context, want []spec.RollbackObject) (map[string]bool, error) {
	missing := map[string]bool{}
	if c.Engine != "mysql" {
		return missing, nil
	}
	err := c.withMySQL(ctx, func(conn *sql.Conn) error {
		for _, o := range want {
			if _, seen := missing[o.Namespace]; seen {
				continue
			}
			var n int
			if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", o.Namespace).Scan(&n); err != nil {
				return fmt.Errorf("rollback capture: %w", err)
			}
			missing[o.Namespace] = n == 0
		}
		return nil
	})
	for db, m := range missing {
		if !m {
			delete(missing, db)
		}
	}
	return missing, err
}

func (c Capture) withMySQL(ctx context.Context, fn func(*sql.Conn) error) error {
	u, err := url.Parse(c.Target)
	if err != nil {
		return fmt.Errorf("target %s: not a URL", scheme.Redact(c.Target))
	}
	cfg, err := mysqltype.Config(u, nil)
	if err != nil {
		return err
	}
	cfg.DBName = ""
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return err
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return mysqltype.StepError(cfg, scheme.Redact(c.Target), "connect", err)
	}
	defer conn.Close()
	return fn(conn)
}

// carried takes name off the manifest's not-carried list: the export
// with --tables counted it as left behind before addRoutines added it.
func carried(m *spec.Manifest, name string) {
	var out []spec.Uncarried
	for _, u := range m.Uncarried {
		if i := slices.Index(u.Names, name); i >= 0 {
			u.Names = slices.Delete(slices.Clone(u.Names), i, i+1)
			u.Count--
		}
		if u.Count > 0 {
			out = append(out, u)
		}
	}
	m.Uncarried = out
}

// objectsBesideTables refuses a MySQL view or routine whose prior
// definition the rollback bundle holds in a database where it holds no
// table: the importer restores objects only beside a table it loads
// (importer/mysql planObjects), so a rollback would leave it out.
func objectsBesideTables(m *spec.Manifest) error {
	if len(m.Datasets) == 0 && len(m.Objects) > 0 {
		// A rollback imports nothing: the objects would not be restored.
		o := m.Objects[0]
		return refuse("the import replaces %s %s, and no table, collection or Redis database it writes to holds data yet, so a rollback could not restore it", o.Kind, strings.TrimPrefix(o.Namespace+"."+o.Name, "."))
	}
	dbs := map[string]bool{}
	for _, ds := range m.Datasets {
		dbs[ds.Namespace] = true
	}
	for _, o := range m.Objects {
		if m.Sources[0].Engine == "mysql" && o.Kind != spec.ObjectTrigger && !dbs[o.Namespace] {
			return refuse("the import replaces %s %s.%s in a database where it replaces no existing table, and a rollback could not recreate it", o.Kind, o.Namespace, o.Name)
		}
	}
	return nil
}

func (c Capture) sourceURL() (string, error) { return SourceURL(c.Target, c.Engine) }

// SourceURL is the URL a rollback bundle's target is read from (capture,
// verify): target, without the database for MySQL, whose exporter cannot
// connect to a database the import is about to create or the rollback
// dropped; the rollback bundle names each table with its database.
func SourceURL(target, engine string) (string, error) {
	if engine != "mysql" {
		return target, nil
	}
	u, err := url.Parse(target)
	if err != nil {
		return "", fmt.Errorf("target %s: not a URL", scheme.Redact(target))
	}
	u.Path, u.RawPath = "/", ""
	return u.String(), nil
}
