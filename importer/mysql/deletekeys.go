package mysql

import (
	"context"
	"fmt"
	"io"

	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/mysqltype"
)

// deleteBatch is how many keys one DELETE names.
const deleteBatch = 500

// DeleteKeys removes the rows of a delta's deleted keys from it's table,
// by primary key (importer.KeyDeleter): DELETE ... WHERE (k1, k2) IN
// ((...), ...), the values written as the import writes them (the
// encoder's SQL literals, so a key compares as the row it names was
// loaded). It first forgets this bundle's committed parts of the table:
// a re-run of the delta deletes again and loads every part again.
func (t *Target) DeleteKeys(ctx context.Context, p *importer.Plan, it *importer.Item, keys importer.RecordSource) (int64, error) {
	conn, err := t.long.Conn(ctx)
	if err != nil {
		return 0, mysqltype.StepError(t.cfg, t.url, "connect", err)
	}
	defer conn.Close()
	if err := t.session(ctx, conn, it, &sessionState{}); err != nil {
		return 0, err
	}
	if err := t.deleteState(ctx, conn, progressTable, p.BundleID, []*importer.Item{it}); err != nil {
		return 0, fmt.Errorf("%s: forget the committed parts of %s.%s: %w", t.url, it.Namespace, it.Object, err)
	}
	var (
		enc     *mysqltype.Encoder
		stmt    []byte
		prefix  string
		pending int
		deleted int64
	)
	send := func() error {
		if pending == 0 {
			return nil
		}
		stmt = append(stmt, ')')
		res, err := conn.ExecContext(ctx, string(stmt))
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		deleted += n
		stmt, pending = stmt[:0], 0
		return nil
	}
	for {
		rec, err := keys.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return deleted, err
		}
		if enc == nil {
			if enc, err = mysqltype.NewEncoder(rec.Schema()); err != nil {
				return deleted, fmt.Errorf("deleted keys of dataset %q: %w", it.Dataset.Name, err)
			}
			prefix = "DELETE FROM " + q(it.Namespace) + "." + q(it.Object) + " WHERE " + enc.InsertColumns() + " IN ("
		}
		enc.Bind(rec)
		for i := 0; i < int(rec.NumRows()); i++ {
			if pending == 0 {
				stmt = append(stmt[:0], prefix...)
			} else {
				stmt = append(stmt, ',')
			}
			stmt = enc.AppendTuple(stmt, i)
			if pending++; pending == deleteBatch {
				if err := send(); err != nil {
					return deleted, err
				}
			}
		}
	}
	return deleted, send()
}
