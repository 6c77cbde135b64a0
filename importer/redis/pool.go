package redis

import (
	"context"
	"encoding/hex"
	"fmt"
	"sync"

	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/redistype/resp"
)

// pool holds the connections to one target database. Each connection has
// a goroutine executing batches from its own FIFO queue: the loader sends
// every batch of a key that spans batches to the same queue, so a key's
// commands run in order while different keys load in parallel.
type pool struct {
	db     int
	queues []chan *batch
	wg     sync.WaitGroup
	conns  []*resp.Conn
}

func (t *Target) newPool(ctx context.Context, db int) (*pool, error) {
	p := &pool{db: db}
	o := t.conn
	o.DB = db
	for i := 0; i < t.conns; i++ {
		c, err := resp.Dial(ctx, o)
		if err != nil {
			p.close()
			return nil, fmt.Errorf("%s: %w", t.redacted, err)
		}
		p.conns = append(p.conns, c)
		q := make(chan *batch, 2)
		p.queues = append(p.queues, q)
		p.wg.Add(1)
		go p.serve(c, q)
	}
	return p, nil
}

func (p *pool) close() {
	for _, q := range p.queues {
		close(q)
	}
	p.wg.Wait()
	for _, c := range p.conns {
		c.Close()
	}
}

func (p *pool) serve(c *resp.Conn, q <-chan *batch) {
	defer p.wg.Done()
	var broken error
	for b := range q {
		if broken == nil {
			broken = b.exec(c)
			if broken != nil {
				b.st.fail(broken)
			}
		} else {
			b.st.fail(fmt.Errorf("connection to db %d failed earlier: %w", p.db, broken))
		}
		b.st.wg.Done()
		b.recycle()
	}
}

// segments are recycled: a batch's buffers grow to megabytes, and
// allocating them afresh for every batch cost more CPU than encoding.
var segPool = sync.Pool{New: func() any { return new(segment) }}

func newSegment() *segment { return segPool.Get().(*segment) }

func (b *batch) recycle() {
	for _, s := range b.segs {
		s.buf.Reset()
		clear(s.meta)
		s.meta, s.op = s.meta[:0], nil
		segPool.Put(s)
	}
	b.segs = nil
}

// Kinds of command whose replies the loader cares about.
const (
	kindControl = iota // DEL, LTRIM, PEXPIREAT...: an error reply fails the part
	kindData           // writes rows: an error reply rejects them
	kindXAdd           // a stream entry: "ID equal or smaller" may mean already loaded
	kindHint           // only speeds up the command after it (hashenc.go): its reply does not matter
)

// cmdMeta describes one pipelined command for its reply.
type cmdMeta struct {
	kind  uint8
	row   int64 // first row of the part the command writes
	rows  int64 // rows it writes
	key   []byte
	name  string
	entry [][]byte // kindXAdd: id, field, value, ... for the duplicate check
}

// segment is either pipelined commands or one synchronous operation that
// needs replies before it can decide (streams, append-mode lists).
type segment struct {
	buf  resp.Buf
	meta []cmdMeta
	op   func(ctx context.Context, c *resp.Conn) error
}

// batch is what one queue item carries.
type batch struct {
	ctx  context.Context
	segs []*segment
	st   *partState
	cmds int
	size int
}

func (b *batch) exec(c *resp.Conn) error {
	for _, s := range b.segs {
		if s.op != nil {
			if err := s.op(b.ctx, c); err != nil {
				return err
			}
			continue
		}
		if s.buf.Cmds() == 0 {
			continue
		}
		var dups []cmdMeta
		var written int64
		err := c.Round(b.ctx, &s.buf, func(i int, v resp.Value) error {
			m := &s.meta[i]
			err := v.Err()
			if err == nil {
				written += m.rows
				return nil
			}
			if m.kind == kindHint {
				return nil // the command it precedes reports the outcome
			}
			switch m.kind {
			case kindXAdd:
				if resp.IsServerError(err, "ERR The ID specified in XADD is equal or smaller") {
					dups = append(dups, *m)
					return nil
				}
				return b.st.reject(m, err)
			case kindData:
				return b.st.reject(m, err)
			default:
				return fmt.Errorf("%s %s: %w", m.name, showKey(m.key), err)
			}
		})
		b.st.addWritten(written)
		if err != nil {
			return err
		}
		for i := range dups {
			same, err := sameEntry(b.ctx, c, &dups[i])
			if err != nil {
				return err
			}
			if same {
				b.st.addWritten(dups[i].rows) // loaded by an earlier run
				continue
			}
			if err := b.st.reject(&dups[i], fmt.Errorf("the target stream already holds a later entry, and entry %s differs or is missing: a stream cannot take entries out of order", dups[i].entry[0])); err != nil {
				return err
			}
		}
	}
	return nil
}

// partState collects the outcome of one part's batches.
type partState struct {
	wg       sync.WaitGroup
	mu       sync.Mutex
	err      error
	written  int64
	rejected int64
	plan     *importer.Plan
	dataset  string
	part     int
}

func (s *partState) fail(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
}

func (s *partState) addWritten(n int64) {
	s.mu.Lock()
	s.written += n
	s.mu.Unlock()
}

// reject records the rows of a refused command in the reject file: never
// dropped without a trace.
func (s *partState) reject(m *cmdMeta, cause error) error {
	if s.plan.Rejects == nil {
		return fmt.Errorf("%s %s refused and no reject file is set: %w", m.name, showKey(m.key), cause)
	}
	err := s.plan.Rejects.Add(importer.Reject{
		Dataset: s.dataset,
		Part:    s.part,
		Row:     m.row,
		Key:     []string{"0x" + hex.EncodeToString(m.key)},
		Reason:  fmt.Sprintf("%s refused: %v", m.name, cause),
		Extra:   map[string]string{"rows": fmt.Sprint(m.rows), "command": m.name},
	})
	s.mu.Lock()
	s.rejected += m.rows
	s.mu.Unlock()
	return err
}

func showKey(k []byte) string {
	if len(k) > 100 {
		return fmt.Sprintf("%q...(%d bytes)", k[:100], len(k))
	}
	return fmt.Sprintf("%q", k)
}
