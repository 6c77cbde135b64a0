package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/internal/mysqltype"
	"github.com/imbundle/imbundle/spec"
)

// Describe opens the snapshot and describes every base table of the URL's
// database (or the --tables list).
func (s *Source) Describe(ctx context.Context) (*exporter.Description, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.snap != nil {
		return nil, fmt.Errorf("%s: Describe called twice", s.url)
	}
	desc := &exporter.Description{Source: spec.Source{
		Engine:     mysqltype.Engine,
		URL:        s.url,
		Database:   s.dbName,
		Settings:   map[string]string{"time_zone": "+00:00"},
		ExportedAt: time.Now().UTC(),
	}}
	var version, comment, sqlMode string
	if err := s.db.QueryRowContext(ctx, "SELECT VERSION(), @@version_comment, @@GLOBAL.sql_mode").Scan(&version, &comment, &sqlMode); err != nil {
		return nil, mysqltype.StepError(s.cfg, s.url, "read the server version", err)
	}
	flavor := "mysql"
	if strings.Contains(strings.ToLower(version+" "+comment), "mariadb") {
		flavor = "mariadb"
	}
	desc.Source.ServerVersion = version
	desc.Source.Settings["flavor"] = flavor
	desc.Source.Settings["sql_mode"] = sqlMode
	for _, v := range []string{"character_set_server", "collation_server", "lower_case_table_names", "explicit_defaults_for_timestamp", "system_time_zone"} {
		var val sql.NullString
		if s.db.QueryRowContext(ctx, "SELECT @@GLOBAL."+v).Scan(&val) == nil && val.Valid {
			desc.Source.Settings[v] = val.String
		}
	}

	names, notes, err := s.listTables(ctx)
	if err != nil {
		return nil, err
	}
	desc.Notes = append(desc.Notes, notes...)
	dbs := map[string]bool{}
	for _, n := range names {
		dbs[n.db] = true
	}
	// The database's defaults go with each dataset, so that an importer
	// creating the database gives it the same ones.
	dbDefaults := map[string][2]string{}
	for db := range dbs {
		var cs, coll string
		if s.db.QueryRowContext(ctx, "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", db).Scan(&cs, &coll) == nil {
			dbDefaults[db] = [2]string{cs, coll}
		}
	}

	snap, err := startSnapshot(ctx, s.db, s.snapshotConnections(flavor, names), flavor, s.lockWait)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.url, err)
	}
	s.snap = snap
	desc.Source.Snapshot = snap.info
	if snap.note != "" {
		desc.Notes = append(desc.Notes, snap.note)
	}
	// Definitions are read on a snapshot connection: the snapshot's
	// transaction then holds metadata locks on each table it has touched.
	c, err := snap.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer snap.release(c)
	loaded := map[string]map[string]*table{}
	for db := range dbs {
		if loaded[db], err = loadTables(ctx, c, db, ""); err != nil {
			return nil, err
		}
	}
	ddls, err := showCreates(ctx, c, names)
	if err != nil {
		return nil, err
	}
	byName := map[string]*table{}
	inOrder := make([]*table, 0, len(names))
	for i, n := range names {
		t, ddl := loaded[n.db][n.name], ddls[i]
		if t == nil {
			// SHOW CREATE TABLE found it: it was created between the two.
			return nil, fmt.Errorf("table %s.%s has no columns visible to this user (or was created during the export); run the export again", n.db, n.name)
		}
		s.tables[n.db+"."+n.name] = t
		byName[n.db+"."+n.name] = t
		ds := spec.Dataset{
			Name:       datasetName(n.db, n.name),
			Kind:       spec.KindTable,
			Namespace:  n.db,
			Object:     n.name,
			PrimaryKey: t.pk,
			DDL:        ddl,
			Options:    map[string]string{},
		}
		if n.engine != "" {
			ds.Options["engine"] = n.engine
		}
		if n.collation != "" {
			ds.Options["table_collation"] = n.collation
		}
		if d, ok := dbDefaults[n.db]; ok {
			ds.Options["database_charset"], ds.Options["database_collation"] = d[0], d[1]
		}
		if err := s.markHistory(t, &ds); err != nil {
			return nil, err
		}
		if t.where, err = s.opts.Filter.RowFilter(n.db, n.name); err != nil {
			return nil, err
		}
		if err := checkWhere(ctx, c, t); err != nil {
			return nil, err
		}
		ds.Filter = t.where
		desc.Datasets = append(desc.Datasets, exporter.Dataset{Spec: ds, Schema: t.schema})
		s.opts.Progress.Estimate(ds.Name, n.rows, n.bytes)
		inOrder = append(inOrder, t)
	}
	if err := markEmpty(ctx, c, inOrder); err != nil {
		return nil, fmt.Errorf("%s: %w", s.url, err)
	}
	rels, err := s.relations(ctx, c, byName)
	if err != nil {
		return nil, err
	}
	desc.Relations = rels
	if err := s.describeObjects(ctx, c, desc); err != nil {
		return nil, err
	}
	return desc, nil
}

// smallDatabaseBytes: below this much data (information_schema's
// DATA_LENGTH, summed over the tables to export) a MariaDB export reads
// through one snapshot connection.
const smallDatabaseBytes = 16 << 20

// snapshotConnections is how many snapshot connections to open: the
// readers asked for, except one for a small MariaDB database unless
// --param readers says otherwise. Parallel readers need commits blocked
// while their snapshots start (BACKUP STAGE), and on a busy server that
// waits behind other backups and every DDL in flight: 0.03-2 s per export
// measured on this project's shared server, more than reading a few MiB
// takes. One transaction is consistent by itself, and MariaDB reports its
// binlog position without a lock; MySQL does not, so it keeps the lock.
func (s *Source) snapshotConnections(flavor string, tables []tableName) int {
	if flavor != "mariadb" || s.opts.Param("readers") != "" {
		return s.readers
	}
	var bytes int64
	for _, t := range tables {
		bytes += t.bytes
	}
	if bytes < smallDatabaseBytes {
		return 1
	}
	return s.readers
}

// datasetName is "database.table": unambiguous when several databases or
// sources go into one bundle.
func datasetName(db, table string) string { return db + "." + table }

type tableName struct {
	db, name          string
	engine, collation string
	rows, bytes       int64
}

// listTables lists the base and system-versioned tables to export. Views
// and sequences are schema objects (describeObjects); anything else
// --tables names is left out and named in a note.
func (s *Source) listTables(ctx context.Context) ([]tableName, []string, error) {
	f := s.opts.Filter
	list, err := s.databases(ctx)
	if err != nil {
		return nil, nil, err
	}
	var out []tableName
	var skipped []string
	for _, db := range list {
		// An empty bundle from a misspelt name would pass for a backup.
		var n int
		if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", db).Scan(&n); err != nil {
			return nil, nil, mysqltype.StepError(s.cfg, s.url, "look up database "+db, err)
		}
		if n == 0 {
			return nil, nil, fmt.Errorf("%s: database %s does not exist (or this user may not see it); check the name in the URL or --tables", s.url, db)
		}
		rows, err := s.db.QueryContext(ctx, `SELECT TABLE_NAME, TABLE_TYPE, COALESCE(ENGINE, ''), COALESCE(TABLE_COLLATION, ''),
			COALESCE(TABLE_ROWS, 0), COALESCE(DATA_LENGTH, 0)
			FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME`, db)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: list tables of %s: %w", s.url, db, err)
		}
		for rows.Next() {
			var t tableName
			var typ string
			if err := rows.Scan(&t.name, &typ, &t.engine, &t.collation, &t.rows, &t.bytes); err != nil {
				rows.Close()
				return nil, nil, err
			}
			t.db = db
			key := db + "." + t.name
			if t.name == mysqltype.LegacyProgressTable || !f.Keep(db, t.name) {
				continue
			}
			if typ == "VIEW" || typ == "SEQUENCE" {
				if !f.Whole() {
					skipped = append(skipped, fmt.Sprintf("%s (%s)", key, strings.ToLower(typ)))
				}
				continue
			}
			if typ != "BASE TABLE" && typ != "SYSTEM VERSIONED" {
				skipped = append(skipped, fmt.Sprintf("%s (%s)", key, strings.ToLower(typ)))
				continue
			}
			out = append(out, t)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, nil, err
		}
	}
	var notes []string
	if len(skipped) > 0 {
		notes = append(notes, "not exported (only base tables are): "+strings.Join(skipped, ", "))
	}
	return out, notes, nil
}
