package mysql

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/go-sql-driver/mysql"

	"github.com/imbundle/imbundle/internal/mysqltype"
)

// loadData sends records as one LOAD DATA LOCAL INFILE stream. It reports
// clean=false when the server changed or skipped anything: LOAD DATA LOCAL
// behaves as IGNORE even in strict mode (values truncated, duplicates
// skipped, NULLs turned into defaults, all as mere warnings), so the row
// count and SHOW WARNINGS are the only way to learn that a value did not
// arrive exactly.
func (l *partLoader) loadData(ctx context.Context, recs []arrow.RecordBatch, n int64) (clean bool, err error) {
	name := fmt.Sprintf("imbundle-%d", l.t.handlerID.Add(1))
	r := &textReader{enc: l.enc, recs: recs}
	mysql.RegisterReaderHandler(name, func() io.Reader { return r })
	defer mysql.DeregisterReaderHandler(name)
	list, set := l.enc.LoadDataColumns()
	stmt := "LOAD DATA LOCAL INFILE 'Reader::" + name + "' INTO TABLE " + l.table +
		` CHARACTER SET binary FIELDS TERMINATED BY '\t' ESCAPED BY '\\' LINES TERMINATED BY '\n' ` + list + set
	res, err := l.tx.ExecContext(ctx, stmt)
	if err != nil {
		return false, err
	}
	if got, err := res.RowsAffected(); err != nil || got != n {
		return false, nil
	}
	warn, err := l.firstWarning(ctx)
	if err != nil {
		return false, err
	}
	return warn == "", nil
}

// firstWarning returns the first warning or error of the last statement;
// notes do not count.
func (l *partLoader) firstWarning(ctx context.Context) (string, error) {
	rows, err := l.tx.QueryContext(ctx, "SHOW WARNINGS")
	if err != nil {
		return "", err
	}
	defer rows.Close()
	for rows.Next() {
		var level, msg string
		var code int
		if err := rows.Scan(&level, &code, &msg); err != nil {
			return "", err
		}
		if !strings.EqualFold(level, "Note") {
			return fmt.Sprintf("%s %d: %s", level, code, msg), nil
		}
	}
	return "", rows.Err()
}

// textReader renders records as LOAD DATA text on demand, so that a group
// is never held twice in memory (as Arrow and as text).
type textReader struct {
	enc  *mysqltype.Encoder
	recs []arrow.RecordBatch
	ri   int // current record
	row  int // next row of it
	buf  []byte
	off  int
}

func (r *textReader) Read(p []byte) (int, error) {
	for r.off >= len(r.buf) {
		if r.ri >= len(r.recs) {
			return 0, io.EOF
		}
		rec := r.recs[r.ri]
		if r.row == 0 {
			r.enc.Bind(rec)
		}
		r.buf, r.off = r.buf[:0], 0
		for r.row < int(rec.NumRows()) && len(r.buf) < 64<<10 {
			r.buf = r.enc.AppendText(r.buf, r.row)
			r.row++
		}
		if r.row >= int(rec.NumRows()) {
			r.ri++
			r.row = 0
		}
	}
	n := copy(p, r.buf[r.off:])
	r.off += n
	return n, nil
}
