package redis

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/redistype/resp"
)

// deleteBatch is how many DELs one pipeline round sends.
const deleteBatch = 1000

// DeleteKeys deletes the keys a delta's deleted keys name from it's
// database (importer.KeyDeleter), pipelined; with --key-prefix only the
// keys the import would load. Redis keeps no per-part resume state: a
// re-run replays every part anyway.
func (t *Target) DeleteKeys(ctx context.Context, p *importer.Plan, it *importer.Item, keys importer.RecordSource) (int64, error) {
	db, err := dbOf(it)
	if err != nil {
		return 0, err
	}
	pl, err := t.pool(ctx, db)
	if err != nil {
		return 0, err
	}
	c := pl.conns[0]
	var (
		buf     resp.Buf
		deleted int64
	)
	send := func() error {
		if buf.Cmds() == 0 {
			return nil
		}
		err := c.Round(ctx, &buf, func(_ int, v resp.Value) error {
			if err := v.Err(); err != nil {
				return err
			}
			deleted += v.Int
			return nil
		})
		buf.Reset()
		if err != nil {
			return fmt.Errorf("db %d: DEL: %w", db, err)
		}
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
		idx := rec.Schema().FieldIndices("key")
		if len(idx) != 1 {
			return deleted, fmt.Errorf("deleted keys of dataset %q have no key column", it.Dataset.Name)
		}
		col, ok := bundle.AsVarLen(rec.Column(idx[0]))
		if !ok {
			return deleted, fmt.Errorf("deleted keys of dataset %q: the key column is %s, not binary", it.Dataset.Name, rec.Column(idx[0]).DataType())
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			k := col.Value(i)
			if col.IsNull(i) || len(t.prefix) > 0 && !bytes.HasPrefix(k, t.prefix) {
				continue
			}
			buf.CmdKey("DEL", k) // copies the key: the batch is released after it
			if buf.Cmds() >= deleteBatch {
				if err := send(); err != nil {
					return deleted, err
				}
			}
		}
	}
	return deleted, send()
}
