package bundle

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Arrow's IPC metadata (Message.fbs, File.fbs) is FlatBuffers. arrowcheck.go
// walks untrusted parts with this reader; ipczstd.go reads arrow-go's own
// output with it. Fields are numbered as in the .fbs files, from 0.

// fbuf is a FlatBuffer read with bounds checks on every access.
type fbuf []byte

// fbTable is a table at pos whose vtable is at vt (vtLen bytes).
type fbTable struct {
	b         fbuf
	pos, vt   int
	vtLen     int
	tableSize int
}

var errBounds = errors.New("offset out of bounds")

func (b fbuf) u32(p int) (uint32, error) {
	if p < 0 || p > len(b)-4 {
		return 0, errBounds
	}
	return binary.LittleEndian.Uint32(b[p:]), nil
}

func (b fbuf) root() (fbTable, error) { return b.tableAt(0) }

// tableAt follows the offset stored at p to a table and checks its vtable.
func (b fbuf) tableAt(p int) (fbTable, error) {
	off, err := b.u32(p)
	if err != nil {
		return fbTable{}, err
	}
	pos := p + int(off)
	so, err := b.u32(pos)
	if err != nil {
		return fbTable{}, err
	}
	vt := pos - int(int32(so))
	if vt < 0 || vt > len(b)-4 {
		return fbTable{}, errBounds
	}
	vtLen := int(binary.LittleEndian.Uint16(b[vt:]))
	tsize := int(binary.LittleEndian.Uint16(b[vt+2:]))
	if vtLen < 4 || vtLen%2 != 0 || vt+vtLen > len(b) || tsize < 4 || pos+tsize > len(b) {
		return fbTable{}, errBounds
	}
	return fbTable{b: b, pos: pos, vt: vt, vtLen: vtLen, tableSize: tsize}, nil
}

// field returns the absolute position of field i, if present.
func (t fbTable) field(i int) (int, bool, error) {
	e := 4 + 2*i
	if e+2 > t.vtLen {
		return 0, false, nil
	}
	o := int(binary.LittleEndian.Uint16(t.b[t.vt+e:]))
	if o == 0 {
		return 0, false, nil
	}
	if o >= t.tableSize {
		return 0, false, errBounds
	}
	return t.pos + o, true, nil
}

// scalar reads a little-endian scalar field of size bytes (0 if absent).
func (t fbTable) scalar(i, size int) (uint64, error) {
	p, ok, err := t.field(i)
	if err != nil || !ok {
		return 0, err
	}
	if p+size > len(t.b) {
		return 0, errBounds
	}
	var v [8]byte
	copy(v[:], t.b[p:p+size])
	return binary.LittleEndian.Uint64(v[:]), nil
}

func (t fbTable) table(i int) (fbTable, bool, error) {
	p, ok, err := t.field(i)
	if err != nil || !ok {
		return fbTable{}, false, err
	}
	sub, err := t.b.tableAt(p)
	return sub, err == nil, err
}

// vector returns where the elements of vector field i start and how many
// there are, having checked that n elements of elem bytes fit the buffer.
func (t fbTable) vector(i, elem int) (at, n int, ok bool, err error) {
	p, ok, err := t.field(i)
	if err != nil || !ok {
		return 0, 0, false, err
	}
	off, err := t.b.u32(p)
	if err != nil {
		return 0, 0, false, err
	}
	v := p + int(off)
	ln, err := t.b.u32(v)
	if err != nil {
		return 0, 0, false, err
	}
	if int64(ln)*int64(elem) > int64(len(t.b)-v-4) {
		return 0, 0, false, fmt.Errorf("vector of %d elements does not fit in %d bytes", ln, len(t.b)-v-4)
	}
	return v + 4, int(ln), true, nil
}

func (t fbTable) str(i int) (string, error) {
	at, n, ok, err := t.vector(i, 1)
	if err != nil || !ok {
		return "", err
	}
	return string(t.b[at : at+n]), nil
}
