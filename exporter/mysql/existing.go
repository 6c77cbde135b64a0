package mysql

import (
	"context"
	"fmt"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/mysqltype"
	"github.com/imbundle/imbundle/spec"
)

// Existing describes the table ds names on this server (the URL's
// database, else ds.Namespace) as its export would: columns, primary key
// and DDL; nil when there is no such table. A dataset of another engine
// is converted onto it (convert.Shapes), by an import and by verify
// --against alike.
func (s *Source) Existing(ctx context.Context, ds *spec.Dataset) (*spec.Dataset, error) {
	db := s.database(ds)
	var n int
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED')",
		db, ds.Object).Scan(&n); err != nil {
		return nil, mysqltype.StepError(s.cfg, s.url, fmt.Sprintf("look up table %s.%s", db, ds.Object), err)
	}
	if n == 0 {
		return nil, nil
	}
	t, err := loadTable(ctx, s.db, db, ds.Object)
	if err != nil {
		return nil, err
	}
	ddl, err := showCreate(ctx, s.db, db, ds.Object)
	if err != nil {
		return nil, err
	}
	return &spec.Dataset{Name: ds.Name, Kind: spec.KindTable, Namespace: ds.Namespace, Object: ds.Object,
		Columns: bundle.ColumnsOf(t.schema), PrimaryKey: t.pk, DDL: ddl, Options: map[string]string{}}, nil
}
