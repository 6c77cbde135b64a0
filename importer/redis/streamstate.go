package redis

import (
	"bytes"
	"context"
	"fmt"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/redistype"
	"github.com/imbundle/imbundle/internal/redistype/resp"
)

func (t *Target) skipStream(db int, key []byte) {
	t.mu.Lock()
	t.skipped[strconv.Itoa(db)+":"+string(key)] = true
	t.mu.Unlock()
}

func (t *Target) streamSkipped(db int, key []byte) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.skipped[strconv.Itoa(db)+":"+string(key)]
}

// stateCmd is one pipelined stream-state command and the row it writes.
type stateCmd struct {
	row   int64
	kind  string
	key   []byte
	group []byte
	id    string
	count int64
}

// loadStreamState replays one part of a stream-state dataset (SPEC.md
// §8.7) after every part of the keyspace dataset of the same database:
// groups need their stream, pending entries their stream entries. Parts
// load in order (a group's pending entries may go on in the next part).
// Every command is idempotent, so a replayed part changes nothing:
// XSETID ... ENTRIESADDED MAXDELETEDID, XGROUP CREATE ... ENTRIESREAD (an
// existing group: XGROUP SETID), XGROUP CREATECONSUMER, and XCLAIM ... 0
// id RETRYCOUNT n FORCE JUSTID, which puts an entry in the consumer's
// pending list with its delivery count (idle time starts again at 0).
func (t *Target) loadStreamState(ctx context.Context, p *importer.Plan, it *importer.Item, part int, recs importer.RecordSource) (importer.PartResult, error) {
	var res importer.PartResult
	db, err := dbOf(it)
	if err != nil {
		return res, err
	}
	for _, o := range p.Items {
		if o.Namespace != it.Namespace || isStreamState(o.Dataset) {
			continue
		}
		for i := range o.Dataset.Parts {
			if err := t.waitPart(ctx, o.Dataset.Name, i); err != nil {
				return res, err
			}
		}
	}
	if err := t.waitPart(ctx, it.Dataset.Name, part-1); err != nil {
		return res, err
	}
	o := t.conn
	o.DB = db
	c, err := resp.Dial(ctx, o)
	if err != nil {
		return res, fmt.Errorf("%s: %w", t.redacted, err)
	}
	defer c.Close()
	st := &partState{plan: p, dataset: it.Dataset.Name, part: part}
	var (
		buf  resp.Buf
		cmds []stateCmd
		row  int64
	)
	flush := func() error {
		if len(cmds) == 0 {
			return nil
		}
		var busy []stateCmd
		err := c.Round(ctx, &buf, func(i int, v resp.Value) error {
			m := cmds[i]
			err := v.Err()
			switch {
			case m.kind == redistype.RowGroup && resp.IsServerError(err, "BUSYGROUP"):
				busy = append(busy, m) // a replay, or append mode: move it
				return nil
			case err != nil:
				return st.reject(&cmdMeta{row: m.row, rows: 1, key: m.key, name: stateCmdName(m.kind)}, err)
			case m.kind == redistype.RowPending && len(v.Elems) == 0:
				return st.reject(&cmdMeta{row: m.row, rows: 1, key: m.key, name: "XCLAIM"}, fmt.Errorf("pending entry %s of group %q: the entry is not in the stream (deleted after delivery), and Redis keeps no pending entry for a missing one", m.id, m.group))
			}
			res.Rows++
			return nil
		})
		if err != nil {
			return err
		}
		for _, m := range busy {
			args := []string{"XGROUP", "SETID", string(m.key), string(m.group), m.id}
			if m.count != redistype.NoCount {
				args = append(args, "ENTRIESREAD", strconv.FormatInt(m.count, 10))
			}
			v, err := c.Do(ctx, args...)
			if err != nil {
				return err
			}
			if err := v.Err(); err != nil {
				if err := st.reject(&cmdMeta{row: m.row, rows: 1, key: m.key, name: "XGROUP SETID"}, err); err != nil {
					return err
				}
				continue
			}
			res.Rows++
		}
		buf.Reset()
		cmds = cmds[:0]
		return nil
	}
	err = importer.Drain(recs, func(rec arrow.RecordBatch) error {
		rows, err := redistype.NewGroupRows(rec)
		if err != nil {
			return err
		}
		for i := 0; i < rows.N; i, row = i+1, row+1 {
			if err := rows.Check(i); err != nil {
				return fmt.Errorf("row %d: %w", row, err)
			}
			key := rows.Key(i)
			if len(t.prefix) > 0 && !bytes.HasPrefix(key, t.prefix) || t.streamSkipped(db, key) {
				continue
			}
			m := stateCmd{row: row, kind: rows.Row(i), key: bytes.Clone(key), id: rows.ID(i), count: rows.Count(i)}
			switch m.kind {
			case redistype.RowStream:
				md := rows.MaxDeleted(i)
				if m.count == redistype.NoCount && md == "" {
					res.Rows++ // a server before 7.0: nothing beyond the last ID, which the keyspace set
					continue
				}
				buf.Begin("XSETID")
				buf.Arg(key)
				buf.ArgString(m.id)
				if m.count != redistype.NoCount {
					buf.ArgString("ENTRIESADDED")
					buf.ArgInt(m.count)
				}
				if md != "" {
					buf.ArgString("MAXDELETEDID")
					buf.ArgString(md)
				}
			case redistype.RowGroup:
				m.group = bytes.Clone(rows.Group(i))
				buf.Begin("XGROUP")
				buf.ArgString("CREATE")
				buf.Arg(key)
				buf.Arg(m.group)
				buf.ArgString(m.id)
				if m.count != redistype.NoCount {
					buf.ArgString("ENTRIESREAD")
					buf.ArgInt(m.count)
				}
			case redistype.RowConsumer:
				buf.Begin("XGROUP")
				buf.ArgString("CREATECONSUMER")
				buf.Arg(key)
				buf.Arg(rows.Group(i))
				buf.Arg(rows.Consumer(i))
			case redistype.RowPending:
				m.group = bytes.Clone(rows.Group(i))
				buf.Begin("XCLAIM")
				buf.Arg(key)
				buf.Arg(m.group)
				buf.Arg(rows.Consumer(i))
				buf.ArgString("0")
				buf.ArgString(m.id)
				buf.ArgString("RETRYCOUNT")
				buf.ArgInt(m.count)
				buf.ArgString("FORCE")
				buf.ArgString("JUSTID")
			}
			buf.End()
			cmds = append(cmds, m)
			if len(cmds) >= t.batch || buf.Len() >= batchBytes {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return res, err
	}
	res.Rejected = st.rejected
	if t.afterPart != nil {
		if err := t.afterPart(ctx); err != nil {
			return res, err
		}
	}
	t.openGate(it.Dataset.Name, part)
	return res, nil
}

func stateCmdName(kind string) string {
	switch kind {
	case redistype.RowStream:
		return "XSETID"
	case redistype.RowGroup:
		return "XGROUP CREATE"
	case redistype.RowConsumer:
		return "XGROUP CREATECONSUMER"
	}
	return "XCLAIM"
}
