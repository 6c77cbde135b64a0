package redis

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/imbundle/imbundle/internal/redistype"
	"github.com/imbundle/imbundle/internal/redistype/resp"
)

// bigKey is a key whose first page did not hold all of it.
type bigKey struct {
	probed
	first  []resp.Value
	cursor string // next HSCAN/SSCAN/ZSCAN cursor
	lastID string // stream's last generated ID
}

// big pages through a key while holding the emitter, so that no other
// worker's rows land between its rows, and memory holds one page (plus the
// 16-byte hashes that dedupe HSCAN/SSCAN/ZSCAN repeats).
func (w *worker) big(bk bigKey) error {
	w.em.mu.Lock()
	defer w.em.mu.Unlock()
	if err := w.em.sendLocked(w.b.Flush()); err != nil {
		return err
	}
	w.seen.Reset()
	defer w.seen.Reset()
	p := bk.probed
	seq, err := w.appendPage(p, bk.first, 0)
	if err != nil {
		return err
	}
	page := strconv.Itoa(w.s.page)
	cursor := bk.cursor
	lastEntry := ""
	if p.typ == redistype.Stream {
		lastEntry = lastEntryID(bk.first)
	}
	for {
		if w.b.Full() {
			if err := w.em.sendLocked(w.b.Flush()); err != nil {
				return err
			}
		}
		w.buf.Reset()
		switch p.typ {
		case redistype.Hash, redistype.Set, redistype.ZSet:
			if cursor == "0" {
				goto done
			}
			w.buf.CmdKey(scanCmd[p.typ], p.key, cursor, "COUNT", page)
		case redistype.List:
			w.buf.CmdKey("LRANGE", p.key, strconv.FormatInt(seq, 10), strconv.FormatInt(seq+int64(w.s.page)-1, 10))
		case redistype.Stream:
			next, err := nextStreamID(lastEntry)
			if err != nil {
				return fmt.Errorf("stream %s: %w", showKey(p.key), err)
			}
			w.buf.CmdKey("XRANGE", p.key, next, "+", "COUNT", page)
		}
		var v resp.Value
		if err := w.c.Round(w.ctx, &w.buf, func(_ int, r resp.Value) error { v = r; return nil }); err != nil {
			return err
		}
		if v.Kind == resp.KindError {
			// The key was deleted or replaced while being paged: keep what
			// was read, as a SCAN-based export does for any key written
			// during the export.
			w.cnt.add(func(c *counters) { c.changed++ })
			goto done
		}
		elems, next, err := firstPage(p, v)
		if err != nil {
			return err
		}
		if seq, err = w.appendPage(p, elems, seq); err != nil {
			return err
		}
		cursor = next
		switch p.typ {
		case redistype.List:
			if len(elems) < w.s.page {
				goto done
			}
		case redistype.Stream:
			if len(elems) > 0 {
				lastEntry = lastEntryID(elems)
			}
			if len(elems) < w.s.page {
				goto done
			}
		}
	}
done:
	if p.typ == redistype.Hash && seq == 0 {
		// Every field went between HSCAN and HPEXPIRETIME: the hash is
		// gone (a hash has at least one field).
		w.cnt.add(func(c *counters) { c.vanished++ })
		return nil
	}
	if p.typ == redistype.Stream && bk.lastID == "" {
		bk.lastID = lastEntry // no XINFO STREAM on this server
	}
	w.b.KeyRow(p.key, p.typ, seq, bk.lastID, p.exp)
	w.sizes.read(p.typ, seq)
	w.cnt.add(func(c *counters) { c.keys++ })
	if w.keyDone != nil {
		w.keyDone(p.key)
	}
	// Flush before letting go of the emitter: the key's last rows must not
	// wait in this builder while another worker emits.
	return w.em.sendLocked(w.b.Flush())
}

var scanCmd = map[redistype.Type]string{redistype.Hash: "HSCAN", redistype.Set: "SSCAN", redistype.ZSet: "ZSCAN"}

// appendElems appends the element rows of one page, numbering them from
// seq, and returns the next seq. With dedupe, members already seen in an
// earlier page of the same key (a *SCAN repeat) are dropped.
func (w *worker) appendElems(p probed, elems []resp.Value, seq int64, dedupe bool) (int64, error) {
	switch p.typ {
	case redistype.Hash:
		if len(elems)%2 != 0 {
			return seq, fmt.Errorf("HSCAN %s: odd number of elements", showKey(p.key))
		}
		for i := 0; i < len(elems); i += 2 {
			fexp := redistype.NoExpiry
			if w.fexp != nil {
				if fexp = w.fexp[i/2]; fexp == fieldGone {
					continue // deleted or expired since HSCAN: counted by fieldExpiries
				}
			}
			if dedupe && !w.seen.Add(elems[i].Str) {
				continue
			}
			w.b.HashFieldExpiring(p.key, elems[i].Str, elems[i+1].Str, p.exp, fexp, seq)
			seq++
		}
	case redistype.Set:
		for _, m := range elems {
			if dedupe && !w.seen.Add(m.Str) {
				continue
			}
			w.b.SetMember(p.key, m.Str, p.exp, seq)
			seq++
		}
	case redistype.ZSet:
		if len(elems)%2 != 0 {
			return seq, fmt.Errorf("ZSCAN %s: odd number of elements", showKey(p.key))
		}
		for i := 0; i < len(elems); i += 2 {
			if dedupe && !w.seen.Add(elems[i].Str) {
				continue
			}
			score, err := ParseScore(elems[i+1].Str)
			if err != nil {
				return seq, fmt.Errorf("ZSCAN %s member %s: %w", showKey(p.key), showKey(elems[i].Str), err)
			}
			w.b.ZMember(p.key, elems[i].Str, score, p.exp, seq)
			seq++
		}
	case redistype.List:
		for _, e := range elems {
			w.b.ListElem(p.key, e.Str, seq, p.exp, seq)
			seq++
		}
	case redistype.Stream:
		for _, e := range elems {
			if e.Kind != resp.KindArray || len(e.Elems) != 2 {
				return seq, fmt.Errorf("XRANGE %s: unexpected entry shape", showKey(p.key))
			}
			id := string(e.Elems[0].Str)
			kv := e.Elems[1].Elems
			if len(kv)%2 != 0 {
				return seq, fmt.Errorf("XRANGE %s entry %s: odd number of fields", showKey(p.key), id)
			}
			for j := 0; j < len(kv); j += 2 {
				w.b.StreamPair(p.key, id, int64(j/2), kv[j].Str, kv[j+1].Str, p.exp, seq)
				seq++
			}
		}
	}
	return seq, nil
}

// ParseScore reads a sorted-set score as the server prints it: Redis 7.0
// uses %.17g, newer servers the shortest round-trip form, both exact for
// float64; "inf", "-inf" and "-0" included.
func ParseScore(b []byte) (float64, error) {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) {
		return 0, fmt.Errorf("score %q is not a number", b)
	}
	return f, nil
}

// nextStreamID is the smallest ID after id ("ms-seq"): an exclusive XRANGE
// start that works on servers without the "(" syntax.
func nextStreamID(id string) (string, error) {
	ms, sq, ok := strings.Cut(id, "-")
	a, err1 := strconv.ParseUint(ms, 10, 64)
	b, err2 := strconv.ParseUint(sq, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return "", fmt.Errorf("malformed entry ID %q", id)
	}
	if b == math.MaxUint64 {
		if a == math.MaxUint64 {
			return "", fmt.Errorf("entry ID %q is the largest possible", id)
		}
		return strconv.FormatUint(a+1, 10) + "-0", nil
	}
	return ms + "-" + strconv.FormatUint(b+1, 10), nil
}
