package resp

import (
	"bufio"
	"errors"
	"fmt"
	"strconv"
)

// Kind is the RESP2 type of a reply.
type Kind byte

const (
	KindSimple Kind = '+'
	KindError  Kind = '-'
	KindInt    Kind = ':'
	KindBulk   Kind = '$'
	KindArray  Kind = '*'
	KindNil    Kind = 0 // null bulk string or null array
)

// Value is one reply. Str holds simple strings, errors and bulk strings;
// its bytes are owned by the Value (never reused by the reader).
type Value struct {
	Kind  Kind
	Str   []byte
	Int   int64
	Elems []Value
}

// Err returns the reply as a Go error when it is an error reply.
func (v Value) Err() error {
	if v.Kind == KindError {
		return &ServerError{Msg: string(v.Str)}
	}
	return nil
}

// String renders a simple, bulk or integer reply as text.
func (v Value) String() string {
	switch v.Kind {
	case KindInt:
		return strconv.FormatInt(v.Int, 10)
	case KindNil:
		return "(nil)"
	case KindArray:
		return fmt.Sprintf("(array of %d)", len(v.Elems))
	}
	return string(v.Str)
}

// ServerError is an error reply from the server.
type ServerError struct{ Msg string }

func (e *ServerError) Error() string { return e.Msg }

// IsServerError reports whether err is an error reply whose message starts
// with prefix (e.g. "WRONGTYPE", "ERR unknown command").
func IsServerError(err error, prefix string) bool {
	var se *ServerError
	if !errors.As(err, &se) {
		return false
	}
	return len(se.Msg) >= len(prefix) && se.Msg[:len(prefix)] == prefix
}

// maxBulk bounds a single bulk string: the servers' own proto-max-bulk-len
// default. A larger length means a corrupt stream, not data.
const maxBulk = 512 << 20

func readLine(r *bufio.Reader) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		// A line longer than the buffer: only simple strings or errors can
		// be that long. Collect it.
		buf := append([]byte(nil), line...)
		for err == bufio.ErrBufferFull {
			line, err = r.ReadSlice('\n')
			buf = append(buf, line...)
		}
		line = buf
	}
	if err != nil {
		return nil, err
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("resp: malformed line %q", trunc(line))
	}
	return line[:len(line)-2], nil
}

func parseInt(b []byte) (int64, error) {
	if len(b) == 0 {
		return 0, errors.New("resp: empty integer")
	}
	neg := false
	if b[0] == '-' {
		neg, b = true, b[1:]
		if len(b) == 0 {
			return 0, errors.New("resp: malformed integer")
		}
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("resp: malformed integer %q", b)
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, nil
}

// decoder reads replies, carving bulk strings and small arrays out of slabs
// so that a pipeline of thousands of small replies costs a few allocations,
// not thousands. Slabs are never reused, so a Value stays valid for as long
// as it is referenced; reset drops the decoder's own references between
// rounds (a slab of array headers would otherwise keep every big page it
// points to alive). Slabs start small and double within a round, so a
// round of one reply does not allocate a full slab.
type decoder struct {
	bytes  []byte
	values []Value
}

const (
	byteSlab  = 64 << 10
	valueSlab = 1024
)

func (d *decoder) reset() { *d = decoder{} }

func (d *decoder) allocBytes(n int) []byte {
	if n > byteSlab/4 {
		return make([]byte, n)
	}
	if len(d.bytes)+n > cap(d.bytes) {
		d.bytes = make([]byte, 0, min(byteSlab, max(4<<10, 2*cap(d.bytes), n)))
	}
	b := d.bytes[len(d.bytes) : len(d.bytes)+n : len(d.bytes)+n]
	d.bytes = d.bytes[:len(d.bytes)+n]
	return b
}

func (d *decoder) allocValues(n int) []Value {
	if n > valueSlab/4 {
		return make([]Value, n)
	}
	if len(d.values)+n > cap(d.values) {
		d.values = make([]Value, 0, min(valueSlab, max(32, 2*cap(d.values), n)))
	}
	v := d.values[len(d.values) : len(d.values)+n : len(d.values)+n]
	d.values = d.values[:len(d.values)+n]
	return v
}

// Simple replies that come by the million (TYPE, OK) share one copy.
var interned = map[string][]byte{}

func init() {
	for _, s := range []string{"OK", "string", "hash", "list", "set", "zset", "stream", "none", "QUEUED", "PONG"} {
		interned[s] = []byte(s)
	}
}

// ReadValue reads one complete reply.
func ReadValue(r *bufio.Reader) (Value, error) {
	var d decoder
	return d.read(r)
}

func (d *decoder) read(r *bufio.Reader) (Value, error) {
	line, err := readLine(r)
	if err != nil {
		return Value{}, err
	}
	if len(line) == 0 {
		return Value{}, errors.New("resp: empty reply line")
	}
	switch k := Kind(line[0]); k {
	case KindSimple:
		if b, ok := interned[string(line[1:])]; ok {
			return Value{Kind: k, Str: b[:len(b):len(b)]}, nil
		}
		return Value{Kind: k, Str: append(d.allocBytes(0), line[1:]...)}, nil
	case KindError:
		return Value{Kind: k, Str: append([]byte(nil), line[1:]...)}, nil
	case KindInt:
		n, err := parseInt(line[1:])
		return Value{Kind: k, Int: n}, err
	case KindBulk:
		n, err := parseInt(line[1:])
		if err != nil {
			return Value{}, err
		}
		if n < 0 {
			return Value{Kind: KindNil}, nil
		}
		if n > maxBulk {
			return Value{}, fmt.Errorf("resp: bulk string of %d bytes exceeds %d", n, maxBulk)
		}
		b := d.allocBytes(int(n) + 2)
		if _, err := readFull(r, b); err != nil {
			return Value{}, err
		}
		if b[n] != '\r' || b[n+1] != '\n' {
			return Value{}, errors.New("resp: bulk string not terminated by CRLF")
		}
		return Value{Kind: k, Str: b[:n:n]}, nil
	case KindArray:
		n, err := parseInt(line[1:])
		if err != nil {
			return Value{}, err
		}
		if n < 0 {
			return Value{Kind: KindNil}, nil
		}
		if n > 1<<28 {
			return Value{}, fmt.Errorf("resp: array of %d elements is implausible", n)
		}
		v := Value{Kind: k, Elems: d.allocValues(int(n))}
		for i := range v.Elems {
			if v.Elems[i], err = d.read(r); err != nil {
				return Value{}, err
			}
		}
		return v, nil
	default:
		return Value{}, fmt.Errorf("resp: unexpected reply type %q (is this a Redis-protocol server?)", trunc(line))
	}
}

func readFull(r *bufio.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func trunc(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}
