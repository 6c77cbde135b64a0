package mysql

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
)

// insertRows loads records with multi-row INSERTs, each statement kept under
// the server's max_allowed_packet. Strict mode makes any lossy value an
// error, which the caller answers with a row-by-row reload.
func (l *partLoader) insertRows(ctx context.Context, recs []arrow.RecordBatch) error {
	limit := l.t.maxPacket - 64<<10
	if limit > 4<<20 {
		limit = 4 << 20
	}
	if limit < 64<<10 {
		limit = 64 << 10
	}
	prefix := "INSERT INTO " + l.table + " " + l.enc.InsertColumns() + " VALUES "
	buf := make([]byte, 0, limit)
	var tuple []byte
	pending := 0
	send := func() error {
		if pending == 0 {
			return nil
		}
		_, err := l.tx.ExecContext(ctx, string(buf))
		buf, pending = buf[:0], 0
		return err
	}
	for _, rec := range recs {
		l.enc.Bind(rec)
		for i := 0; i < int(rec.NumRows()); i++ {
			tuple = l.enc.AppendTuple(tuple[:0], i)
			if pending > 0 && len(buf)+1+len(tuple) > limit {
				if err := send(); err != nil {
					return err
				}
			}
			if pending == 0 {
				buf = append(buf, prefix...)
			} else {
				buf = append(buf, ',')
			}
			buf = append(buf, tuple...)
			pending++
		}
	}
	return send()
}
