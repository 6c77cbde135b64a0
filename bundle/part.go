package bundle

import (
	"fmt"
	"io"
	"maps"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/imbundle/imbundle/spec"
)

// decodeSlack is what a batch may allocate beyond its declared sizes: the
// message metadata's copy and the ZSTD decoder's block buffers.
const decodeSlack = 4 << 20

// PartReader iterates the record batches of one part. Every batch is
// validated (array.ValidateFull: offsets, lengths, null counts) before it is
// returned, so a consumer indexing its values cannot panic on damaged data;
// and the rows handed out never exceed the manifest's count for the part.
type PartReader struct {
	fr     *ipc.FileReader
	alloc  *budgetAllocator
	path   string
	held   int64 // of the process's decode budget, for the last batch
	blocks []batchBlock
	next   int
	rows   int64 // declared by the manifest
	seen   int64
	err    error
}

// OpenPart opens part i of dataset ds for reading, after CheckPart's
// checks. It does not hash the part: call VerifyPart first when the bytes
// are untrusted. Errors name the entry.
func (r *Reader) OpenPart(ds *spec.Dataset, i int) (*PartReader, error) {
	fr, alloc, blocks, err := r.checkedPart(ds, i)
	if err != nil {
		return nil, err
	}
	for bi, b := range blocks {
		if need := batchMemory(b); need > maxBatchMemory {
			fr.Close()
			return nil, &TooLargeError{Entry: ds.Parts[i].Path, Batch: bi, Need: need, Limit: maxBatchMemory}
		}
	}
	return &PartReader{fr: fr, alloc: alloc, path: ds.Parts[i].Path, blocks: blocks, rows: ds.Parts[i].Rows}, nil
}

// CheckPart checks part i of ds against the manifest without decoding a
// value: the file's framing and every record batch header (bounds-checked,
// see partIndex), the batches' row counts against the part's declared
// rows, the Arrow schema against the manifest's columns, and every buffer's
// compression and declared size against the batch (checkBuffers). It reads
// the footer and the headers, a few bytes per buffer, and not the part's
// bulk: plain verify and an import's pre-flight run it on every part.
func (r *Reader) CheckPart(ds *spec.Dataset, i int) error {
	fr, _, _, err := r.checkedPart(ds, i)
	if err == nil {
		fr.Close()
	}
	return err
}

func (r *Reader) checkedPart(ds *spec.Dataset, i int) (fr *ipc.FileReader, alloc *budgetAllocator, blocks []batchBlock, err error) {
	if i < 0 || i >= len(ds.Parts) {
		return nil, nil, nil, fmt.Errorf("dataset %q has no part %d (it has %d)", ds.Name, i, len(ds.Parts))
	}
	p := ds.Parts[i]
	sec, err := r.plainSection(p)
	if err != nil {
		return nil, nil, nil, err
	}
	blocks, err = partIndex(sec)
	if err != nil {
		return nil, nil, nil, corruptf("entry %q: not a valid bundle part: %w", p.Path, err)
	}
	var rows int64
	for bi, b := range blocks {
		if b.rows < 1 {
			return nil, nil, nil, corruptf("entry %q: record batch %d is empty; bundle batches hold at least one row", p.Path, bi)
		}
		rows += b.rows
		if rows > p.Rows {
			break
		}
	}
	if rows != p.Rows {
		return nil, nil, nil, corruptf("entry %q: its record batches hold %d rows, the manifest says %d", p.Path, rows, p.Rows)
	}
	// The reader allocates only the schema here; every batch gets its own
	// allocation limit in Next.
	alloc = &budgetAllocator{mem: memory.NewGoAllocator(), limit: maxFooterBytes}
	defer func() {
		if v := recover(); v != nil {
			fr, alloc, blocks, err = nil, nil, nil, corruptf("entry %q: not a readable Arrow IPC file (decoder panic: %v)", p.Path, v)
		}
	}()
	fr, err = ipc.NewFileReader(sec, ipc.WithAllocator(alloc), ipc.WithBodySizeLimit(MaxBatchBytes+MaxBatchBytes/64+(1<<20)))
	if err != nil {
		return nil, nil, nil, corruptf("entry %q: not a readable Arrow IPC file: %w", p.Path, err)
	}
	fail := func(err error) (*ipc.FileReader, *budgetAllocator, []batchBlock, error) {
		fr.Close()
		return nil, nil, nil, corruptf("entry %q: %w", p.Path, err)
	}
	if err := checkPartSchema(fr, ds.Columns); err != nil {
		return fail(err)
	}
	if fr.NumRecords() != len(blocks) {
		return fail(fmt.Errorf("the Arrow reader sees %d record batches, the footer lists %d", fr.NumRecords(), len(blocks)))
	}
	if err := checkBuffers(sec, blocks, fr.Schema()); err != nil {
		return fail(err)
	}
	return fr, alloc, blocks, nil
}

// checkPartSchema compares a part's schema with the manifest's columns,
// native types and field metadata included, and refuses dictionaries and
// types a bundle may not hold.
func checkPartSchema(fr *ipc.FileReader, cols []spec.Column) error {
	if fr.NumDictionaries() != 0 {
		return fmt.Errorf("part holds %d dictionaries; bundle parts have none", fr.NumDictionaries())
	}
	s := fr.Schema()
	if err := checkSchema(s); err != nil {
		return err
	}
	if err := CheckColumns(s, cols); err != nil {
		return err
	}
	got := ColumnsOf(s)
	for i := range got {
		if got[i].Native != cols[i].Native || !maps.Equal(got[i].Metadata, cols[i].Metadata) {
			return fmt.Errorf("column %q: native type or field metadata differ from the manifest", got[i].Name)
		}
	}
	return nil
}

// Schema is the part's Arrow schema.
func (p *PartReader) Schema() *arrow.Schema { return p.fr.Schema() }

// Next returns the next record batch, or io.EOF after the last one. The
// batch is valid until the next call; Retain it to keep it longer. A batch
// that would take the part past its declared rows is never returned.
//
// Decoding a batch may allocate its body, its buffers' declared sizes and
// one ZSTD window, all checked by CheckPart, and Next holds that much of
// the process's decode budget (decodeBudget) until the next call.
func (p *PartReader) Next() (rec arrow.RecordBatch, err error) {
	decodeBudget.release(p.held)
	p.held = 0
	if p.err != nil {
		return nil, p.err
	}
	if p.next >= p.fr.NumRecords() {
		if p.seen != p.rows {
			p.err = corruptf("entry %q holds %d rows, the manifest says %d", p.path, p.seen, p.rows)
			return nil, p.err
		}
		return nil, io.EOF
	}
	defer func() {
		if v := recover(); v != nil {
			rec, err = nil, corruptf("entry %q record batch %d: undecodable (decoder panic: %v)", p.path, p.next, v)
			p.err = err
		}
	}()
	b := p.blocks[p.next]
	limit := batchMemory(b)
	p.held = decodeBudget.acquire(limit)
	p.alloc.reset(limit)
	rec, err = p.fr.RecordBatch(p.next)
	if err != nil {
		p.err = corruptf("entry %q record batch %d: %w", p.path, p.next, err)
		return nil, p.err
	}
	n := rec.NumRows()
	switch {
	case n != p.blocks[p.next].rows:
		p.err = corruptf("entry %q record batch %d decodes to %d rows, its header says %d", p.path, p.next, n, p.blocks[p.next].rows)
	case n < 1 || n > p.rows-p.seen:
		p.err = corruptf("entry %q record batch %d holds %d rows, past the %d the manifest declares", p.path, p.next, n, p.rows)
	}
	for c := 0; p.err == nil && c < int(rec.NumCols()); c++ {
		if err := array.ValidateFull(rec.Column(c)); err != nil {
			p.err = corruptf("entry %q record batch %d column %q: %w", p.path, p.next, rec.ColumnName(c), err)
		}
	}
	if p.err != nil {
		return nil, p.err
	}
	p.seen += n
	p.next++
	return rec, nil
}

// Close releases the part.
func (p *PartReader) Close() error {
	decodeBudget.release(p.held)
	p.held = 0
	return p.fr.Close()
}

// budgetAllocator refuses (by panicking, which OpenPart and Next recover)
// an allocation that takes the bytes allocated since the last reset past
// limit.
type budgetAllocator struct {
	mem   memory.Allocator
	limit int64
	used  atomic.Int64
}

type budgetExceeded struct{ size, used, limit int64 }

func (e budgetExceeded) Error() string {
	return fmt.Sprintf("a record batch needs more than %d bytes of memory (asked for %d more after %d): the part is damaged, or holds a batch larger than SPEC.md §4 allows", e.limit, e.size, e.used)
}

// reset starts a batch that may allocate up to limit bytes.
func (a *budgetAllocator) reset(limit int64) {
	a.used.Store(0)
	a.limit = limit
}

func (a *budgetAllocator) take(size int) {
	if size < 0 {
		panic(fmt.Errorf("negative allocation size %d", size))
	}
	if u := a.used.Add(int64(size)); u > a.limit {
		panic(budgetExceeded{int64(size), u - int64(size), a.limit})
	}
}

func (a *budgetAllocator) Allocate(size int) []byte {
	a.take(size)
	return a.mem.Allocate(size)
}

func (a *budgetAllocator) Reallocate(size int, b []byte) []byte {
	if size > len(b) {
		a.take(size - len(b))
	}
	return a.mem.Reallocate(size, b)
}

func (a *budgetAllocator) Free(b []byte) { a.mem.Free(b) }

// EachRecord calls fn with every record batch of ds, part after part, in the
// order they were written. A batch is valid only during its call.
func (r *Reader) EachRecord(ds *spec.Dataset, fn func(arrow.RecordBatch) error) error {
	for i := range ds.Parts {
		pr, err := r.OpenPart(ds, i)
		if err != nil {
			return err
		}
		err = Drain(pr, fn)
		pr.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// Drain reads record batches to io.EOF, calling fn on each.
func Drain(recs interface {
	Next() (arrow.RecordBatch, error)
}, fn func(arrow.RecordBatch) error) error {
	for {
		rec, err := recs.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
}
