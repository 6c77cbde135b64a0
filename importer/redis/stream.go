package redis

import (
	"bytes"
	"context"
	"fmt"
	"strconv"

	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/redistype"
	"github.com/imbundle/imbundle/internal/redistype/resp"
)

// entryRow adds one field/value pair to the XADD of its entry; the pairs of
// one entry are consecutive rows with the same stream_id.
func (l *loader) entryRow(r *run, rows *redistype.Rows, i int, rowNum int64) {
	id := rows.StreamID(i)
	if r.entryID != id {
		if r.entryID != "" {
			l.endEntry(r)
			l.earlyTTL(r) // the stream takes more than one XADD
		}
		s := l.seg()
		s.buf.Begin("XADD")
		s.buf.Arg(r.key)
		s.buf.ArgString(id)
		r.entryID, r.cmdRow, r.cmdElems = id, rowNum, 0
		r.entry = [][]byte{[]byte(id)}
	}
	s := l.seg()
	f, v := rows.Field(i), rows.Value(i)
	s.buf.Arg(f)
	s.buf.Arg(v)
	r.entry = append(r.entry, bytes.Clone(f), bytes.Clone(v))
	r.cmdElems++
}

func (l *loader) endEntry(r *run) {
	if r.entryID == "" {
		return
	}
	s := l.seg()
	s.buf.End()
	r.entryID = ""
	l.cmdDone(cmdMeta{kind: kindXAdd, row: r.cmdRow, rows: int64(r.cmdElems), key: r.key, name: "XADD", entry: r.entry})
	r.entry = nil
}

// sameEntry reports whether the stream already holds the entry of m with
// the same fields: an XADD refused as "equal or smaller" is then one an
// earlier run loaded.
func sameEntry(ctx context.Context, c *resp.Conn, m *cmdMeta) (bool, error) {
	id := string(m.entry[0])
	v, err := c.Do(ctx, "XRANGE", string(m.key), id, id)
	if err != nil {
		return false, err
	}
	if v.Kind != resp.KindArray || len(v.Elems) != 1 || len(v.Elems[0].Elems) != 2 {
		return false, nil
	}
	kv := v.Elems[0].Elems[1].Elems
	if len(kv) != len(m.entry)-1 {
		return false, nil
	}
	for i := range kv {
		if !bytes.Equal(kv[i].Str, m.entry[i+1]) {
			return false, nil
		}
	}
	return true, nil
}

// streamLastID restores a stream's last generated ID (what XADD * counts
// from), and creates an empty stream. XSETID where the server has it;
// elsewhere (miniredis, old servers) an entry at the last ID is added and
// deleted, which moves the ID the same way. An empty stream whose last ID
// is 0-0 only exists with consumer groups: it is made with XGROUP CREATE
// MKSTREAM and a temporary group.
func (l *loader) streamLastID(r *run, lastID string, empty bool) {
	key := string(r.key)
	appendMode := l.mode() == importer.ModeAppend
	l.op(func(ctx context.Context, c *resp.Conn) error {
		do := func(args ...string) (resp.Value, error) {
			v, err := c.Do(ctx, args...)
			if err != nil {
				return v, err
			}
			return v, v.Err()
		}
		addDel := func() error {
			_, err := do("XADD", key, lastID, "imbundle", "")
			if resp.IsServerError(err, "ERR The ID specified in XADD is equal or smaller") {
				return nil // the stream is already at or past lastID
			}
			if err != nil {
				return fmt.Errorf("XADD %s %s: %w", showKey(r.key), lastID, err)
			}
			if _, err := do("XDEL", key, lastID); err != nil {
				return fmt.Errorf("XDEL %s %s: %w", showKey(r.key), lastID, err)
			}
			return nil
		}
		if empty {
			if lastID == "0-0" {
				if _, err := do("XGROUP", "CREATE", key, "imbundle-tmp", "$", "MKSTREAM"); err != nil && !resp.IsServerError(err, "BUSYGROUP") {
					return fmt.Errorf("create empty stream %s: %w", showKey(r.key), err)
				}
				_, err := do("XGROUP", "DESTROY", key, "imbundle-tmp")
				return err
			}
			return addDel()
		}
		_, err := do("XSETID", key, lastID)
		switch {
		case err == nil:
			return nil
		case resp.IsServerError(err, "ERR unknown command"), resp.IsServerError(err, "ERR unknown or unsupported"):
			return addDel()
		case appendMode && resp.IsServerError(err, "ERR The ID specified in XSETID is smaller"):
			return nil // merged into a stream that is already further on
		}
		return fmt.Errorf("XSETID %s %s: %w", showKey(r.key), lastID, err)
	})
}

// listBase is the append-mode list start: the list's length before this
// import is kept in the import marker the first time the key is seen, and
// every (re)play cuts the list back to that length plus the index its rows
// start at, so a replayed part appends nothing twice. The list starts of a
// batch share one operation at the first of them: two round trips per
// batch, not per list.
func (l *loader) listBase(r *run, index int64) {
	op := l.lists
	if op == nil || op.batch != l.batch() {
		op = &listBases{batch: l.batch(), marker: l.marker}
		l.lists = op
		l.op(op.run)
	}
	op.keys = append(op.keys, r.key)
	op.index = append(op.index, index)
}

type listBases struct {
	batch  *batch
	marker string
	keys   [][]byte
	index  []int64
}

func (o *listBases) run(ctx context.Context, c *resp.Conn) error {
	var b resp.Buf
	for _, k := range o.keys {
		b.Begin("HGET")
		b.ArgString(o.marker)
		b.Arg(append([]byte("list:"), k...))
		b.End()
		b.CmdKey("LLEN", k)
	}
	base := make([]int64, len(o.keys))
	stored := make([]bool, len(o.keys))
	err := c.Round(ctx, &b, func(i int, v resp.Value) error {
		k := i / 2
		if err := v.Err(); err != nil {
			return fmt.Errorf("list %s: %w", showKey(o.keys[k]), err)
		}
		switch {
		case i%2 == 0 && v.Kind == resp.KindBulk:
			n, err := strconv.ParseInt(string(v.Str), 10, 64)
			if err != nil {
				return fmt.Errorf("import marker %s: list %s: %q is not a length", o.marker, showKey(o.keys[k]), v.Str)
			}
			base[k], stored[k] = n, true
		case i%2 == 1 && !stored[k]:
			base[k] = v.Int
		}
		return nil
	})
	if err != nil {
		return err
	}
	b.Reset()
	for k, key := range o.keys {
		if !stored[k] {
			b.Begin("HSET")
			b.ArgString(o.marker)
			b.Arg(append([]byte("list:"), key...))
			b.ArgInt(base[k])
			b.End()
		}
		if keep := base[k] + o.index[k]; keep == 0 {
			b.CmdKey("DEL", key)
		} else {
			b.CmdKey("LTRIM", key, "0", strconv.FormatInt(keep-1, 10))
		}
	}
	return c.Round(ctx, &b, func(_ int, v resp.Value) error { return v.Err() })
}
