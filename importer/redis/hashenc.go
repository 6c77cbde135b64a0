package redis

import (
	"bytes"
	"context"
	"strconv"
	"strings"

	"github.com/imbundle/imbundle/internal/redistype"
	"github.com/imbundle/imbundle/internal/redistype/resp"
)

// Redis (7.0 and before) builds every new hash as a listpack, whatever the
// HSET that creates it holds: the first hash-max-listpack-entries (128)
// fields are inserted one by one, each after a linear search of the
// listpack, then the hash is converted to a hash table. For a hash that
// ends up bigger than that, the listpack phase is most of the HSET's cost.
// A hash that has a value longer than hash-max-listpack-value is a hash
// table from the start; so before the first HSET of a key that will be a
// hash table anyway (its first command alone holds more fields than a
// listpack may), the loader sends HSET key field1 <a value one byte too
// long for a listpack>, which the HSET that follows overwrites with
// field1's own value. The hash ends as the server would have built it,
// a hash table, holding exactly the bundle's fields: 800-field hashes on
// Redis 7.0.15 took the server 0.3-0.7 us a field instead of 1.4-2.5.
// Servers that do not report these settings (Pika, Kvrocks, a CONFIG
// refused) get no hint.
type hashHint struct {
	entries int    // hash-max-listpack-entries; 0 = no hint
	value   string // a value longer than hash-max-listpack-value
}

// readHashHint reads the target's listpack limits (ziplist names before
// Redis 7).
func readHashHint(ctx context.Context, c *resp.Conn) hashHint {
	get := func(name string) (int, bool) {
		for _, n := range []string{"hash-max-listpack-" + name, "hash-max-ziplist-" + name} {
			v, err := c.Do(ctx, "CONFIG", "GET", n)
			if err != nil || v.Kind != resp.KindArray || len(v.Elems) != 2 {
				continue
			}
			if x, err := strconv.Atoi(string(v.Elems[1].Str)); err == nil && x >= 0 {
				return x, true
			}
		}
		return 0, false
	}
	entries, ok1 := get("entries")
	value, ok2 := get("value")
	if !ok1 || !ok2 || entries == 0 || value > 1<<20 {
		return hashHint{}
	}
	return hashHint{entries: entries, value: strings.Repeat("x", value+1)}
}

// maxHintEntries bounds the first HSET's size: a server configured for
// listpacks of more fields gets no hint.
const maxHintEntries = 4096

// cmdLimit is the number of elements a command of r may hold. The first
// HSET of a hash may hold one more field than a listpack, so that hintHash
// can tell from it alone that the hash will be a hash table, when the
// command's usual size (elements, default 512) would not tell (Debian's
// Redis 7.0 allows 512-field listpacks).
func (l *loader) cmdLimit(r *run) int {
	if e := l.t.hint.entries; r.typ == redistype.Hash && r.head && !r.hinted && e >= l.t.elems && e < maxHintEntries {
		return e + 1
	}
	return l.t.elems
}

// noteHashField keeps the first field of a hash key's first command in
// this part, for hintHash.
func (l *loader) noteHashField(r *run, field []byte) {
	if r.head && !r.hinted && r.cmdElems == 0 && l.t.hint.entries > 0 {
		r.hintField = bytes.Clone(field)
	}
}

// hintHash sends the hint ahead of the open first HSET of a key, if that
// HSET makes a hash table anyway. Called once the command is built, before
// it is ended.
func (l *loader) hintHash(r *run, s *segment) {
	if r.typ != redistype.Hash || r.hinted {
		return
	}
	r.hinted = true
	if r.hintField == nil || r.cmdElems <= l.t.hint.entries {
		return
	}
	s.buf.Ahead([]byte("HSET"), r.key, r.hintField, []byte(l.t.hint.value))
	// Not cmdDone: the batch must not be sent with the HSET still open.
	s.meta = append(s.meta, cmdMeta{kind: kindHint, key: r.key, name: "HSET"})
	l.cur.cmds++
	r.hintField = nil
}
