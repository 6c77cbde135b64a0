// Package extsort sorts (key, value) records of any number with bounded
// memory: records are kept in memory up to a byte budget, sorted and
// spilled to a run file when the budget is reached, and the runs are
// merged k ways on read. A conversion that merges several Redis keys into
// one record (SPEC.md §11.9) uses it to group records by key across a
// whole dataset, whose rows come in SCAN order.
//
// Records with equal keys come back in the order they were added (the
// sort is stable and the merge breaks ties by run), so a consumer that
// groups by key sees each group in input order: the output does not
// depend on the budget.
package extsort

import (
	"bufio"
	"bytes"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
)

// recordOverhead approximates the memory a buffered record costs beside
// its bytes (slice headers, the index entry).
const recordOverhead = 48

// maxFanIn bounds the runs merged at once: each open run holds a read
// buffer, so more runs than this are first merged into longer runs (a
// variable for the tests).
var maxFanIn = 64

const bufSize = 64 << 10

// Sorter collects records, then returns them in key order. It is not safe
// for concurrent use. Close removes its files, whatever happened before.
type Sorter struct {
	dir    string
	budget int64

	buf   []rec
	arena []byte
	size  int64
	runs  []string
	done  bool
	spill int // runs written, for Stats
	iter  *Iterator
}

type rec struct {
	key, val []byte
}

// New returns a Sorter spilling under dir (os.TempDir() when empty) once
// its buffered records take about budget bytes (at least 1 MiB is used).
func New(dir string, budget int64) *Sorter {
	if dir == "" {
		dir = os.TempDir()
	}
	if budget < 1<<20 {
		budget = 1 << 20
	}
	return &Sorter{dir: dir, budget: budget}
}

// Add appends one record; key and val are copied.
func (s *Sorter) Add(key, val []byte) error {
	if s.done {
		return errors.New("extsort: Add after Sort")
	}
	need := int64(len(key) + len(val))
	if s.size+need+recordOverhead > s.budget && len(s.buf) > 0 {
		if err := s.spillRun(); err != nil {
			return err
		}
	}
	if cap(s.arena)-len(s.arena) < len(key)+len(val) {
		n := 1 << 20
		if len(key)+len(val) > n {
			n = len(key) + len(val)
		}
		s.arena = make([]byte, 0, n) // the old arena stays referenced by buf until the spill
	}
	start := len(s.arena)
	s.arena = append(s.arena, key...)
	s.arena = append(s.arena, val...)
	k := s.arena[start : start+len(key) : start+len(key)]
	v := s.arena[start+len(key) : len(s.arena) : len(s.arena)]
	s.buf = append(s.buf, rec{k, v})
	s.size += need + recordOverhead
	return nil
}

// Runs is the number of run files written so far.
func (s *Sorter) Runs() int { return s.spill }

func (s *Sorter) sortBuf() {
	sort.SliceStable(s.buf, func(i, j int) bool { return bytes.Compare(s.buf[i].key, s.buf[j].key) < 0 })
}

// spillRun writes the buffered records, sorted, to a new run file.
func (s *Sorter) spillRun() error {
	s.sortBuf()
	f, err := os.CreateTemp(s.dir, "imbundle-sort-*.run")
	if err != nil {
		return fmt.Errorf("extsort: %w", err)
	}
	s.runs = append(s.runs, f.Name())
	s.spill++
	w := bufio.NewWriterSize(f, bufSize)
	for _, r := range s.buf {
		if err := writeRec(w, r.key, r.val); err != nil {
			f.Close()
			return fmt.Errorf("extsort: write %s: %w", f.Name(), err)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("extsort: write %s: %w", f.Name(), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("extsort: write %s: %w", f.Name(), err)
	}
	// Drop the records' references too, or the spilled arenas stay
	// reachable through buf's spare capacity until overwritten.
	clear(s.buf)
	s.buf, s.arena, s.size = s.buf[:0], nil, 0
	return nil
}

func writeRec(w *bufio.Writer, key, val []byte) error {
	var hdr [2 * binary.MaxVarintLen64]byte
	n := binary.PutUvarint(hdr[:], uint64(len(key)))
	n += binary.PutUvarint(hdr[n:], uint64(len(val)))
	if _, err := w.Write(hdr[:n]); err != nil {
		return err
	}
	if _, err := w.Write(key); err != nil {
		return err
	}
	_, err := w.Write(val)
	return err
}

// Sort ends the adding and returns the records in key order. Records the
// iterator returns are valid until its next call of Next.
func (s *Sorter) Sort() (*Iterator, error) {
	if s.done {
		return nil, errors.New("extsort: Sort called twice")
	}
	s.done = true
	if len(s.runs) == 0 {
		s.sortBuf()
		s.iter = &Iterator{mem: s.buf}
		return s.iter, nil
	}
	if len(s.buf) > 0 {
		if err := s.spillRun(); err != nil {
			return nil, err
		}
	}
	// Merge the oldest runs first so that ties keep their order: a merged
	// run replaces its inputs at the position of the first.
	for len(s.runs) > maxFanIn {
		merged, err := s.mergeRuns(s.runs[:maxFanIn])
		if err != nil {
			return nil, err
		}
		s.runs = append([]string{merged}, s.runs[maxFanIn:]...)
	}
	it, err := openMerge(s.runs)
	if err != nil {
		return nil, err
	}
	s.iter = it
	return it, nil
}

// mergeRuns merges runs into one new run file and removes them.
func (s *Sorter) mergeRuns(runs []string) (string, error) {
	it, err := openMerge(runs)
	if err != nil {
		return "", err
	}
	defer it.close()
	f, err := os.CreateTemp(s.dir, "imbundle-sort-*.run")
	if err != nil {
		return "", fmt.Errorf("extsort: %w", err)
	}
	name := f.Name()
	s.runs = append(s.runs, name) // removed on Close even if the merge fails
	w := bufio.NewWriterSize(f, bufSize)
	for {
		k, v, err := it.Next()
		if err == io.EOF {
			break
		}
		if err == nil {
			err = writeRec(w, k, v)
		}
		if err != nil {
			f.Close()
			return "", fmt.Errorf("extsort: merge into %s: %w", name, err)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return "", fmt.Errorf("extsort: merge into %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("extsort: merge into %s: %w", name, err)
	}
	it.close()
	for _, r := range runs {
		os.Remove(r)
	}
	s.runs = s.runs[:len(s.runs)-1] // the caller places name
	return name, nil
}

// Close removes every run file. It is safe to call more than once, and
// after an error.
func (s *Sorter) Close() error {
	if s.iter != nil {
		s.iter.close()
	}
	var errs []error
	for _, r := range s.runs {
		if err := os.Remove(r); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	s.runs, s.buf, s.arena = nil, nil, nil
	return errors.Join(errs...)
}

// Iterator returns sorted records.
type Iterator struct {
	mem  []rec // no run was spilled
	pos  int
	h    runHeap
	open []*runReader
	top  *runReader // the run whose record was returned last: advanced on the next call
}

// Next returns the next record, or io.EOF after the last.
func (it *Iterator) Next() (key, val []byte, err error) {
	if it.open == nil {
		if it.pos >= len(it.mem) {
			return nil, nil, io.EOF
		}
		r := it.mem[it.pos]
		it.pos++
		return r.key, r.val, nil
	}
	if it.top != nil {
		ok, err := it.top.next()
		if err != nil {
			return nil, nil, err
		}
		if ok {
			heap.Push(&it.h, it.top)
		}
		it.top = nil
	}
	if it.h.Len() == 0 {
		return nil, nil, io.EOF
	}
	it.top = heap.Pop(&it.h).(*runReader)
	return it.top.key, it.top.val, nil
}

func openMerge(runs []string) (*Iterator, error) {
	it := &Iterator{open: []*runReader{}}
	for i, name := range runs {
		f, err := os.Open(name)
		if err != nil {
			it.close()
			return nil, fmt.Errorf("extsort: %w", err)
		}
		r := &runReader{f: f, r: bufio.NewReaderSize(f, bufSize), idx: i, name: name}
		it.open = append(it.open, r)
		ok, err := r.next()
		if err != nil {
			it.close()
			return nil, err
		}
		if ok {
			it.h = append(it.h, r)
		}
	}
	heap.Init(&it.h)
	return it, nil
}

func (it *Iterator) close() {
	for _, r := range it.open {
		r.f.Close()
	}
	it.open = it.open[:0]
	it.h = nil
}

type runReader struct {
	f        *os.File
	r        *bufio.Reader
	idx      int
	name     string
	key, val []byte
	buf      []byte
}

func (r *runReader) next() (bool, error) {
	kl, err := binary.ReadUvarint(r.r)
	if err == io.EOF {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("extsort: read %s: %w", r.name, err)
	}
	vl, err := binary.ReadUvarint(r.r)
	if err != nil {
		return false, fmt.Errorf("extsort: read %s: %w", r.name, noEOF(err))
	}
	n := int(kl + vl)
	if cap(r.buf) < n {
		r.buf = make([]byte, n)
	}
	r.buf = r.buf[:n]
	if _, err := io.ReadFull(r.r, r.buf); err != nil {
		return false, fmt.Errorf("extsort: read %s: %w", r.name, noEOF(err))
	}
	r.key, r.val = r.buf[:kl], r.buf[kl:]
	return true, nil
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// runHeap orders runs by their current key, then by run index (stable).
type runHeap []*runReader

func (h runHeap) Len() int { return len(h) }
func (h runHeap) Less(i, j int) bool {
	if c := bytes.Compare(h[i].key, h[j].key); c != 0 {
		return c < 0
	}
	return h[i].idx < h[j].idx
}
func (h runHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)   { *h = append(*h, x.(*runReader)) }
func (h *runHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
