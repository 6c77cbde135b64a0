package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// snapshot is a set of connections that all see the database as of one
// instant: each holds a START TRANSACTION WITH CONSISTENT SNAPSHOT opened
// while no transaction could commit (blockCommits).
type snapshot struct {
	pool  chan *sql.Conn
	conns []*sql.Conn
	info  map[string]string // spec.Source.Snapshot
	note  string            // non-empty when the snapshot is weaker than asked
}

func (s *snapshot) acquire(ctx context.Context) (*sql.Conn, error) {
	select {
	case c := <-s.pool:
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *snapshot) release(c *sql.Conn) { s.pool <- c }

func (s *snapshot) close() {
	for _, c := range s.conns {
		c.ExecContext(context.Background(), "ROLLBACK")
		c.Close()
	}
}

// startSnapshot opens n snapshot connections. Several need commits blocked
// while they start, and so does reading MySQL's binlog position; one
// MariaDB connection does not (snapshotConnections): its transaction is
// consistent by itself and reports its own binlog position.
func startSnapshot(ctx context.Context, db *sql.DB, n int, flavor string, lockWait int) (*snapshot, error) {
	snap := &snapshot{info: map[string]string{}}
	var lock *sql.Conn
	var err error
	unlockFn, method, locked := func() {}, "none", false
	if n > 1 || flavor != "mariadb" {
		if lock, err = db.Conn(ctx); err != nil {
			return nil, err
		}
		defer lock.Close()
		unlockFn, method, err = blockCommits(ctx, lock, flavor, lockWait)
		locked = err == nil
	}
	if err != nil {
		// Typically no RELOAD privilege. One connection's snapshot is still
		// consistent; tables are then read one at a time.
		n = 1
		snap.note = fmt.Sprintf("could not block commits (%v): all tables were read through a single snapshot connection, one table at a time; grant RELOAD for parallel readers", err)
	} else {
		snap.info["lock"] = method
	}
	unlock := func() {
		if locked {
			unlockFn()
			locked = false
		}
	}
	defer unlock()
	for i := 0; i < n; i++ {
		c, err := db.Conn(ctx)
		if err == nil {
			_, err = c.ExecContext(ctx, "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
			if err == nil {
				_, err = c.ExecContext(ctx, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
			}
			if err != nil {
				c.Close()
			}
		}
		if err != nil {
			snap.close()
			return nil, fmt.Errorf("start snapshot connection %d: %w", i+1, err)
		}
		snap.conns = append(snap.conns, c)
	}
	if locked {
		// Nothing commits until unlock: the position is the snapshot's.
		binlogPosition(ctx, lock, snap.info)
		gtid(ctx, lock, flavor, snap.info)
	} else if flavor == "mariadb" {
		// MariaDB reports the binlog position of a consistent-snapshot
		// transaction itself, no lock needed.
		var name, file, pos string
		row := snap.conns[0].QueryRowContext(ctx, "SHOW STATUS LIKE 'binlog_snapshot_file'")
		if row.Scan(&name, &file) == nil && file != "" {
			snap.info["binlog_file"] = file
			if snap.conns[0].QueryRowContext(ctx, "SHOW STATUS LIKE 'binlog_snapshot_position'").Scan(&name, &pos) == nil {
				snap.info["binlog_pos"] = pos
			}
		}
	}
	unlock()
	snap.info["consistent"] = "true"
	snap.info["connections"] = fmt.Sprint(n)
	snap.pool = make(chan *sql.Conn, n)
	for _, c := range snap.conns {
		snap.pool <- c
	}
	return snap, nil
}

// blockCommits stops every commit for the instant it takes to open the
// snapshot transactions. MariaDB's BACKUP STAGE BLOCK_COMMIT waits only for
// commits and DDL in flight; FLUSH TABLES WITH READ LOCK (MySQL, or MariaDB
// when a backup stage is unavailable) also waits for every running statement,
// and while it waits every new write queues behind it: so it gives up after
// lockWait seconds rather than stall the application.
func blockCommits(ctx context.Context, c *sql.Conn, flavor string, lockWait int) (unlock func(), method string, err error) {
	c.ExecContext(ctx, fmt.Sprintf("SET SESSION lock_wait_timeout = %d", lockWait))
	if flavor == "mariadb" {
		var stageErr error
		for _, st := range []string{"START", "FLUSH", "BLOCK_DDL", "BLOCK_COMMIT"} {
			if _, stageErr = c.ExecContext(ctx, "BACKUP STAGE "+st); stageErr != nil {
				break
			}
		}
		end := func() { c.ExecContext(context.Background(), "BACKUP STAGE END") }
		if stageErr == nil {
			return end, "BACKUP STAGE BLOCK_COMMIT", nil
		}
		end()
	}
	if _, err := c.ExecContext(ctx, "FLUSH TABLES WITH READ LOCK"); err != nil {
		return nil, "", fmt.Errorf("FLUSH TABLES WITH READ LOCK: %w", err)
	}
	return func() { c.ExecContext(context.Background(), "UNLOCK TABLES") }, "FLUSH TABLES WITH READ LOCK", nil
}

// binlogPosition records SHOW MASTER STATUS (SHOW BINARY LOG STATUS on
// MySQL 8.4+); nothing when binary logging is off.
func binlogPosition(ctx context.Context, c *sql.Conn, info map[string]string) {
	for _, q := range []string{"SHOW MASTER STATUS", "SHOW BINARY LOG STATUS"} {
		rows, err := c.QueryContext(ctx, q)
		if err != nil {
			continue
		}
		cols, _ := rows.Columns()
		if rows.Next() {
			vals := make([]sql.RawBytes, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if rows.Scan(ptrs...) == nil {
				for i, col := range cols {
					switch strings.ToLower(col) {
					case "file":
						info["binlog_file"] = string(vals[i])
					case "position":
						info["binlog_pos"] = string(vals[i])
					case "executed_gtid_set":
						if len(vals[i]) > 0 {
							info["gtid_executed"] = string(vals[i])
						}
					}
				}
			}
		}
		rows.Close()
		return
	}
}

func gtid(ctx context.Context, c *sql.Conn, flavor string, info map[string]string) {
	if flavor == "mariadb" {
		var bin, cur sql.NullString
		if c.QueryRowContext(ctx, "SELECT @@GLOBAL.gtid_binlog_pos, @@GLOBAL.gtid_current_pos").Scan(&bin, &cur) == nil {
			if bin.String != "" {
				info["gtid_binlog_pos"] = bin.String
			}
			if cur.String != "" {
				info["gtid_current_pos"] = cur.String
			}
		}
		return
	}
	var ex sql.NullString
	if c.QueryRowContext(ctx, "SELECT @@GLOBAL.gtid_executed").Scan(&ex) == nil && ex.String != "" {
		info["gtid_executed"] = ex.String
	}
}
