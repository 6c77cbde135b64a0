package convert

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// A spool holds the rows of one part routed to one output (route.go), as
// an Arrow IPC stream of the source's own batches with one more column,
// the row's number in the part (for the output's rejects). Files live in
// a directory of the system's temporary directory made on first use; a
// reader unlinks its file as it opens it, so that a spool is gone once
// read, and the directory goes with the last file. An import that stops
// before every output read its spools leaves their files behind there.

// spoolBuffer is each spool writer's buffer: routing a part into 1024
// objects holds 16 MiB.
const spoolBuffer = 16 << 10

// spoolRowColumn is the spool's column of row numbers.
const spoolRowColumn = "imbundle.route.row"

type spoolDir struct {
	mu    sync.Mutex
	dir   string
	files int // written and not yet opened
}

// spoolFile is one output's spool of one part: ready once the part is
// routed; path "" when no row went to the output.
type spoolFile struct {
	ready bool
	path  string
}

func (s *spoolDir) create(schema *arrow.Schema) (*spoolWriter, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dir == "" {
		d, err := os.MkdirTemp("", "imbundle-route-")
		if err != nil {
			return nil, fmt.Errorf("route spool: %w", err)
		}
		s.dir = d
	}
	f, err := os.CreateTemp(s.dir, "part-*.arrows")
	if err != nil {
		return nil, fmt.Errorf("route spool: %w", err)
	}
	s.files++
	fields := append(append([]arrow.Field(nil), schema.Fields()...), arrow.Field{Name: spoolRowColumn, Type: arrow.PrimitiveTypes.Int64})
	md := schema.Metadata()
	out := arrow.NewSchema(fields, &md)
	bw := bufio.NewWriterSize(f, spoolBuffer)
	return &spoolWriter{s: s, f: f, bw: bw, schema: out, w: ipc.NewWriter(bw, ipc.WithSchema(out))}, nil
}

// done forgets a spool file; the directory goes with the last one.
func (s *spoolDir) done(path string) {
	os.Remove(path)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files--
	if s.files == 0 && s.dir != "" {
		os.Remove(s.dir)
		s.dir = ""
	}
}

type spoolWriter struct {
	s      *spoolDir
	f      *os.File
	bw     *bufio.Writer
	schema *arrow.Schema
	w      *ipc.Writer
}

// write appends rec, rows is of the input batch whose first row is the
// part's row base.
func (w *spoolWriter) write(rec arrow.RecordBatch, base int64, is []int) error {
	b := array.NewInt64Builder(memory.DefaultAllocator)
	defer b.Release()
	for _, i := range is {
		b.Append(base + int64(i))
	}
	nums := b.NewArray()
	defer nums.Release()
	cols := append(append([]arrow.Array(nil), rec.Columns()...), nums)
	out := array.NewRecordBatch(w.schema, cols, rec.NumRows())
	defer out.Release()
	if err := w.w.Write(out); err != nil {
		return fmt.Errorf("route spool: %w", err)
	}
	return nil
}

func (w *spoolWriter) finish() (spoolFile, error) {
	err := w.w.Close()
	if err == nil {
		err = w.bw.Flush()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		w.s.done(w.f.Name())
		return spoolFile{}, fmt.Errorf("route spool: %w", err)
	}
	return spoolFile{ready: true, path: w.f.Name()}, nil
}

func (w *spoolWriter) abort() {
	w.w.Close()
	w.f.Close()
	w.s.done(w.f.Name())
}

// open reads f, which is then no longer listed (nil reader: no rows).
func (s *spoolDir) open(f spoolFile) (*spoolReader, error) {
	if f.path == "" {
		return &spoolReader{}, nil
	}
	file, err := os.Open(f.path)
	s.done(f.path) // unlinked: readable until closed
	if err != nil {
		return nil, fmt.Errorf("route spool: %w", err)
	}
	r, err := ipc.NewReader(bufio.NewReaderSize(file, 1<<16), ipc.WithAllocator(memory.DefaultAllocator))
	if err != nil {
		file.Close()
		return nil, fmt.Errorf("route spool: %w", err)
	}
	return &spoolReader{f: file, r: r}, nil
}

type spoolReader struct {
	f *os.File
	r *ipc.Reader
}

// next is the next batch without its row column, and the rows' numbers
// in the part.
func (sr *spoolReader) next() (arrow.RecordBatch, []int64, error) {
	if sr.r == nil {
		return nil, nil, io.EOF
	}
	if !sr.r.Next() {
		if err := sr.r.Err(); err != nil {
			return nil, nil, fmt.Errorf("route spool: %w", err)
		}
		return nil, nil, io.EOF
	}
	rec := sr.r.RecordBatch()
	n := int(rec.NumCols()) - 1
	nums := rec.Column(n).(*array.Int64).Int64Values()
	fields := rec.Schema().Fields()[:n]
	md := rec.Schema().Metadata()
	out := array.NewRecordBatch(arrow.NewSchema(fields, &md), rec.Columns()[:n], rec.NumRows())
	return out, append([]int64(nil), nums...), nil
}

func (sr *spoolReader) close() {
	if sr.r != nil {
		sr.r.Release()
		sr.f.Close()
		sr.r = nil
	}
}
