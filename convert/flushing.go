package convert

import (
	"io"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/internal/redistype"
)

// flushing is the Records of a conversion into the Redis keyspace layout
// (§11.7, §11.8): row by row, each input row appends its key's rows to a
// keyspace builder, and a batch is handed on as soon as the builder is
// full. Row by row, not batch by batch: a 200,000-row input batch makes
// 1.2 million layout rows, which held whole took the import of a MySQL
// table to 330 MB.
type flushing struct {
	in Records
	b  *redistype.Builder
	// row prepares an input batch and returns the function that converts
	// its row i.
	row  func(arrow.RecordBatch) (func(i int) error, error)
	next func(int) error // the current batch's, nil between batches
	n, i int
	done bool
}

func (f *flushing) Next() (arrow.RecordBatch, error) {
	for {
		if f.b.Full() || (f.done && f.b.Rows() > 0) {
			return f.b.Flush(), nil
		}
		if f.done {
			return nil, io.EOF
		}
		if f.next != nil && f.i < f.n {
			if err := f.next(f.i); err != nil {
				return nil, err
			}
			f.i++
			continue
		}
		rec, err := f.in.Next()
		if err == io.EOF {
			f.done, f.next = true, nil
			continue
		}
		if err != nil {
			return nil, err
		}
		if f.next, err = f.row(rec); err != nil {
			return nil, err
		}
		f.n, f.i = int(rec.NumRows()), 0
	}
}
