package redis

import (
	"github.com/imbundle/imbundle/internal/redistype"
	"github.com/imbundle/imbundle/internal/redistype/resp"
)

// Hashes, sets and sorted sets no bigger than a page are read whole
// (HGETALL, SMEMBERS, ZREVRANGE 0 -1 WITHSCORES): on Redis 7.0 these cost
// the server about half (HGETALL) and 60% (ZREVRANGE) of the HSCAN/ZSCAN
// of the same key. Sorted sets are read highest score first because that
// is the order Redis inserts fastest: each ZADD member then goes to the
// head of the skiplist, and an import's ZADD costs the server half of what
// it costs in ascending or ZSCAN order (0.8-1.0 against 1.7-1.9 us an
// element, 800-member sets, Redis 7.0.15).
//
// But a whole read takes the key whatever its size, so the key's length
// is asked first (one O(1) command, in the round before the read): a key
// longer than a page is paged as before, and memory stays at one page. A
// key that grows between the two rounds is still read whole and
// correctly; only its reply is bigger than a page. Lists need no length:
// LRANGE 0 page-1 is already bounded and whole for short lists.
//
// The length probe is one more command a key, which small keys do not earn
// back: 300,000 keys of 5 elements (bench/redis load) cost the server
// about 10% more CPU with it. So a worker stops asking the lengths of a type's keys
// while the keys of that type it read last averaged fewer than lenWorthy
// elements, and reads them with H/S/ZSCAN as before, in the round after
// their TYPE as before. It asks until it has read keys of the type (its
// first two batches' lengths are asked before any key is read), so that a
// small keyspace of big keys is read whole. Both ways read the same rows.
var lenCmd = map[redistype.Type]string{redistype.Hash: "HLEN", redistype.Set: "SCARD", redistype.ZSet: "ZCARD"}

// lenWorthy is the mean element count from which a length probe pays:
// on Redis 7.0 a whole read saves the server 0.2-0.4 us an element over
// H/S/ZSCAN (INFO commandstats, 6,000 keys of 50-800 elements) and a
// pipelined O(1) command costs it about 1.3 us (INFO cpu, 300,000 small
// keys): the break-even is 4-7 elements; lenWorthy leaves a margin.
const lenWorthy = 32

// sizes is what a worker has seen of the sizes of hashes, sets and sorted
// sets.
type sizes struct {
	small       map[redistype.Type]bool  // do not ask the lengths of this type's keys
	keys, elems map[redistype.Type]int64 // read since the last update
}

// read notes a key of n elements read.
func (s *sizes) read(t redistype.Type, n int64) {
	if _, ok := lenCmd[t]; !ok {
		return
	}
	if s.keys == nil {
		s.keys, s.elems, s.small = map[redistype.Type]int64{}, map[redistype.Type]int64{}, map[redistype.Type]bool{}
	}
	s.keys[t]++
	s.elems[t] += n
}

// update decides, after a round of reads, which types are worth a length
// probe; a type not read in the round keeps its decision.
func (s *sizes) update() {
	for t, n := range s.keys {
		s.small[t] = s.elems[t] < lenWorthy*n
	}
	clear(s.keys)
	clear(s.elems)
}

// split separates the keys of ps whose length is worth asking from the
// others, which can be read at once.
func (s *sizes) split(ps []probed) (ready, needLen []probed) {
	for _, p := range ps {
		if _, ok := lenCmd[p.typ]; ok && !s.small[p.typ] {
			needLen = append(needLen, p)
		} else {
			ready = append(ready, p)
		}
	}
	return ready, needLen
}

// lenEncode appends the length probes of ps (split's needLen).
func (w *worker) lenEncode(ps []probed) {
	for _, p := range ps {
		w.buf.CmdKey(lenCmd[p.typ], p.key)
	}
}

// lenDecode marks the keys of ps whose length replies (in lenEncode's
// order) say they fit in a page. Any other reply (the key went away or
// changed type since TYPE: 0 or WRONGTYPE) leaves the key to the paged
// read, which finds out and reads it again if need be.
func (w *worker) lenDecode(ps []probed, replies []resp.Value) {
	for i := range ps {
		v := replies[i]
		ps[i].whole = v.Kind == resp.KindInt && v.Int > 0 && v.Int <= int64(w.s.page)
	}
}

// wholeEncode appends the whole read of a key marked whole.
func (w *worker) wholeEncode(p probed) {
	switch p.typ {
	case redistype.Hash:
		w.buf.CmdKey("HGETALL", p.key)
	case redistype.Set:
		w.buf.CmdKey("SMEMBERS", p.key)
	case redistype.ZSet:
		w.buf.CmdKey("ZREVRANGE", p.key, "0", "-1", "WITHSCORES")
	}
}
