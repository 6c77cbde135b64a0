package delta

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/extsort"
	"github.com/imbundle/imbundle/spec"
)

// Records of the parent's state sort (val): a kind byte, then for an
// added row its hash and TTLs.
const (
	kindDeleted = 0
	kindRow     = 1
)

// entity is one entity's rows in one of the two sorts.
type entity struct {
	key    []byte
	fp     sum
	ttl    expiry
	exists bool
	spans  [][3]uint32 // current rows: batch, first row, end row
}

func (e *entity) same(o *entity) bool {
	return e.fp == o.fp && e.ttl.same(o.ttl)
}

// groups reads entities from a sort: consecutive records of one key.
type groups struct {
	it      *extsort.Iterator
	key     []byte
	val     []byte
	done    bool
	current bool // records of the source (else of the parent's state)
}

func (g *groups) advance() error {
	k, v, err := g.it.Next()
	if errors.Is(err, io.EOF) {
		g.done = true
		return nil
	}
	if err != nil {
		return err
	}
	g.key = append(g.key[:0], k...)
	g.val = append(g.val[:0], v...)
	return nil
}

// next returns the next entity (of the parent: one that exists), or nil.
func (g *groups) next() (*entity, error) {
	for !g.done {
		e := &entity{key: bytes.Clone(g.key)}
		for !g.done && bytes.Equal(g.key, e.key) {
			g.add(e)
			if err := g.advance(); err != nil {
				return nil, err
			}
		}
		if e.exists {
			return e, nil
		}
	}
	return nil, nil
}

func (g *groups) add(e *entity) {
	v := g.val
	if g.current {
		e.exists = true
		e.fp.addRow(v[:32])
		b, i := binary.BigEndian.Uint32(v[32:]), binary.BigEndian.Uint32(v[36:])
		e.ttl.merge(readExpiry(v[40:]))
		if n := len(e.spans); n > 0 && e.spans[n-1][0] == b && e.spans[n-1][2] == i {
			e.spans[n-1][2] = i + 1
		} else {
			e.spans = append(e.spans, [3]uint32{b, i, i + 1})
		}
		return
	}
	if v[0] == kindDeleted {
		// A later delta removed or rewrote the entity: what came
		// before it is gone.
		*e = entity{key: e.key}
		return
	}
	e.exists = true
	e.fp.addRow(v[1:33])
	e.ttl.merge(readExpiry(v[33:]))
}

// parentState sorts the records of the dataset's state in the chain: its
// rows in the bundle that holds it whole, then each later delta's deleted
// keys and rows, in chain order (the sort keeps ties in this order).
func (w *Writer) parentState() (*extsort.Sorter, error) {
	s := extsort.New(w.opts.TempDir, w.opts.SortMemory)
	var d bundle.Digest
	var kbuf, vbuf []byte
	rows := func(r *bundle.Reader, ds *spec.Dataset) error {
		cols := keyCols(w.schema, w.key)
		ttl := ttlColumns(ds, w.schema)
		return r.EachRecord(ds, func(rec arrow.RecordBatch) error {
			var err error
			d.EachRowHash(rec, func(i int, h *[32]byte) {
				if err != nil {
					return
				}
				var ok bool
				if kbuf, ok = appendKey(kbuf[:0], rec, cols, i); !ok {
					err = fmt.Errorf("a row of the parent's state in %s has a NULL key", r.ID()[:16])
					return
				}
				var e expiry
				ttl.of(rec, i, &e)
				vbuf = append(append(vbuf[:0], kindRow), h[:]...)
				vbuf = e.append(vbuf)
				err = s.Add(kbuf, vbuf)
			})
			return err
		})
	}
	for k, ds := range w.seg.ds {
		r := w.chain.Bundles[w.seg.from+k]
		if k > 0 && ds.Delta.Change == spec.ChangeNone {
			continue
		}
		if del := spec.DeletedDataset(ds); k > 0 && del != nil {
			all := make([]int, len(del.Columns))
			for i := range all {
				all[i] = i
			}
			err := r.EachRecord(del, func(rec arrow.RecordBatch) error {
				for i := 0; i < int(rec.NumRows()); i++ {
					kbuf, _ = appendKey(kbuf[:0], rec, all, i)
					if err := s.Add(kbuf, []byte{kindDeleted}); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				s.Close()
				return nil, err
			}
		}
		if err := rows(r, ds); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// compare merges the parent's state with the source's rows by entity key,
// writes the deleted keys in key order, then copies the rows of new and
// changed entities from the spool in the order they were read.
func (w *Writer) compare(dd *spec.DatasetDelta) error {
	ps, err := w.parentState()
	if err != nil {
		return fmt.Errorf("the parent's state: %w", err)
	}
	defer ps.Close()
	pit, err := ps.Sort()
	if err != nil {
		return err
	}
	cit, err := w.cur.Sort()
	if err != nil {
		return err
	}
	parent := &groups{it: pit}
	cur := &groups{it: cit, current: true}
	if err := parent.advance(); err != nil {
		return err
	}
	if err := cur.advance(); err != nil {
		return err
	}
	emit := extsort.New(w.opts.TempDir, w.opts.SortMemory)
	defer emit.Close()
	keys := newKeyWriter(w, keySchema(w.schema, w.key))
	defer keys.release()
	var removed sum
	p, err := parent.next()
	if err != nil {
		return err
	}
	q, err := cur.next()
	if err != nil {
		return err
	}
	addSpans := func(e *entity) error {
		var k [8]byte
		for _, s := range e.spans {
			binary.BigEndian.PutUint32(k[:], s[0])
			binary.BigEndian.PutUint32(k[4:], s[1])
			if err := emit.Add(k[:], binary.BigEndian.AppendUint32(nil, s[2])); err != nil {
				return err
			}
		}
		return nil
	}
	for p != nil || q != nil {
		var c int
		switch {
		case p == nil:
			c = 1
		case q == nil:
			c = -1
		default:
			c = bytes.Compare(p.key, q.key)
		}
		switch {
		case c < 0: // gone from the source
			dd.Removals++
			removed.merge(p.fp)
			if err := keys.add(p.key); err != nil {
				return err
			}
		case c > 0: // new
			dd.Inserted++
			if err := keys.add(q.key); err != nil {
				return err
			}
			if err := addSpans(q); err != nil {
				return err
			}
		case !p.same(q): // changed
			dd.Changed++
			removed.merge(p.fp)
			if err := keys.add(q.key); err != nil {
				return err
			}
			if err := addSpans(q); err != nil {
				return err
			}
		}
		if c <= 0 {
			if p, err = parent.next(); err != nil {
				return err
			}
		}
		if c >= 0 {
			if q, err = cur.next(); err != nil {
				return err
			}
		}
	}
	if err := keys.close(); err != nil {
		return err
	}
	dd.Removed = removed.digest()
	if keys.rows == 0 {
		dd.Change, dd.Key = spec.ChangeNone, nil
		return nil
	}
	dd.Change = spec.ChangeRows
	return w.copySpans(emit)
}

// keyWriter writes the deleted keys, decoded, in batches.
type keyWriter struct {
	w      *Writer
	schema *arrow.Schema
	dw     *bundle.DatasetWriter
	bs     []array.Builder
	n      int
	rows   int64
}

func newKeyWriter(w *Writer, schema *arrow.Schema) *keyWriter {
	k := &keyWriter{w: w, schema: schema}
	for _, f := range schema.Fields() {
		k.bs = append(k.bs, array.NewBuilder(memory.DefaultAllocator, f.Type))
	}
	return k
}

func (k *keyWriter) add(key []byte) error {
	if err := decodeKey(key, k.bs); err != nil {
		return err
	}
	k.n++
	k.rows++
	if k.n >= 8192 {
		return k.flush()
	}
	return nil
}

func (k *keyWriter) flush() error {
	if k.n == 0 {
		return nil
	}
	if k.dw == nil {
		dw, err := k.w.dw.CreateDeleted(k.schema)
		if err != nil {
			return err
		}
		k.dw = dw
	}
	cols := make([]arrow.Array, len(k.bs))
	for i, b := range k.bs {
		cols[i] = b.NewArray()
	}
	rec := array.NewRecordBatch(k.schema, cols, int64(k.n))
	for _, c := range cols {
		c.Release()
	}
	k.n = 0
	err := k.dw.Write(rec)
	rec.Release()
	return err
}

func (k *keyWriter) close() error {
	if err := k.flush(); err != nil {
		return err
	}
	if k.dw != nil {
		return k.dw.Close()
	}
	return nil
}

func (k *keyWriter) release() {
	for _, b := range k.bs {
		b.Release()
	}
}

// copySpans writes the spooled rows the sorted spans name, gathering them
// into batches of about bundle.DefaultBatchBytes.
func (w *Writer) copySpans(emit *extsort.Sorter) error {
	it, err := emit.Sort()
	if err != nil {
		return err
	}
	fr, err := w.openSpool()
	if err != nil {
		return fmt.Errorf("delta spool: %w", err)
	}
	defer fr.Close()
	var (
		held    []arrow.RecordBatch // spool batches the pending slices point into
		pending []arrow.RecordBatch
		bytesN  int64
		at      = -1
	)
	flush := func() error {
		defer func() {
			for _, r := range pending {
				r.Release()
			}
			pending, bytesN = pending[:0], 0
			// Keep only the batch being read.
			if n := len(held); n > 1 {
				for _, r := range held[:n-1] {
					r.Release()
				}
				held = append(held[:0], held[n-1])
			}
		}()
		if len(pending) == 0 {
			return nil
		}
		rec, err := concat(w.schema, pending)
		if err != nil {
			return err
		}
		err = w.dw.Write(rec)
		rec.Release()
		return err
	}
	for {
		k, v, err := it.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		b, i, end := int(binary.BigEndian.Uint32(k)), int64(binary.BigEndian.Uint32(k[4:])), int64(binary.BigEndian.Uint32(v))
		if b != at {
			rec, err := fr.RecordBatchAt(b)
			if err != nil {
				return fmt.Errorf("delta spool: %w", err)
			}
			held = append(held, rec)
			at = b
		}
		src := held[len(held)-1]
		pending = append(pending, src.NewSlice(i, end))
		if src.NumRows() > 0 {
			bytesN += bundle.RecordBytes(src) * (end - i) / src.NumRows()
		}
		// Few spool batches stay decoded at once: with changes spread thin,
		// each gives a few rows, and every one held is a whole batch.
		if bytesN >= bundle.DefaultBatchBytes || len(held) > 4 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	err = flush()
	for _, r := range held {
		r.Release()
	}
	return err
}

// concat joins record batches of one schema into one.
func concat(schema *arrow.Schema, recs []arrow.RecordBatch) (arrow.RecordBatch, error) {
	cols := make([]arrow.Array, schema.NumFields())
	var rows int64
	for _, r := range recs {
		rows += r.NumRows()
	}
	for c := range cols {
		parts := make([]arrow.Array, len(recs))
		for i, r := range recs {
			parts[i] = r.Column(c)
		}
		a, err := array.Concatenate(parts, memory.DefaultAllocator)
		if err != nil {
			for _, x := range cols[:c] {
				x.Release()
			}
			return nil, err
		}
		cols[c] = a
	}
	rec := array.NewRecordBatch(schema, cols, rows)
	for _, a := range cols {
		a.Release()
	}
	return rec, nil
}
