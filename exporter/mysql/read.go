package mysql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/mysqltype"
	"github.com/imbundle/imbundle/spec"
)

// Locate names the table Read reads for ds (exporter.Locator).
func (s *Source) Locate(ds *spec.Dataset) string { return s.database(ds) + "." + ds.Object }

func (s *Source) database(ds *spec.Dataset) string {
	if s.dbName != "" {
		return s.dbName
	}
	return ds.Namespace
}

// Read streams one table in primary-key order (storage order without a
// primary key) as record batches of about bundle.DefaultBatchBytes. It reads
// <URL database, else ds.Namespace>.<ds.Object>: verify --against reads a
// target through here with the bundle's dataset.
func (s *Source) Read(ctx context.Context, ds *spec.Dataset, emit func(arrow.RecordBatch) error) error {
	db := s.database(ds)
	if db == "" || ds.Object == "" {
		return fmt.Errorf("dataset %q names no database and table", ds.Name)
	}
	s.mu.Lock()
	snap := s.snap
	t := s.tables[db+"."+ds.Object]
	s.mu.Unlock()
	if snap != nil && t != nil && t.empty {
		return nil // no row in the snapshot (markEmpty): nothing to read
	}

	var conn *sql.Conn
	var err error
	if snap != nil {
		conn, err = snap.acquire(ctx)
		if err != nil {
			return err
		}
		defer snap.release(conn)
	} else {
		// No Describe (verify --against): this table alone is read in a
		// snapshot of its own.
		conn, err = s.db.Conn(ctx)
		if err != nil {
			return mysqltype.StepError(s.cfg, s.url, "connect", err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"); err != nil {
			return fmt.Errorf("%s: start snapshot: %w", s.url, err)
		}
		defer conn.ExecContext(context.Background(), "ROLLBACK")
	}
	if t == nil {
		t, err = loadTable(ctx, conn, db, ds.Object)
		if err != nil {
			return err
		}
		if ds.Options[optHistory] == "true" {
			t.readAllTime()
		}
		t.where = ds.Filter // the bundle's filter: verify reads what export read
	}
	return s.stream(ctx, conn, t, nil, emit)
}

// selectQuery selects every column (invisible ones included, by name) in
// key order. FORCE INDEX keeps the walk on the clustered index: a covering
// secondary index would return rows in its own order or need a sort.
//
// The server sends a stored FLOAT -0 as +0 (in both protocols), so each
// FLOAT/DOUBLE column gets a trailing flag column that is 1 for -0; floats
// lists those columns' indexes, in flag order. after, if set, reads only
// the rows after a key (readafter.go).
func selectQuery(t *table, after *keyBound) (q string, floats []int) {
	cols := make([]string, len(t.cols))
	for i, c := range t.cols {
		cols[i] = mysqltype.QuoteIdent(c.Name)
	}
	for i, c := range t.cols {
		if c.Kind == mysqltype.KindFloat32 || c.Kind == mysqltype.KindFloat64 {
			n := mysqltype.QuoteIdent(c.Name)
			cols = append(cols, "("+n+" = 0 AND ATAN2("+n+", -1) < 0)")
			floats = append(floats, i)
		}
	}
	q = "SELECT " + strings.Join(cols, ", ") + " FROM " + t.qualified() + t.timeClause()
	if len(t.pk) > 0 {
		keys := make([]string, len(t.pk))
		for i, k := range t.pk {
			keys[i] = mysqltype.QuoteIdent(k)
		}
		where := t.whereClause()
		if after != nil {
			where = t.whereAnd(after.cond)
		}
		q += " FORCE INDEX (PRIMARY)" + where + " ORDER BY " + strings.Join(keys, ", ")
	} else {
		q += t.whereClause()
	}
	return q, floats
}

func (s *Source) stream(ctx context.Context, conn *sql.Conn, t *table, after *keyBound, emit func(arrow.RecordBatch) error) error {
	dec, err := mysqltype.NewDecoder(t.cols, t.schema, memory.DefaultAllocator)
	if err != nil {
		return fmt.Errorf("table %s.%s: %w", t.db, t.name, err)
	}
	defer dec.Release()
	maxRows := s.opts.BatchRows
	flush := func() error {
		if dec.Rows() == 0 {
			return nil
		}
		// exporter counts the rows emitted (Options.Progress).
		rec := dec.Flush()
		defer rec.Release()
		return emit(rec)
	}
	// Cancelling before rows.Close makes the driver drop the connection
	// instead of draining a large remaining result after an error.
	qctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var row int64
	err = conn.Raw(func(dc any) (rerr error) {
		pc, ok := dc.(driver.ConnPrepareContext)
		if !ok {
			return fmt.Errorf("driver connection %T cannot prepare statements", dc)
		}
		// A prepared statement makes the server answer in the binary
		// protocol: FLOAT and DOUBLE arrive as their exact bits.
		query, floats := selectQuery(t, after)
		st, err := pc.PrepareContext(qctx, query)
		if err != nil {
			return err
		}
		defer st.Close()
		sq, ok := st.(driver.StmtQueryContext)
		if !ok {
			return fmt.Errorf("driver statement %T cannot query", st)
		}
		var args []driver.NamedValue
		if after != nil {
			args = after.args
		}
		rows, err := sq.QueryContext(qctx, args)
		if err != nil {
			return err
		}
		defer func() {
			if rerr != nil {
				cancel()
			}
			rows.Close()
		}()
		n := len(t.cols)
		if got := len(rows.Columns()); got != n+len(floats) {
			return fmt.Errorf("query returned %d columns, want %d", got, n+len(floats))
		}
		vals := make([]driver.Value, n+len(floats))
		for {
			err := rows.Next(vals)
			if errors.Is(err, io.EOF) {
				return flush()
			}
			if err != nil {
				return err
			}
			for k, ci := range floats {
				if flag, ok := vals[n+k].(int64); ok && flag == 1 {
					vals[ci] = negativeZero(vals[ci])
				}
			}
			if err := dec.Append(vals[:n]); err != nil {
				return fmt.Errorf("row %d%s: %w", row+1, keyOf(t, vals), err)
			}
			row++
			if dec.Bytes() >= bundle.DefaultBatchBytes || (maxRows > 0 && dec.Rows() >= maxRows) {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("read %s.%s: %w", t.db, t.name, err)
	}
	return nil
}

func negativeZero(v driver.Value) driver.Value {
	switch v.(type) {
	case float32:
		return float32(math.Copysign(0, -1))
	case float64:
		return math.Copysign(0, -1)
	}
	return v
}

// keyOf renders a row's primary key for error messages.
func keyOf(t *table, vals []driver.Value) string {
	if len(t.pk) == 0 {
		return ""
	}
	var parts []string
	for _, k := range t.pk {
		for i, c := range t.cols {
			if c.Name == k {
				v := vals[i]
				if b, ok := v.([]byte); ok {
					v = string(b)
				}
				parts = append(parts, fmt.Sprintf("%s=%v", k, v))
			}
		}
	}
	return " (key " + strings.Join(parts, ", ") + ")"
}
