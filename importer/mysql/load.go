package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/go-sql-driver/mysql"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/mysqltype"
)

// groupBytes is how many Arrow bytes of a part go into one LOAD DATA (or one
// run of INSERTs). A group is the unit of the row-by-row fallback: its
// records stay in memory until it is loaded, so memory per worker stays
// about this size whatever the part size.
const groupBytes = 16 << 20

// LoadPart loads one part in one transaction that also records the part in
// the state schema's progress table (state.go): either both commit or neither does, so a re-run skips
// exactly the parts that are in the table.
func (t *Target) LoadPart(ctx context.Context, p *importer.Plan, it *importer.Item, part int, recs importer.RecordSource) (importer.PartResult, error) {
	// A bulk statement may keep the server busy and silent for longer than
	// the read timeout: the part runs on a connection without one, watched.
	wctx, stop := mysqltype.Watch(ctx, t.db, t.cfg, t.url, fmt.Sprintf("load part %d of %s.%s", part, it.Namespace, it.Object))
	res, err := t.loadPart(wctx, p, it, part, recs)
	if werr := stop(); werr != nil && err != nil {
		err = werr
	}
	return res, err
}

func (t *Target) loadPart(ctx context.Context, p *importer.Plan, it *importer.Item, part int, recs importer.RecordSource) (importer.PartResult, error) {
	var res importer.PartResult
	conn, err := t.long.Conn(ctx)
	if err != nil {
		return res, mysqltype.StepError(t.cfg, t.url, "connect", err)
	}
	defer conn.Close()
	// unique_checks=1 while the part's progress row is inserted: with
	// unique_checks=0 and foreign_key_checks=0, MariaDB (10.6+) inserts
	// into an empty table in bulk, under an exclusive table lock, and the
	// first parts of an import then deadlock on the empty progress table
	// (seen in TestResume: two INSERTs each waiting for the table's X lock).
	if err := t.session(ctx, conn, it, &sessionState{unique: "1"}); err != nil {
		return res, err
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return res, err
	}
	defer tx.Rollback()
	// The progress table is in another schema of the same server: one
	// InnoDB transaction covers both.
	progress := t.stateTable(progressTable)
	// Claim the part first: a part committed by an earlier run makes this
	// insert fail on the primary key, and the part is skipped. The row says
	// what a clean load writes (every row of the part, no reject); it is
	// corrected before the commit only if the load did otherwise.
	want := it.Dataset.Parts[part].Rows
	_, err = tx.ExecContext(ctx, "INSERT INTO "+progress+" (bundle_id, db, tbl, part, dataset, `rows`, rejected, loaded_at) VALUES (?, ?, ?, ?, ?, ?, 0, NOW(6))",
		p.BundleID, it.Namespace, it.Object, part, it.Dataset.Name, want)
	if err != nil {
		var me *mysql.MySQLError
		if errors.As(err, &me) && me.Number == erDupEntry {
			res.Resumed = true
			return res, nil
		}
		if stateGone(err) {
			// A concurrent import into another database of this server
			// finished and dropped the shared state tables between our
			// parts: create them again and load the part once more.
			tx.Rollback()
			if cerr := t.createState(ctx, conn); cerr != nil {
				return res, cerr
			}
			return res, &stateGoneError{err}
		}
		return res, fmt.Errorf("record progress in %s: %w", progress, err)
	}
	// Uniqueness is only worth checking when rows join existing ones; the
	// bundle's own rows satisfied the source's unique keys.
	if p.ModeOf(it) != importer.ModeAppend {
		if _, err := tx.ExecContext(ctx, "SET SESSION unique_checks = 0"); err != nil {
			return res, err
		}
	}
	l := &partLoader{t: t, tx: tx, plan: p, it: it, part: part, table: q(it.Namespace) + "." + q(it.Object)}
	var group []arrow.RecordBatch
	var size int64
	release := func() {
		for _, r := range group {
			r.Release()
		}
		group, size = group[:0], 0
	}
	defer release()
	flush := func() error {
		if len(group) == 0 {
			return nil
		}
		err := l.loadGroup(ctx, group)
		release()
		return err
	}
	for {
		rec, err := recs.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return res, err
		}
		if l.enc == nil {
			if l.enc, err = mysqltype.NewEncoder(rec.Schema()); err != nil {
				return res, fmt.Errorf("dataset %q: %w", it.Dataset.Name, err)
			}
		}
		rec.Retain()
		group = append(group, rec)
		size += bundle.RecordBytes(rec)
		if size >= groupBytes {
			if err := flush(); err != nil {
				return res, err
			}
		}
	}
	if err := flush(); err != nil {
		return res, err
	}
	if l.rows != want || len(l.rejects) > 0 {
		if _, err := tx.ExecContext(ctx, "UPDATE "+progress+" SET `rows` = ?, rejected = ? WHERE bundle_id = ? AND db = ? AND tbl = ? AND part = ?",
			l.rows, len(l.rejects), p.BundleID, it.Namespace, it.Object, part); err != nil {
			return res, err
		}
	}
	if err := tx.Commit(); err != nil {
		return res, fmt.Errorf("commit part: %w", err)
	}
	// Rejects are written once the part is committed: a part rolled back
	// and loaded again by a later run would otherwise list them twice.
	for _, rj := range l.rejects {
		if err := p.Rejects.Add(rj); err != nil {
			return res, err
		}
	}
	res.Rows, res.Rejected = l.rows, int64(len(l.rejects))
	return res, nil
}

// partLoader loads the groups of one part inside its transaction.
type partLoader struct {
	t       *Target
	tx      *sql.Tx
	plan    *importer.Plan
	it      *importer.Item
	part    int
	table   string // `db`.`table`
	enc     *mysqltype.Encoder
	rows    int64 // rows written
	offset  int64 // rows of the part before the current group
	rejects []importer.Reject
}

// loadGroup loads records by the bulk method; if the server refuses some of
// the values, the group is rolled back to its savepoint and loaded row by
// row, so that only the refused rows are rejected.
func (l *partLoader) loadGroup(ctx context.Context, recs []arrow.RecordBatch) error {
	var n int64
	for _, r := range recs {
		n += r.NumRows()
	}
	defer func() { l.offset += n }()
	if _, err := l.tx.ExecContext(ctx, "SAVEPOINT imbundle_group"); err != nil {
		return err
	}
	var clean bool
	var err error
	useInsert := l.t.method == loadInsert || l.t.noLocal.Load()
	if !useInsert {
		clean, err = l.loadData(ctx, recs, n)
		if err != nil && localInfileRefused(err) && l.t.method == loadAuto {
			l.t.noLocal.Store(true)
			l.t.opts.Log.Warn("the server refuses LOAD DATA LOCAL INFILE; loading with multi-row INSERT instead (slower)", "target", l.t.url, "error", err)
			useInsert = true
			if _, err := l.tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT imbundle_group"); err != nil {
				return err
			}
		}
	}
	if useInsert {
		err = l.insertRows(ctx, recs)
		clean = err == nil
	}
	if err != nil && !dataError(err) {
		return err
	}
	if clean {
		l.rows += n
		return nil
	}
	l.t.opts.Log.Info("bulk load refused some values; reloading the group row by row", "dataset", l.it.Dataset.Name, "part", l.part, "rows", n, "reason", errString(err))
	if _, err := l.tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT imbundle_group"); err != nil {
		return err
	}
	return l.rowByRow(ctx, recs)
}

func errString(err error) string {
	if err == nil {
		return "warnings"
	}
	return err.Error()
}

// rowByRow inserts each row alone; a row the server refuses (strict mode
// makes every lossy value an error) goes to the rejects with the server's
// message. Any other error fails the part.
func (l *partLoader) rowByRow(ctx context.Context, recs []arrow.RecordBatch) error {
	prefix := "INSERT INTO " + l.table + " " + l.enc.InsertColumns() + " VALUES "
	var buf []byte
	rowInPart := l.offset
	for _, rec := range recs {
		l.enc.Bind(rec)
		for i := 0; i < int(rec.NumRows()); i++ {
			buf = append(buf[:0], prefix...)
			buf = l.enc.AppendTuple(buf, i)
			_, err := l.tx.ExecContext(ctx, string(buf))
			switch {
			case err == nil:
				l.rows++
			case dataError(err):
				l.rejects = append(l.rejects, l.reject(rec, i, rowInPart, err))
			default:
				return fmt.Errorf("row %d: %w", rowInPart, err)
			}
			rowInPart++
		}
	}
	return nil
}

// reject renders a refused row as the reject file holds it.
func (l *partLoader) reject(rec arrow.RecordBatch, i int, rowInPart int64, err error) importer.Reject {
	vals := make(map[string]any, rec.NumCols())
	for c := 0; c < int(rec.NumCols()); c++ {
		col := rec.Column(c)
		if col.IsNull(i) {
			vals[rec.ColumnName(c)] = nil
			continue
		}
		vals[rec.ColumnName(c)] = bundle.KeyString(col, i)
	}
	var key []string
	for _, k := range l.it.Dataset.PrimaryKey {
		if idx := rec.Schema().FieldIndices(k); len(idx) == 1 {
			key = append(key, bundle.KeyString(rec.Column(idx[0]), i))
		}
	}
	return importer.Reject{Dataset: l.it.Dataset.Name, Part: l.part, Row: rowInPart, Key: key, Reason: err.Error(), Values: vals,
		Extra: map[string]string{"target": l.it.Namespace + "." + l.it.Object}}
}
