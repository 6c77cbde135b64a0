package convert

import (
	"bufio"
	"fmt"
	"io"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// A spool holds the rows of one part routed to one output (route.go), as
// an Arrow IPC stream of the source's own batches with one more column,
// the row's number in the part (for the output's rejects). Each is a file
// of the system's temporary directory unlinked as soon as it is made: it
// is read through the open file, and its space goes when the file is
// closed, after its output read it, or when the process ends (an import
// that stops before every output read its spools leaves nothing behind).

// spoolBuffer is each spool writer's buffer: routing a part into 1024
// objects holds 16 MiB.
const spoolBuffer = 16 << 10

// spoolRowColumn is the spool's column of row numbers.
const spoolRowColumn = "imbundle.route.row"

// spoolDir makes spools.
type spoolDir struct{}

// spoolFile is one output's spool of one part: ready once the part is
// routed; f nil when no row went to the output.
type spoolFile struct {
	ready bool
	f     *os.File
	size  int64
}

func (spoolDir) create(schema *arrow.Schema) (*spoolWriter, error) {
	f, err := os.CreateTemp("", "imbundle-route-*.arrows")
	if err != nil {
		return nil, fmt.Errorf("route spool: %w", err)
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, fmt.Errorf("route spool: %w", err)
	}
	fields := append(append([]arrow.Field(nil), schema.Fields()...), arrow.Field{Name: spoolRowColumn, Type: arrow.PrimitiveTypes.Int64})
	md := schema.Metadata()
	out := arrow.NewSchema(fields, &md)
	cw := &countingWriter{w: f}
	bw := bufio.NewWriterSize(cw, spoolBuffer)
	return &spoolWriter{f: f, cw: cw, bw: bw, schema: out, w: ipc.NewWriter(bw, ipc.WithSchema(out))}, nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

type spoolWriter struct {
	f      *os.File
	cw     *countingWriter
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
	if err != nil {
		w.f.Close()
		return spoolFile{}, fmt.Errorf("route spool: %w", err)
	}
	return spoolFile{ready: true, f: w.f, size: w.cw.n}, nil
}

func (w *spoolWriter) abort() {
	w.w.Close()
	w.f.Close()
}

// open reads f (no rows when it has no file).
func (spoolDir) open(f spoolFile) (*spoolReader, error) {
	if f.f == nil {
		return &spoolReader{}, nil
	}
	r, err := ipc.NewReader(bufio.NewReaderSize(io.NewSectionReader(f.f, 0, f.size), spoolBuffer), ipc.WithAllocator(memory.DefaultAllocator))
	if err != nil {
		f.f.Close()
		return nil, fmt.Errorf("route spool: %w", err)
	}
	return &spoolReader{f: f.f, r: r}, nil
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
