package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/internal/redistype"
	"github.com/imbundle/imbundle/internal/redistype/resp"
	"github.com/imbundle/imbundle/spec"
)

// StateDatasetName is the stream-state dataset of logical database db.
func StateDatasetName(db int) string { return DatasetName(db) + "." + redistype.GroupsObject }

func isStreamState(ds *spec.Dataset) bool {
	return ds.Options["layout"] == redistype.GroupsLayoutName
}

// readStreamState streams the stream-state rows (SPEC.md §8.7) of db: a
// SCAN for streams (keys == nil), or the given batches of keys (verify's
// lookups), each read on one connection. A key's rows are contiguous: its
// stream row, then each group's row, consumers and pending entries; the
// pending entries are paged with XPENDING so that memory holds one page.
func (s *Source) readStreamState(ctx context.Context, db int, cnt *counters, emit func(arrow.RecordBatch) error, keys <-chan [][]byte) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	if keys == nil {
		ch := make(chan [][]byte, 1)
		keys = ch
		sc, err := s.dial(ctx, db)
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer sc.Close()
			defer close(ch)
			if err := s.scan(ctx, sc, db, cnt, string(redistype.Stream), nil, ch); err != nil {
				cancel(err)
			}
		}()
	}
	c, err := s.dial(ctx, db)
	if err != nil {
		cancel(err)
		for range keys {
		}
		wg.Wait()
		return context.Cause(ctx)
	}
	defer c.Close()
	r := &stateReader{s: s, ctx: ctx, c: c, cnt: cnt, em: &emitter{emit: emit}, b: redistype.NewGroupsBuilder(batchBytes)}
	r.b.MaxRows = s.batchRows
	defer r.b.Release()
	for batch := range keys {
		if ctx.Err() != nil {
			continue // drain: the scanner stops on the cancellation
		}
		if err := r.batch(batch); err != nil {
			cancel(err)
		}
	}
	if ctx.Err() == nil {
		if err := r.em.send(r.b.Flush()); err != nil {
			cancel(err)
		}
	}
	wg.Wait()
	return context.Cause(ctx)
}

type stateReader struct {
	s   *Source
	ctx context.Context
	c   *resp.Conn
	cnt *counters
	em  *emitter
	b   *redistype.GroupsBuilder
	buf resp.Buf
}

// streamFacts is what XINFO STREAM says of a stream's state.
type streamFacts struct {
	lastID       string
	entriesAdded int64  // NoCount before Redis 7
	maxDeleted   string // "" before Redis 7
	groups       int64  // -1: not said
}

// pairs reads a flat name/value reply (RESP2 maps) into a lookup.
func pairs(v resp.Value) map[string]resp.Value {
	m := make(map[string]resp.Value, len(v.Elems)/2)
	for i := 0; i+1 < len(v.Elems); i += 2 {
		m[string(v.Elems[i].Str)] = v.Elems[i+1]
	}
	return m
}

func (r *stateReader) flushIfFull() error {
	if r.b.Full() {
		return r.em.send(r.b.Flush())
	}
	return nil
}

// batch reads the state of a batch of stream keys: one pipelined XINFO
// STREAM round, then the groups of the streams that have some.
func (r *stateReader) batch(keys [][]byte) error {
	r.buf.Reset()
	for _, k := range keys {
		r.buf.Begin("XINFO")
		r.buf.ArgString("STREAM")
		r.buf.Arg(k)
		r.buf.End()
	}
	facts := make([]*streamFacts, len(keys))
	err := r.c.Round(r.ctx, &r.buf, func(i int, v resp.Value) error {
		if err := v.Err(); err != nil {
			switch {
			case resp.IsServerError(err, "ERR no such key"), resp.IsServerError(err, "WRONGTYPE"):
				r.cnt.add(func(c *counters) { c.vanished++ })
				return nil
			case resp.IsServerError(err, "ERR unknown"), resp.IsServerError(err, "ERR syntax"):
				return nil // no XINFO (older Pika): no state beyond the entries
			}
			return fmt.Errorf("XINFO STREAM %s: %w", showKey(keys[i]), err)
		}
		m := pairs(v)
		// A server that does not count groups (miniredis) is asked.
		f := &streamFacts{lastID: string(m["last-generated-id"].Str), entriesAdded: redistype.NoCount, groups: -1}
		if g, ok := m["groups"]; ok {
			f.groups = g.Int
		}
		if e, ok := m["entries-added"]; ok && e.Kind == resp.KindInt {
			f.entriesAdded = e.Int
		}
		if e, ok := m["max-deleted-entry-id"]; ok && e.Kind == resp.KindBulk {
			f.maxDeleted = string(e.Str)
		}
		if f.lastID == "" {
			f.lastID = "0-0"
		}
		facts[i] = f
		return nil
	})
	if err != nil {
		return err
	}
	for i, f := range facts {
		if f == nil {
			continue
		}
		r.b.Stream(keys[i], f.lastID, f.entriesAdded, f.maxDeleted)
		r.cnt.add(func(c *counters) { c.keys++ })
		if f.groups != 0 {
			err := r.groups(keys[i])
			if errors.Is(err, errChanged) {
				r.cnt.add(func(c *counters) { c.changed++ })
				err = nil
			}
			if err != nil {
				return err
			}
		}
		if err := r.flushIfFull(); err != nil {
			return err
		}
	}
	return nil
}

// groups appends the groups of one stream, their consumers and pending
// entries.
func (r *stateReader) groups(key []byte) error {
	v, err := r.do(key, []byte("XINFO"), []byte("GROUPS"), key)
	if resp.IsServerError(err, "ERR unknown") || resp.IsServerError(err, "ERR syntax") {
		return nil // no consumer groups on this server (older Pika)
	}
	if err != nil {
		return err
	}
	for _, g := range v.Elems {
		m := pairs(g)
		name := m["name"].Str
		entriesRead := redistype.NoCount
		if e, ok := m["entries-read"]; ok && e.Kind == resp.KindInt {
			entriesRead = e.Int
		}
		r.b.Group(key, name, string(m["last-delivered-id"].Str), entriesRead)
		cs, err := r.do(key, []byte("XINFO"), []byte("CONSUMERS"), key, name)
		if err != nil {
			return err
		}
		for _, c := range cs.Elems {
			r.b.Consumer(key, name, pairs(c)["name"].Str)
		}
		if err := r.pending(key, name); err != nil {
			return err
		}
	}
	return nil
}

// pending pages a group's pending entries list with XPENDING (extended
// form, exclusive start after the first page).
func (r *stateReader) pending(key, group []byte) error {
	start := "-"
	page := strconv.Itoa(r.s.page)
	for {
		v, err := r.do(key, []byte("XPENDING"), key, group, []byte(start), []byte("+"), []byte(page))
		if err != nil {
			return err
		}
		for _, e := range v.Elems {
			if len(e.Elems) != 4 {
				return fmt.Errorf("XPENDING %s %q: unexpected reply shape", showKey(key), group)
			}
			r.b.Pending(key, group, e.Elems[1].Str, string(e.Elems[0].Str), e.Elems[3].Int)
			start = "(" + string(e.Elems[0].Str)
		}
		if err := r.flushIfFull(); err != nil {
			return err
		}
		if len(v.Elems) < r.s.page {
			return nil
		}
	}
}

// do sends one command about key, whose arguments are binary.
func (r *stateReader) do(key []byte, args ...[]byte) (resp.Value, error) {
	r.buf.Reset()
	r.buf.Begin(string(args[0]))
	for _, a := range args[1:] {
		r.buf.Arg(a)
	}
	r.buf.End()
	var out resp.Value
	if err := r.c.Round(r.ctx, &r.buf, func(_ int, v resp.Value) error { out = v; return nil }); err != nil {
		return out, err
	}
	if err := out.Err(); err != nil {
		if resp.IsServerError(err, "ERR no such key") || resp.IsServerError(err, "WRONGTYPE") || resp.IsServerError(err, "NOGROUP") {
			return out, errChanged
		}
		return out, fmt.Errorf("%s %s: %w", args[0], showKey(key), err)
	}
	return out, nil
}

// errChanged: the stream or group went away while its state was read.
// What was read is kept and counted, as for a big key changed while paged.
var errChanged = errors.New("changed while read")
