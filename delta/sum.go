package delta

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/bits"

	"github.com/imbundle/imbundle/spec"
)

// sum is a content digest being added up (SPEC.md §6): the sum mod 2^256
// of row hashes, big-endian, and the rows counted.
type sum struct {
	v    [32]byte
	rows int64
}

func (s *sum) add(h []byte) {
	var carry uint64
	for limb := 3; limb >= 0; limb-- {
		a := binary.BigEndian.Uint64(s.v[limb*8:])
		x, c := bits.Add64(a, binary.BigEndian.Uint64(h[limb*8:]), carry)
		binary.BigEndian.PutUint64(s.v[limb*8:], x)
		carry = c
	}
}

func (s *sum) addRow(h []byte) { s.add(h); s.rows++ }

func (s *sum) merge(o sum) { s.add(o.v[:]); s.rows += o.rows }

func (s *sum) subtract(o sum) {
	var borrow uint64
	for limb := 3; limb >= 0; limb-- {
		a := binary.BigEndian.Uint64(s.v[limb*8:])
		x, b := bits.Sub64(a, binary.BigEndian.Uint64(o.v[limb*8:]), borrow)
		binary.BigEndian.PutUint64(s.v[limb*8:], x)
		borrow = b
	}
	s.rows -= o.rows
}

func (s sum) digest() spec.Digest {
	return spec.Digest{Algorithm: spec.DigestAlgorithm, Rows: s.rows, Sum: hex.EncodeToString(s.v[:])}
}

func sumOf(d spec.Digest) (sum, error) {
	var s sum
	b, err := hex.DecodeString(d.Sum)
	if err != nil || len(b) != 32 || d.Algorithm != spec.DigestAlgorithm {
		return s, fmt.Errorf("digest %s:%q is not a %s digest", d.Algorithm, d.Sum, spec.DigestAlgorithm)
	}
	copy(s.v[:], b)
	s.rows = d.Rows
	return s, nil
}

func sameDigest(a, b spec.Digest) bool {
	return a.Algorithm == b.Algorithm && a.Rows == b.Rows && a.Sum == b.Sum
}
