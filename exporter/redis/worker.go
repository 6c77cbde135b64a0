package redis

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/imbundle/imbundle/internal/redistype"
	"github.com/imbundle/imbundle/internal/redistype/resp"
)

// worker reads batches of keys on its own connection into its own builder.
type worker struct {
	s     *Source
	ctx   context.Context
	c     *resp.Conn
	b     *redistype.Builder
	em    *emitter
	cnt   *counters
	unsup *unsupported
	buf   resp.Buf
	seen  redistype.KeySet // members of the big key being paged
	ft    fieldTTLMode     // hash field TTLs: the column, and whether to read them
	fexp  []int64          // own expiry of each field of the hash page appendElems appends (nil: none)
	sizes sizes            // which types' lengths are worth asking
	// keyDone, if set, is called after each key's rows are appended
	// (verify uses it to digest keys one by one).
	keyDone func(key []byte)
}

// probed is a key after TYPE and PTTL.
type probed struct {
	key   []byte
	typ   redistype.Type
	exp   int64
	whole bool // its length fits in a page: read it whole
}

// run reads the batches from keys. Rounds are overlapped: one round trip
// carries the value reads of the keys whose type (and, if asked, length)
// is known, the length probes of the last batch's keys that need one
// (length.go) and the TYPE+PTTL of the next batch, so a batch costs one
// round trip, not two or three (what counts when the server or the
// machine is busy and every round trip waits). Keys that need no length
// are read in the round after their TYPE.
func (w *worker) run(keys <-chan [][]byte) error {
	var (
		sized []probed // to read: lengths known or not needed
		typed []probed // types known, lengths to ask
		open  = true   // keys may still send batches
	)
	for {
		var next [][]byte
		if open {
			select {
			case next, open = <-keys:
			case <-w.ctx.Done():
				return w.ctx.Err()
			}
		}
		if !open && len(sized) == 0 && len(typed) == 0 {
			return nil
		}
		w.buf.Reset()
		dec := w.readEncode(sized)
		nRead := w.buf.Cmds()
		w.lenEncode(typed)
		nLen := w.buf.Cmds()
		w.probeEncode(next)
		// The value replies become rows as they arrive; only the probes
		// (small replies, two or three a key) are kept for after the round.
		var lens, probes []resp.Value
		if w.buf.Cmds() > 0 {
			lens = make([]resp.Value, 0, nLen-nRead)
			probes = make([]resp.Value, 0, w.buf.Cmds()-nLen)
			if err := w.c.Round(w.ctx, &w.buf, func(i int, v resp.Value) error {
				switch {
				case i < nRead:
					return dec.reply(v)
				case i < nLen:
					lens = append(lens, v)
				default:
					probes = append(probes, v)
				}
				return nil
			}); err != nil {
				return err
			}
		}
		var ps []probed
		if len(next) > 0 {
			var err error
			if ps, err = w.probeDecode(next, probes); err != nil {
				return err
			}
		}
		w.lenDecode(typed, lens)
		if len(sized) > 0 {
			again, err := dec.finish()
			if err != nil {
				return err
			}
			if err := w.recheck(again, sized); err != nil {
				return err
			}
			w.sizes.update()
		}
		if len(next) > 0 && w.s.afterProbe != nil {
			w.s.afterProbe(w.c.DB(), next)
		}
		ready, needLen := w.sizes.split(ps)
		sized, typed = append(typed, ready...), needLen
	}
}

// recheck reads keys again whose read found them gone or of another type
// than TYPE said: one synchronous round of TYPE+PTTL and one of values per
// attempt.
func (w *worker) recheck(keys [][]byte, before []probed) error {
	if len(keys) == 0 {
		return nil
	}
	prev := make(map[string]redistype.Type, len(before))
	for _, p := range before {
		prev[string(p.key)] = p.typ
	}
	for attempt := 2; len(keys) > 0; attempt++ {
		if attempt > maxAttempts {
			return fmt.Errorf("key %s changed type %d times while being read; stop the writers or export it later", showKey(keys[0]), maxAttempts)
		}
		ps, err := w.probe(keys)
		if err != nil {
			return err
		}
		var retyped int64
		for _, p := range ps {
			if t, ok := prev[string(p.key)]; ok && t != p.typ {
				retyped++
			}
			prev[string(p.key)] = p.typ
		}
		if retyped > 0 {
			w.cnt.add(func(c *counters) { c.retyped += retyped })
		}
		if keys, err = w.read(ps); err != nil {
			return err
		}
	}
	return nil
}

func (w *worker) probe(keys [][]byte) ([]probed, error) {
	w.buf.Reset()
	w.probeEncode(keys)
	replies := make([]resp.Value, 0, w.buf.Cmds())
	if err := w.c.Round(w.ctx, &w.buf, func(_ int, v resp.Value) error {
		replies = append(replies, v)
		return nil
	}); err != nil {
		return nil, err
	}
	return w.probeDecode(keys, replies)
}

func (w *worker) probeEncode(keys [][]byte) {
	for _, k := range keys {
		w.buf.CmdKey("TYPE", k)
		w.buf.CmdKey("PTTL", k)
	}
}

func (w *worker) probeDecode(keys [][]byte, replies []resp.Value) ([]probed, error) {
	types := make([]string, len(keys))
	ttls := make([]int64, len(keys))
	for i, v := range replies {
		k := i / 2
		if err := v.Err(); err != nil {
			cmd := "TYPE"
			if i%2 == 1 {
				cmd = "PTTL"
			}
			return nil, fmt.Errorf("%s %s: %w", cmd, showKey(keys[k]), err)
		}
		if i%2 == 0 {
			types[k] = string(v.Str)
		} else {
			ttls[k] = v.Int
		}
	}
	now := time.Now().UnixMilli()
	out := make([]probed, 0, len(keys))
	var vanished int64
	unsup := false
	for i, k := range keys {
		t := types[i]
		if t == "none" || ttls[i] == -2 {
			vanished++
			continue
		}
		if !redistype.Known(redistype.Type(t)) {
			if w.s.skipUnsupported {
				w.cnt.add(func(c *counters) { c.skipped[t]++ })
				w.s.opts.Log.Warn("skipped key of unsupported type", "db", w.c.DB(), "key", showKey(k), "type", t)
			} else {
				w.unsup.add(k, t)
				unsup = true
			}
			continue
		}
		exp := redistype.NoExpiry
		if ttls[i] >= 0 {
			exp = now + ttls[i]
		}
		out = append(out, probed{key: k, typ: redistype.Type(t), exp: exp})
	}
	if vanished > 0 {
		w.cnt.add(func(c *counters) { c.vanished += vanished })
	}
	if unsup {
		return nil, w.unsup.err()
	}
	return out, nil
}

// read fetches the values of probed keys and appends their rows. It
// returns the keys to probe again.
func (w *worker) read(ps []probed) ([][]byte, error) {
	w.buf.Reset()
	dec := w.readEncode(ps)
	if err := w.c.Round(w.ctx, &w.buf, func(_ int, v resp.Value) error { return dec.reply(v) }); err != nil {
		return nil, err
	}
	return dec.finish()
}

// readEncode appends the value reads of ps to w.buf (the strings with one
// MGET) and returns the decoder of their replies.
func (w *worker) readEncode(ps []probed) *readDec {
	dec := &readDec{w: w, ps: ps}
	page := strconv.Itoa(w.s.page)
	pageEnd := strconv.Itoa(w.s.page - 1)
	for i, p := range ps {
		if p.typ == redistype.String {
			dec.strs = append(dec.strs, i)
		}
	}
	if len(dec.strs) > 0 {
		w.buf.Begin("MGET")
		for _, i := range dec.strs {
			w.buf.Arg(ps[i].key)
		}
		w.buf.End()
	}
	for _, p := range ps {
		if p.whole {
			w.wholeEncode(p)
			continue
		}
		switch p.typ {
		case redistype.Hash:
			w.buf.CmdKey("HSCAN", p.key, "0", "COUNT", page)
		case redistype.Set:
			w.buf.CmdKey("SSCAN", p.key, "0", "COUNT", page)
		case redistype.ZSet:
			w.buf.CmdKey("ZSCAN", p.key, "0", "COUNT", page)
		case redistype.List:
			w.buf.CmdKey("LRANGE", p.key, "0", pageEnd)
		case redistype.Stream:
			w.buf.Begin("XINFO")
			w.buf.ArgString("STREAM")
			w.buf.Arg(p.key)
			w.buf.End()
			w.buf.CmdKey("XRANGE", p.key, "-", "+", "COUNT", page)
		}
	}
	return dec
}

// readDec turns the replies of readEncode into rows one reply at a time,
// as they arrive: a round of a thousand keys of hundreds of elements is
// never held whole. Holding it was issue 9's 590-660 MiB peak RSS on 6,000
// keys of 50-800 elements (four readers, each with a round of replies and
// the next one coming). Keys bigger than a page are paged after the round.
type readDec struct {
	w        *worker
	ps       []probed
	strs     []int      // indexes in ps of the strings (one MGET)
	n        int        // replies seen
	k        int        // index in ps of the key the next reply is for
	info     resp.Value // a stream's XINFO reply, until its XRANGE reply
	haveInfo bool
	again    [][]byte // keys to probe again
	bigs     []bigKey
	hashes   []heldHash // small hashes waiting for their fields' TTLs (fieldttl.go)
}

func (d *readDec) reply(v resp.Value) error {
	first := d.n == 0
	d.n++
	if first && len(d.strs) > 0 {
		return d.mget(v)
	}
	for d.ps[d.k].typ == redistype.String {
		d.k++
	}
	p := d.ps[d.k]
	if p.typ == redistype.Stream && !d.haveInfo {
		d.info, d.haveInfo = v, true
		return nil
	}
	d.k++
	info := d.info
	d.info, d.haveInfo = resp.Value{}, false
	return d.value(p, info, v)
}

// redo notes a key found gone or retyped by its read.
func (d *readDec) redo(p probed, v resp.Value) error {
	if err := v.Err(); err != nil && !resp.IsServerError(err, "WRONGTYPE") && !resp.IsServerError(err, "ERR no such key") {
		return fmt.Errorf("read %s %s: %w", p.typ, showKey(p.key), err)
	}
	d.again = append(d.again, p.key)
	return nil
}

func (d *readDec) mget(v resp.Value) error {
	w, ps := d.w, d.ps
	if err := v.Err(); err != nil {
		return fmt.Errorf("MGET: %w", err)
	}
	if v.Kind != resp.KindArray || len(v.Elems) != len(d.strs) {
		return fmt.Errorf("MGET of %d keys: unexpected reply", len(d.strs))
	}
	for j, i := range d.strs {
		e := v.Elems[j]
		if e.Kind == resp.KindNil {
			// Deleted, or no longer a string: MGET cannot tell.
			d.again = append(d.again, ps[i].key)
			continue
		}
		w.b.StringKey(ps[i].key, e.Str, ps[i].exp)
		w.cnt.noteSchemaKey(ps[i].key, e.Str)
		if err := w.keyAppended(ps[i].key); err != nil {
			return err
		}
	}
	return nil
}

// value appends the rows of a key read whole, or keeps its first page for
// finish if it is bigger than a page.
func (d *readDec) value(p probed, info, v resp.Value) error {
	w := d.w
	var lastID string
	if p.typ == redistype.Stream {
		switch err := info.Err(); {
		case err == nil:
			lastID = streamInfo(info)
		case resp.IsServerError(err, "ERR unknown"), resp.IsServerError(err, "ERR syntax"):
			// No XINFO STREAM (older Pika): the last entry's ID stands
			// in for the last generated ID, and is counted.
			w.cnt.add(func(c *counters) { c.guessedIDs++ })
		default:
			return d.redo(p, info)
		}
	}
	if v.Kind == resp.KindError {
		return d.redo(p, v)
	}
	first, cursor, err := firstPage(p, v)
	if err != nil {
		return err
	}
	if len(first) == 0 && cursor == "0" && p.typ != redistype.Stream {
		// Empty hashes, sets, lists and sorted sets do not exist: the key
		// went away after TYPE.
		d.again = append(d.again, p.key)
		return nil
	}
	more := cursor != "0"
	if p.typ == redistype.List || p.typ == redistype.Stream {
		more = len(first) == w.s.page
	}
	if more {
		d.bigs = append(d.bigs, bigKey{probed: p, first: first, cursor: cursor, lastID: lastID})
		return nil
	}
	if p.typ == redistype.Hash && w.ft.read {
		d.hashes = append(d.hashes, heldHash{p, first})
		return nil
	}
	n, err := w.appendElems(p, first, 0, false)
	if err != nil {
		return err
	}
	w.sizes.read(p.typ, n)
	if p.typ == redistype.Stream && lastID == "" {
		lastID = lastEntryID(first)
	}
	w.b.KeyRow(p.key, p.typ, n, lastID, p.exp)
	return w.keyAppended(p.key)
}

// finish pages the big keys to the end and returns the keys to probe
// again.
func (d *readDec) finish() ([][]byte, error) {
	if err := d.appendHeldHashes(); err != nil {
		return nil, err
	}
	for _, bk := range d.bigs {
		if err := d.w.big(bk); err != nil {
			return nil, err
		}
	}
	d.bigs = nil
	return d.again, nil
}

// keyAppended counts a finished key and cuts a record batch when the
// builder is full (only ever between keys, outside big keys).
func (w *worker) keyAppended(key []byte) error {
	w.cnt.add(func(c *counters) { c.keys++ })
	if w.keyDone != nil {
		w.keyDone(key)
	}
	if w.b.Full() {
		return w.em.send(w.b.Flush())
	}
	return nil
}

// firstPage splits a first-page reply into its elements and, for the
// *SCAN commands, the next cursor.
func firstPage(p probed, v resp.Value) ([]resp.Value, string, error) {
	if v.Kind != resp.KindArray {
		return nil, "", fmt.Errorf("read %s %s: unexpected reply %s", p.typ, showKey(p.key), v.String())
	}
	switch {
	case p.whole:
		return v.Elems, "0", nil
	case p.typ == redistype.Hash, p.typ == redistype.Set, p.typ == redistype.ZSet:
		if len(v.Elems) != 2 || v.Elems[1].Kind != resp.KindArray {
			return nil, "", fmt.Errorf("scan %s %s: unexpected reply shape", p.typ, showKey(p.key))
		}
		return v.Elems[1].Elems, string(v.Elems[0].Str), nil
	}
	return v.Elems, "0", nil
}

// streamInfo reads last-generated-id from an XINFO STREAM reply (a flat
// list of name/value pairs in RESP2). Groups and the rest of a stream's
// state are the stream-state dataset's (streamstate.go).
func streamInfo(v resp.Value) (lastID string) {
	if id := pairs(v)["last-generated-id"].Str; len(id) > 0 {
		return string(id)
	}
	return "0-0"
}

// lastEntryID is the ID of the last entry of an XRANGE page, "0-0" if none.
func lastEntryID(entries []resp.Value) string {
	if len(entries) == 0 || len(entries[len(entries)-1].Elems) == 0 {
		return "0-0"
	}
	return string(entries[len(entries)-1].Elems[0].Str)
}
