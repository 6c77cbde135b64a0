package redistype

import "github.com/zeebo/xxh3"

// KeySet remembers byte strings by their 128-bit xxh3 hash, in an
// open-addressing table of 16-byte slots kept at most 3/4 full: 21 to 43
// bytes per member (about 32 MiB per million). A false "seen" needs two
// distinct keys with the same 128-bit hash: about n²/2^129, 3e-25 for ten
// million keys. It is what makes "a key present for the whole export is
// exported exactly once" hold when SCAN returns a key twice, within bounded
// memory and without keeping key names.
type KeySet struct {
	slots []xxh3.Uint128
	n     int
}

// Len is the number of members.
func (s *KeySet) Len() int { return s.n }

// Add inserts k and reports whether it was new.
func (s *KeySet) Add(k []byte) bool { return s.AddHash(xxh3.Hash128(k)) }

// Has reports whether k is a member.
func (s *KeySet) Has(k []byte) bool {
	if s.n == 0 {
		return false
	}
	h := norm(xxh3.Hash128(k))
	mask := uint64(len(s.slots) - 1)
	for i := h.Lo & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case h:
			return true
		case xxh3.Uint128{}:
			return false
		}
	}
}

// AddHash inserts a precomputed hash.
func (s *KeySet) AddHash(h xxh3.Uint128) bool {
	h = norm(h)
	if (s.n+1)*4 > len(s.slots)*3 {
		s.grow()
	}
	mask := uint64(len(s.slots) - 1)
	for i := h.Lo & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case h:
			return false
		case xxh3.Uint128{}:
			s.slots[i] = h
			s.n++
			return true
		}
	}
}

// Reset empties the set, keeping small tables for reuse.
func (s *KeySet) Reset() {
	if len(s.slots) > 1<<16 {
		s.slots = nil
	} else {
		clear(s.slots)
	}
	s.n = 0
}

// norm keeps the all-zero hash free to mark empty slots.
func norm(h xxh3.Uint128) xxh3.Uint128 {
	if h == (xxh3.Uint128{}) {
		h.Lo = 1
	}
	return h
}

func (s *KeySet) grow() {
	old := s.slots
	size := 1024
	if len(old) > 0 {
		size = len(old) * 2
	}
	s.slots = make([]xxh3.Uint128, size)
	mask := uint64(size - 1)
	for _, h := range old {
		if h == (xxh3.Uint128{}) {
			continue
		}
		for i := h.Lo & mask; ; i = (i + 1) & mask {
			if s.slots[i] == (xxh3.Uint128{}) {
				s.slots[i] = h
				break
			}
		}
	}
}
