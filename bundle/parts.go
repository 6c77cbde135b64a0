package bundle

import (
	"io"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/spec"
)

// PartsReader reads every part of a dataset in order as one source of
// record batches, one part open at a time: the input of a conversion that
// takes a whole dataset at once (records merged by key across parts,
// SPEC.md §11.9). Each part is checked as OpenPart and PartReader.Next
// check it.
type PartsReader struct {
	r   *Reader
	ds  *spec.Dataset
	i   int
	cur *PartReader
}

// OpenParts returns a reader of all parts of ds; parts are opened as they
// are reached.
func (r *Reader) OpenParts(ds *spec.Dataset) *PartsReader { return &PartsReader{r: r, ds: ds} }

// Next returns the next batch, valid until the next call, or io.EOF after
// the last part's last batch.
func (p *PartsReader) Next() (arrow.RecordBatch, error) {
	for {
		if p.cur == nil {
			if p.i >= len(p.ds.Parts) {
				return nil, io.EOF
			}
			pr, err := p.r.OpenPart(p.ds, p.i)
			if err != nil {
				return nil, err
			}
			p.cur = pr
		}
		rec, err := p.cur.Next()
		if err != io.EOF {
			return rec, err
		}
		if err := p.cur.Close(); err != nil {
			return nil, err
		}
		p.cur, p.i = nil, p.i+1
	}
}

// Close closes the part being read, if any.
func (p *PartsReader) Close() error {
	if p.cur == nil {
		return nil
	}
	err := p.cur.Close()
	p.cur = nil
	return err
}
