package mysql

import (
	"context"
	"fmt"
	"sort"

	"github.com/imbundle/imbundle/internal/mysqltype"
)

// systemDatabases are never exported by --all-databases or a database
// pattern: the server's own (mysqldump --all-databases leaves out the same
// but mysql) and imbundle's import state (importer/mysql).
var systemDatabases = map[string]bool{
	"information_schema": true, "performance_schema": true, "mysql": true, "sys": true, "imbundle": true,
}

// databases lists the databases to export, sorted: the URL's, those the
// --tables patterns name, and with --all-databases or a pattern whose
// database part is a glob (--tables 'wf*.t_user') every database of the
// server that --tables could select, but the system ones.
func (s *Source) databases(ctx context.Context) ([]string, error) {
	f := s.opts.Filter
	set := map[string]bool{}
	if s.dbName != "" {
		set[s.dbName] = true
	}
	literal, glob := f.Databases()
	for _, db := range literal {
		set[db] = true
	}
	all := f != nil && f.AllDatabases
	if all || glob {
		rows, err := s.db.QueryContext(ctx, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA")
		if err != nil {
			return nil, mysqltype.StepError(s.cfg, s.url, "list databases", err)
		}
		defer rows.Close()
		for rows.Next() {
			var db string
			if err := rows.Scan(&db); err != nil {
				return nil, err
			}
			if !systemDatabases[db] && f.DatabaseWanted(db) {
				set[db] = true
			}
		}
		if err := rows.Err(); err != nil {
			return nil, mysqltype.StepError(s.cfg, s.url, "list databases", err)
		}
	}
	if len(set) == 0 && !all && !glob {
		return nil, fmt.Errorf("%s names no database: add /dbname to the URL, list --tables database.table, or export every database with --all-databases", s.url)
	}
	list := make([]string, 0, len(set))
	for db := range set {
		list = append(list, db)
	}
	sort.Strings(list)
	return list, nil
}
