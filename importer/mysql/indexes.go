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
)

// Secondary indexes are deferred: a table this import creates gets its plain
// (non-unique) KEYs dropped before the load and added back, in one ALTER per
// table, by Finish. Measured on the 2M-row OpenIM chat_logs (two CHAR(64)
// utf8mb4 secondary indexes, about 800 MB, against MariaDB's default 128 MiB
// buffer pool): one LOAD DATA with the indexes in place took 278 s, without
// them 30 s plus 57 s to add them (bench/mysql.sh). Unique keys stay: they
// are what append mode relies on. Finish adds every plain KEY of the DDL the
// table lacks, so a resumed import that was interrupted after Prepare still
// ends with every index.

// plainKey matches a non-unique index line of SHOW CREATE TABLE output:
// "  KEY `name` (`a`,`b`(10)) USING BTREE COMMENT '...',".
var plainKey = regexp.MustCompile("(?m)^\\s*KEY `((?:[^`]|``)+)` \\(.*$")

// erDropIndexNeeded: the index is needed by a foreign key and cannot go.
const erDropIndexNeeded = 1553

type keyDef struct {
	name string // unquoted
	def  string // "KEY `name` (...)" without the trailing comma
}

func plainKeys(ddl string) []keyDef {
	var keys []keyDef
	for _, m := range plainKey.FindAllStringSubmatch(ddl, -1) {
		def := strings.TrimSuffix(strings.TrimSpace(m[0]), ",")
		keys = append(keys, keyDef{name: strings.ReplaceAll(m[1], "``", "`"), def: def})
	}
	return keys
}

func (t *Target) deferIndexes() bool { return t.opts.Param("defer-indexes") != "false" }

// dropPlainKeys drops the plain KEYs of a table just created from the DDL.
// A key a foreign key needs stays.
func (t *Target) dropPlainKeys(ctx context.Context, conn *sql.Conn, it *importer.Item) error {
	if !t.deferIndexes() {
		return nil
	}
	table := q(it.Namespace) + "." + q(it.Object)
	for _, k := range plainKeys(it.Dataset.DDL) {
		_, err := conn.ExecContext(ctx, "ALTER TABLE "+table+" DROP INDEX "+q(k.name))
		var me *mysql.MySQLError
		if errors.As(err, &me) && me.Number == erDropIndexNeeded {
			continue
		}
		if err != nil {
			return fmt.Errorf("defer index %s of %s.%s: %w (--param defer-indexes=false keeps indexes during the load)", k.name, it.Namespace, it.Object, err)
		}
	}
	return nil
}

// addMissingKeys adds, in one ALTER, the plain KEYs of the DDL the table
// does not have.
func (t *Target) addMissingKeys(ctx context.Context, conn *sql.Conn, it *importer.Item) error {
	keys := plainKeys(it.Dataset.DDL)
	if len(keys) == 0 {
		return nil
	}
	rows, err := conn.QueryContext(ctx, "SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?", it.Namespace, it.Object)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		have[n] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var adds []string
	for _, k := range keys {
		if !have[k.name] {
			adds = append(adds, "ADD "+k.def)
		}
	}
	if len(adds) == 0 {
		return nil
	}
	t.opts.Log.Info("building deferred indexes", "table", it.Namespace+"."+it.Object, "indexes", len(adds))
	if _, err := conn.ExecContext(ctx, "ALTER TABLE "+q(it.Namespace)+"."+q(it.Object)+" "+strings.Join(adds, ", ")); err != nil {
		return fmt.Errorf("add deferred indexes to %s.%s: %w; the rows are loaded: run the import again to retry, or add them by hand", it.Namespace, it.Object, err)
	}
	return nil
}

// Finish adds the secondary indexes deferred by Prepare (and any an earlier,
// interrupted run left out), jobs tables at a time.
func (t *Target) Finish(ctx context.Context, p *importer.Plan) error {
	jobs := t.opts.Jobs
	if jobs < 1 {
		jobs = 1
	}
	sem := make(chan struct{}, jobs)
	errs := make(chan error, len(p.Items))
	for _, it := range p.Items {
		sem <- struct{}{}
		go func(it *importer.Item) {
			defer func() { <-sem }()
			conn, err := t.db.Conn(ctx)
			if err != nil {
				errs <- err
				return
			}
			defer conn.Close()
			if err := t.session(ctx, conn, it); err != nil {
				errs <- err
				return
			}
			errs <- t.addMissingKeys(ctx, conn, it)
		}(it)
	}
	for i := 0; i < jobs; i++ {
		sem <- struct{}{}
	}
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	if err := errors.Join(all...); err != nil {
		return err
	}
	return t.createObjects(ctx)
}
