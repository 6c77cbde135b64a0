package redis

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/redistype"
	"github.com/imbundle/imbundle/internal/redistype/resp"
)

// LoadPart replays one part. Every key is written idempotently:
//
//   - a key that starts in this part is deleted first (fail and replace
//     modes; strings are simply SET), so a replayed part rewrites it rather
//     than adding to it; in append mode a list is first cut back to the
//     length it had before this import (kept in the import marker);
//   - a key that began in the previous part (its first row has seq > 0)
//     waits until that part is loaded, then continues: a list is first cut
//     to the index its rows start at; a stream entry that is already there
//     (XADD refuses its ID) is compared with the bundle's and counted as
//     loaded when equal; hashes, sets and sorted sets need nothing (their
//     writes are idempotent). A part is never complete before the one
//     before it, so a resumed import replays parts from the first
//     incomplete one on, in order, and every key comes out whole;
//   - the TTL is set when the key row (the key's last row) is written.
//
// Keys already expired at import time are skipped and counted.
func (t *Target) LoadPart(ctx context.Context, p *importer.Plan, it *importer.Item, part int, recs importer.RecordSource) (importer.PartResult, error) {
	if isStreamState(it.Dataset) {
		return t.loadStreamState(ctx, p, it, part, recs)
	}
	var res importer.PartResult
	db, err := dbOf(it)
	if err != nil {
		return res, err
	}
	pl, err := t.pool(ctx, db)
	if err != nil {
		return res, err
	}
	st := &partState{plan: p, dataset: it.Dataset.Name, part: part}
	l := &loader{t: t, ctx: ctx, st: st, pool: pl, it: it, marker: t.markers[db], exportedAt: it.Source.ExportedAt.UnixMilli(), fresh: t.fresh[db]}
	l.part = part
	l.conn = part % len(pl.queues)
	var (
		cur    *run
		rowNum int64
	)
	err = importer.Drain(recs, func(rec arrow.RecordBatch) error {
		rows, err := redistype.NewRows(rec)
		if err != nil {
			return err
		}
		for i := 0; i < rows.N; i++ {
			if err := rows.Check(i); err != nil {
				return fmt.Errorf("row %d: %w", rowNum, err)
			}
			seq, key := rows.Seq(i), rows.Key(i)
			switch {
			case cur == nil:
				if seq != 0 {
					if rowNum != 0 {
						return fmt.Errorf("row %d: key %s starts at seq %d: a key's rows must be contiguous from seq 0 (damaged or hand-made bundle?)", rowNum, showKey(key), seq)
					}
					if err := t.waitPart(ctx, it.Dataset.Name, part-1); err != nil {
						return err
					}
				}
				cur = l.start(rows, i, rowNum)
			case seq != cur.next || !bytes.Equal(key, cur.key):
				return fmt.Errorf("row %d: expected row %d of key %s, found row %d of key %s (damaged or hand-made bundle?)", rowNum, cur.next, showKey(cur.key), seq, showKey(key))
			}
			l.row(cur, rows, i, rowNum)
			cur.next++
			if rows.IsKeyRow(i) {
				l.finish(cur, rows, i, rowNum, &res)
				cur = nil
			}
			rowNum++
		}
		return nil
	})
	if err == nil {
		if cur != nil && !cur.skip {
			// The key goes on in the next part: close its open commands.
			l.endCmd(cur)
			l.endEntry(cur)
			l.zsetLast(cur)
			l.earlyTTL(cur)
		}
		l.dispatch()
	} else if l.cur != nil {
		// A bad row: the batch being built may hold half a command. Drop
		// it; what was sent is complete keys or key prefixes that a rerun
		// rewrites.
		l.cur.recycle()
		l.cur = nil
	}
	st.wg.Wait()
	if err == nil {
		err = st.err
	}
	if err != nil {
		return res, err
	}
	res.Rows = st.written
	res.Rejected = st.rejected
	res.Expired += l.expiredFields
	if t.afterPart != nil {
		if err := t.afterPart(ctx); err != nil {
			return res, err
		}
	}
	if cur != nil {
		t.setCarry(it.Dataset.Name, part, carry{skip: cur.skip, expired: cur.expired})
	}
	t.openGate(it.Dataset.Name, part)
	return res, nil
}

// waitPart blocks until part of dataset is loaded: a key that straddles a
// part boundary must be continued after its beginning is written.
func (t *Target) waitPart(ctx context.Context, dataset string, part int) error {
	t.mu.Lock()
	g := t.gates[gateKey{dataset, part}]
	t.mu.Unlock()
	if g == nil {
		return nil // not part of this plan
	}
	select {
	case <-g:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// carry is what a part decided about the key that goes on in the next one.
type carry struct{ skip, expired bool }

func (t *Target) setCarry(dataset string, part int, c carry) {
	t.mu.Lock()
	t.carries[gateKey{dataset, part}] = c
	t.mu.Unlock()
}

func (t *Target) takeCarry(dataset string, part int) (carry, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c, ok := t.carries[gateKey{dataset, part}]
	delete(t.carries, gateKey{dataset, part})
	return c, ok
}

func (t *Target) openGate(dataset string, part int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if g := t.gates[gateKey{dataset, part}]; g != nil {
		close(g)
		delete(t.gates, gateKey{dataset, part})
	}
}

// run is the part of one key that lies in this part.
type run struct {
	key     []byte // copied
	typ     redistype.Type
	exp     int64
	next    int64 // seq expected next
	skip    bool  // filtered out or expired
	expired bool
	ttlSet  bool // earlyTTL sent the TTL in this part
	head    bool // the key starts in this part

	hinted    bool   // hintHash decided (hashenc.go)
	hintField []byte // the first field of the first HSET, for the hint

	cmdOpen  bool // an HSET/SADD/ZADD/RPUSH is being built
	cmdElems int
	cmdRow   int64
	entryID  string // the XADD being built ("" = none)
	entry    [][]byte
	negZero  [][]byte // sorted-set members scored -0, written last (see zsetLast)

	fields runFieldTTLs // hash fields' own TTLs (fieldttl.go)
}

// loader turns one part's rows into batches of commands.
type loader struct {
	t          *Target
	ctx        context.Context
	st         *partState
	pool       *pool
	it         *importer.Item
	marker     string
	exportedAt int64

	part  int
	fresh bool // --mode fail checked that no key exists: nothing to delete first
	cur   *batch
	lists *listBases // append-mode list starts of the current batch
	conn  int        // queue the current batch goes to
	open  *run

	expiredFields int64 // hash fields skipped as expired (fieldttl.go)
}

func (l *loader) batch() *batch {
	if l.cur == nil {
		l.cur = &batch{ctx: l.ctx, st: l.st}
	}
	return l.cur
}

// seg returns the command segment commands are appended to.
func (l *loader) seg() *segment {
	b := l.batch()
	if n := len(b.segs); n > 0 && b.segs[n-1].op == nil {
		return b.segs[n-1]
	}
	s := newSegment()
	b.segs = append(b.segs, s)
	return s
}

// cmdDone records the meta of the command just ended and sends the batch
// when it is full. Only called between commands.
func (l *loader) cmdDone(m cmdMeta) {
	s := l.seg()
	s.meta = append(s.meta, m)
	b := l.cur
	b.cmds++
	if b.cmds >= l.t.batch || b.size+s.buf.Len() >= batchBytes {
		l.dispatch()
	}
}

// op appends a synchronous operation.
func (l *loader) op(f func(ctx context.Context, c *resp.Conn) error) {
	b := l.batch()
	s := newSegment()
	s.op = f
	b.segs = append(b.segs, s)
	b.cmds++
}

// dispatch sends the current batch. Batches go round-robin over the
// connections, except while a key is open: then its next batch follows on
// the same connection, in order.
func (l *loader) dispatch() {
	b := l.cur
	if b == nil || b.cmds == 0 {
		return
	}
	l.cur = nil
	l.st.wg.Add(1)
	select {
	case l.pool.queues[l.conn] <- b:
	case <-l.ctx.Done():
		l.st.fail(l.ctx.Err())
		l.st.wg.Done()
		return
	}
	if l.open == nil {
		l.conn = (l.conn + 1) % len(l.pool.queues)
	}
}

// mode is the item's mode (a delta import's items have their own).
func (l *loader) mode() importer.Mode { return l.st.plan.ModeOf(l.it) }

// start begins the run of a key at row i.
func (l *loader) start(rows *redistype.Rows, i int, rowNum int64) *run {
	r := &run{key: bytes.Clone(rows.Key(i)), typ: rows.Type(i), exp: rows.ExpireAt(i), next: rows.Seq(i)}
	r.fields.head = r.next == 0
	l.open = r
	if r.next > 0 {
		// Whether to skip a key is decided once, where it starts: a key
		// whose TTL runs out while it is being loaded must not be half
		// written without its TTL.
		if c, ok := l.t.takeCarry(l.it.Dataset.Name, l.part-1); ok {
			r.skip, r.expired = c.skip, c.expired
		}
	} else {
		r.skip = len(l.t.prefix) > 0 && !bytes.HasPrefix(r.key, l.t.prefix)
		if !r.skip && l.t.expired(r.exp, l.it, l.t.now().UnixMilli()) {
			r.skip, r.expired = true, true
		}
	}
	appendMode := l.mode() == importer.ModeAppend
	if r.expired && r.next == 0 && !appendMode && !l.fresh {
		// A resumed or replace-mode run: an earlier, interrupted run may
		// have left this key cut off. It has expired since: the bundle
		// says it is gone, so it goes.
		l.control("DEL", r.key)
	}
	if r.skip {
		return r
	}
	head := r.next == 0
	r.head = head
	switch {
	case head && r.typ == redistype.List && appendMode:
		l.listBase(r, 0)
	case head && r.typ != redistype.String && !appendMode && !l.fresh:
		l.control("DEL", r.key)
	case !head && r.typ == redistype.List:
		// The elements before this part: a list's seq is its element
		// position, and the key row's seq is the element count (its index
		// is NULL), so a part that holds only the key row keeps them all.
		if appendMode {
			l.listBase(r, r.next)
		} else {
			l.control("LTRIM", r.key, "0", strconv.FormatInt(r.next-1, 10))
		}
	}
	return r
}

// control appends a command whose failure fails the part.
func (l *loader) control(name string, key []byte, args ...string) {
	s := l.seg()
	s.buf.CmdKey(name, key, args...)
	l.cmdDone(cmdMeta{kind: kindControl, key: key, name: name})
}

// row writes an element row (key rows are finish's).
func (l *loader) row(r *run, rows *redistype.Rows, i int, rowNum int64) {
	if r.skip || rows.IsKeyRow(i) {
		return
	}
	switch r.typ {
	case redistype.Hash:
		if l.hashFieldExpired(r, rows, i) {
			return
		}
		s := l.beginCmd(r, "HSET", rowNum)
		l.noteHashField(r, rows.Field(i))
		s.buf.Arg(rows.Field(i))
		s.buf.Arg(rows.Value(i))
	case redistype.Set:
		s := l.beginCmd(r, "SADD", rowNum)
		s.buf.Arg(rows.Field(i))
	case redistype.ZSet:
		sc := rows.Score(i)
		if sc == 0 && math.Signbit(sc) {
			r.negZero = append(r.negZero, bytes.Clone(rows.Field(i)))
			return
		}
		s := l.beginCmd(r, "ZADD", rowNum)
		s.buf.ArgString(formatScore(sc))
		s.buf.Arg(rows.Field(i))
	case redistype.List:
		s := l.beginCmd(r, "RPUSH", rowNum)
		s.buf.Arg(rows.Value(i))
	case redistype.Stream:
		l.entryRow(r, rows, i, rowNum)
		return
	}
	r.cmdElems++
	if r.cmdElems >= l.cmdLimit(r) {
		l.endCmd(r)
		l.earlyTTL(r)
	}
}

// earlyTTL sets the TTL of a key that takes more than one command, after
// its first: a run killed before the key row leaves a cut-off key that
// still expires when the bundle says, rather than one that lives forever
// without its TTL. finish sets it again at the end.
func (l *loader) earlyTTL(r *run) {
	if r.ttlSet || r.skip || r.exp == redistype.NoExpiry {
		return
	}
	r.ttlSet = true
	l.ttl(r)
}

// ttl sends a key's TTL: absolute by default, or what was left at export.
func (l *loader) ttl(r *run) {
	if l.t.ttlRelative {
		l.control("PEXPIRE", r.key, strconv.FormatInt(r.exp-l.exportedAt, 10))
	} else {
		l.control("PEXPIREAT", r.key, strconv.FormatInt(r.exp, 10))
	}
}

func (l *loader) beginCmd(r *run, name string, rowNum int64) *segment {
	s := l.seg()
	if !r.cmdOpen {
		s.buf.Begin(name)
		s.buf.Arg(r.key)
		r.cmdOpen, r.cmdElems, r.cmdRow = true, 0, rowNum
	}
	return s
}

func (l *loader) endCmd(r *run) {
	if !r.cmdOpen {
		return
	}
	s := l.seg()
	l.hintHash(r, s)
	s.buf.End()
	r.cmdOpen = false
	name := map[redistype.Type]string{redistype.Hash: "HSET", redistype.Set: "SADD", redistype.ZSet: "ZADD", redistype.List: "RPUSH"}[r.typ]
	l.cmdDone(cmdMeta{kind: kindData, row: r.cmdRow, rows: int64(r.cmdElems), key: r.key, name: name})
	if r.typ == redistype.Hash {
		l.sendFieldTTLs(r)
	}
}

// finish writes the key row: the string value, a stream's last ID, the
// TTL; and counts an expired key.
func (l *loader) finish(r *run, rows *redistype.Rows, i int, rowNum int64, res *importer.PartResult) {
	// The key stays open (its batches stay on one connection) until its
	// last command: a TTL sent on another connection could run before the
	// SET or RPUSH it belongs after.
	defer func() { l.open = nil }()
	if r.skip && r.typ == redistype.Stream {
		l.t.skipStream(l.pool.db, r.key) // its stream state is skipped too
	}
	if r.expired {
		res.Expired++
		return
	}
	if r.skip {
		return
	}
	if r.allFieldsExpired() {
		res.Expired++
		return
	}
	l.endCmd(r)
	l.endEntry(r)
	s := l.seg()
	switch r.typ {
	case redistype.String:
		s.buf.Begin("SET")
		s.buf.Arg(r.key)
		s.buf.Arg(rows.Value(i))
		s.buf.End()
		l.cmdDone(cmdMeta{kind: kindData, row: rowNum, rows: 1, key: r.key, name: "SET"})
	case redistype.ZSet:
		l.zsetLast(r)
		l.st.addWritten(1)
	case redistype.Stream:
		l.streamLastID(r, rows.StreamID(i), rows.Elements(i) == 0)
		l.st.addWritten(1)
	default:
		l.st.addWritten(1)
	}
	switch {
	case r.exp != redistype.NoExpiry:
		l.ttl(r)
	case l.mode() == importer.ModeAppend && r.typ != redistype.String:
		// The bundle's key has no TTL; a merged target key loses its own.
		l.control("PERSIST", r.key)
	}
}

// zsetLast writes the members scored -0 after all others. Redis 7.0 keeps
// the sign of a zero score only in a skiplist-encoded sorted set: a member
// added while the set is still a listpack comes back as 0. Adding them last
// gives -0 whenever the set is large enough to be a skiplist by then.
func (l *loader) zsetLast(r *run) {
	if len(r.negZero) == 0 {
		return
	}
	s := l.seg()
	s.buf.Begin("ZADD")
	s.buf.Arg(r.key)
	for _, m := range r.negZero {
		s.buf.ArgString("-0")
		s.buf.Arg(m)
	}
	s.buf.End()
	l.cmdDone(cmdMeta{kind: kindData, rows: int64(len(r.negZero)), key: r.key, name: "ZADD"})
	r.negZero = nil
}

// formatScore prints a score so that every server parses it back exactly.
func formatScore(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
