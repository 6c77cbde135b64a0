package convert

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/internal/extsort"
)

// recordSink builds the target's record batches from finished records.
type recordSink interface {
	add(r *record) string // "" when appended, else why the record is a reject
	len() int
	bytes() int64
	flush() arrow.RecordBatch
	release()
}

// Output batches close at this many records or bytes.
const (
	sinkRows  = 4096
	sinkBytes = 8 << 20
)

// keyRecords converts one part (no merge_by), or the whole dataset when
// hash keys are taken: each matched key is one record, in the bundle's
// order.
type keyRecords struct {
	m      *keysMap
	rd     *keyReader
	in     Records
	reject func(Reject) error
	sink   recordSink
	row    int64
	rec    *record
	c      contribution
}

func (k *keyRecords) Next() (arrow.RecordBatch, error) {
	for {
		rec, err := k.in.Next()
		if err == io.EOF && k.sink.len() > 0 {
			return k.sink.flush(), nil
		}
		if err != nil {
			k.sink.release()
			return nil, err
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			k.c.row = k.row
			k.row++
			ok, err := eachKey(k.rd, rec, i, &k.c, k.reject)
			if err != nil || !ok {
				if err != nil {
					return nil, err
				}
				continue
			}
			k.rec.reset()
			k.rec.add(&k.c)
			if why := k.sink.add(k.rec); why != "" {
				if err := k.reject(k.rec.rejectOf(why)); err != nil {
					return nil, err
				}
			}
		}
		if k.sink.len() >= sinkRows || k.sink.bytes() >= sinkBytes {
			return k.sink.flush(), nil
		}
	}
}

// eachKey reads row i: true when c is a matched key; a key no pattern
// matches is counted as filtered, one that cannot be a record rejected.
func eachKey(rd *keyReader, rec arrow.RecordBatch, i int, c *contribution, reject func(Reject) error) (bool, error) {
	kr := rd.kr
	out, why := rd.read(rec, i, c)
	switch out {
	case keyMatched:
		return true, nil
	case keyFiltered:
		return false, reject(Reject{Row: c.row, Key: []string{string(bytesAt(rec.Column(kr.key), i))}, Filtered: true})
	case keyRejected:
		return false, reject(Reject{Row: c.row, Key: []string{string(bytesAt(rec.Column(kr.key), i))}, Reason: why, Values: rowValues(rec, i)})
	}
	return false, nil
}

// mergedRecords converts a whole dataset with merge_by: the matched keys
// are sorted by their merge_by captures (extsort, spilling to disk past
// the budget), then each run of equal captures is one record. Records come
// in the order of the merge_by texts.
type mergedRecords struct {
	m      *keysMap
	rd     *keyReader
	in     Records
	reject func(Reject) error
	sink   recordSink
	spill  Spill

	sorter *extsort.Sorter
	it     *extsort.Iterator
	rec    *record
	c      contribution
	group  []byte // the merge key of rec
	open   bool   // rec holds contributions
	done   bool
	enc    []byte
}

func (g *mergedRecords) Next() (arrow.RecordBatch, error) {
	if g.done {
		return nil, io.EOF
	}
	out, err := g.next()
	if err != nil {
		g.Close()
		if err == io.EOF {
			g.done = true
		}
	}
	return out, err
}

// Close removes the sort's files; the importer and verify call it when
// they stop reading, whatever the reason.
func (g *mergedRecords) Close() error {
	g.done = true
	g.sink.release()
	if g.sorter != nil {
		return g.sorter.Close()
	}
	return nil
}

func (g *mergedRecords) next() (arrow.RecordBatch, error) {
	if g.it == nil {
		if err := g.sortInput(); err != nil {
			return nil, err
		}
	}
	for {
		key, val, err := g.it.Next()
		if err == io.EOF {
			if err := g.finish(); err != nil {
				return nil, err
			}
			if g.sink.len() > 0 {
				return g.sink.flush(), nil
			}
			return nil, io.EOF
		}
		if err != nil {
			return nil, err
		}
		boundary := g.open && !bytes.Equal(key, g.group)
		if boundary {
			if err := g.finish(); err != nil {
				return nil, err
			}
		}
		if !g.open {
			g.group = append(g.group[:0], key...)
			g.rec.reset()
			g.open = true
		}
		if err := g.decode(val); err != nil {
			return nil, err
		}
		g.rec.add(&g.c)
		if boundary && (g.sink.len() >= sinkRows || g.sink.bytes() >= sinkBytes) {
			return g.sink.flush(), nil
		}
	}
}

// finish hands the record being gathered to the sink, or rejects it.
func (g *mergedRecords) finish() error {
	if !g.open {
		return nil
	}
	g.open = false
	why := g.rec.why
	if why == "" {
		why = g.sink.add(g.rec)
	}
	if why != "" {
		return g.reject(g.rec.rejectOf(why))
	}
	return nil
}

// sortInput reads every input row: matched keys into the sort, the others
// counted or rejected at once.
func (g *mergedRecords) sortInput() error {
	g.sorter = extsort.New(g.spill.Dir, g.spill.memory())
	var row int64
	var key []byte
	for {
		rec, err := g.in.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			g.c.row = row
			row++
			ok, err := eachKey(g.rd, rec, i, &g.c, g.reject)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			key = g.m.mergeKey(key[:0], &g.c)
			g.enc = encodeContribution(g.enc[:0], &g.c)
			if err := g.sorter.Add(key, g.enc); err != nil {
				return err
			}
		}
	}
	it, err := g.sorter.Sort()
	if err != nil {
		return err
	}
	g.it = it
	return nil
}

func (s Spill) memory() int64 {
	if s.Memory > 0 {
		return s.Memory
	}
	return DefaultSpillMemory
}

// A contribution in the sort: pattern, row, key length, key, then per
// value its field and length and bytes.
func encodeContribution(dst []byte, c *contribution) []byte {
	dst = binary.AppendUvarint(dst, uint64(c.pattern))
	dst = binary.AppendUvarint(dst, uint64(c.row))
	dst = binary.AppendUvarint(dst, uint64(len(c.key)))
	dst = append(dst, c.key...)
	for _, p := range c.pairs {
		dst = binary.AppendUvarint(dst, uint64(p.field))
		dst = binary.AppendUvarint(dst, uint64(len(p.raw)))
		dst = append(dst, p.raw...)
	}
	return dst
}

var errBadContribution = errors.New("convert: a sorted key record is malformed")

// decode reads a sorted contribution back into g.c, captures included
// (the key is matched again: cheaper than storing them).
func (g *mergedRecords) decode(b []byte) error {
	p, n := binary.Uvarint(b)
	if n <= 0 || int(p) >= len(g.m.d.patterns) {
		return errBadContribution
	}
	b = b[n:]
	row, n := binary.Uvarint(b)
	if n <= 0 {
		return errBadContribution
	}
	b = b[n:]
	kl, n := binary.Uvarint(b)
	if n <= 0 || uint64(len(b)-n) < kl {
		return errBadContribution
	}
	b = b[n:]
	c := &g.c
	c.pattern, c.row, c.key, c.pairs = int(p), int64(row), b[:kl], c.pairs[:0]
	for b = b[kl:]; len(b) > 0; {
		f, n := binary.Uvarint(b)
		if n <= 0 || int(f) >= len(g.m.fields) {
			return errBadContribution
		}
		b = b[n:]
		vl, n := binary.Uvarint(b)
		if n <= 0 || uint64(len(b)-n) < vl {
			return errBadContribution
		}
		b = b[n:]
		c.pairs = append(c.pairs, valuePair{int(f), b[:vl]})
		b = b[vl:]
	}
	c.caps = g.m.d.patterns[c.pattern].match(c.key, c.caps)
	if c.caps == nil {
		return fmt.Errorf("%w: key %s no longer matches its pattern", errBadContribution, quoteValue(c.key))
	}
	return nil
}
