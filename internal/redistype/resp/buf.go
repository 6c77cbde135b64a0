// Package resp is a small RESP2 client for pipelined bulk work: commands are
// encoded into a byte buffer and written in one go, replies are read back in
// order. It exists because the exporter and importer send millions of tiny
// commands, where a general client's per-command objects and goroutine
// hand-offs cost more than the server's work.
package resp

import "strconv"

// Buf accumulates encoded commands for one pipeline round. The zero value is
// ready. A command whose argument count is not known in advance is built
// with Begin, Arg... and End: arguments are staged and the array header is
// written when the count is known.
type Buf struct {
	b       []byte
	stage   []byte
	nargs   int
	open    bool
	cmds    int
	scratch [24]byte
}

// Len is the number of encoded bytes, Cmds the number of commands.
func (b *Buf) Len() int  { return len(b.b) + len(b.stage) }
func (b *Buf) Cmds() int { return b.cmds }

// Bytes returns the encoded commands; valid until the next change.
func (b *Buf) Bytes() []byte { return b.b }

// Reset empties the buffer, keeping its memory.
func (b *Buf) Reset() {
	b.b, b.stage, b.nargs, b.open, b.cmds = b.b[:0], b.stage[:0], 0, false, 0
}

// Begin starts a command; its first argument is the command name.
func (b *Buf) Begin(name string) {
	if b.open {
		panic("resp: Begin inside an open command")
	}
	b.open = true
	b.stage = b.stage[:0]
	b.nargs = 0
	b.ArgString(name)
}

// Arg adds a binary-safe argument to the open command.
func (b *Buf) Arg(v []byte) {
	b.stage = appendBulk(b.stage, v)
	b.nargs++
}

// ArgString adds a string argument.
func (b *Buf) ArgString(v string) {
	b.stage = append(b.stage, '$')
	b.stage = strconv.AppendInt(b.stage, int64(len(v)), 10)
	b.stage = append(b.stage, '\r', '\n')
	b.stage = append(b.stage, v...)
	b.stage = append(b.stage, '\r', '\n')
	b.nargs++
}

// ArgInt adds a decimal integer argument.
func (b *Buf) ArgInt(v int64) {
	b.Arg(strconv.AppendInt(b.scratch[:0], v, 10))
}

// Args is the number of arguments of the open command, name included.
func (b *Buf) Args() int { return b.nargs }

// End finishes the open command.
func (b *Buf) End() {
	if !b.open {
		panic("resp: End without Begin")
	}
	b.b = append(b.b, '*')
	b.b = strconv.AppendInt(b.b, int64(b.nargs), 10)
	b.b = append(b.b, '\r', '\n')
	b.b = append(b.b, b.stage...)
	b.open = false
	b.cmds++
}

// Ahead encodes a complete command of binary-safe arguments (the name
// first) ahead of the open command, which stays open: for a command that
// must run before the one being built, found needed only once it is built.
func (b *Buf) Ahead(args ...[]byte) {
	if !b.open {
		panic("resp: Ahead without an open command")
	}
	b.b = append(b.b, '*')
	b.b = strconv.AppendInt(b.b, int64(len(args)), 10)
	b.b = append(b.b, '\r', '\n')
	for _, a := range args {
		b.b = appendBulk(b.b, a)
	}
	b.cmds++
}

// Cmd encodes a complete command of string arguments.
func (b *Buf) Cmd(args ...string) {
	b.Begin(args[0])
	for _, a := range args[1:] {
		b.ArgString(a)
	}
	b.End()
}

// CmdKey encodes NAME key [args...]: the common shape of per-key commands,
// without staging.
func (b *Buf) CmdKey(name string, key []byte, args ...string) {
	if b.open {
		panic("resp: CmdKey inside an open command")
	}
	b.b = append(b.b, '*')
	b.b = strconv.AppendInt(b.b, int64(2+len(args)), 10)
	b.b = append(b.b, '\r', '\n')
	b.b = appendBulk(b.b, []byte(name))
	b.b = appendBulk(b.b, key)
	for _, a := range args {
		b.b = append(b.b, '$')
		b.b = strconv.AppendInt(b.b, int64(len(a)), 10)
		b.b = append(b.b, '\r', '\n')
		b.b = append(b.b, a...)
		b.b = append(b.b, '\r', '\n')
	}
	b.cmds++
}

func appendBulk(dst, v []byte) []byte {
	dst = append(dst, '$')
	dst = strconv.AppendInt(dst, int64(len(v)), 10)
	dst = append(dst, '\r', '\n')
	dst = append(dst, v...)
	return append(dst, '\r', '\n')
}
