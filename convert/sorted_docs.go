package convert

import (
	"io"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/internal/extsort"
	"github.com/imbundle/imbundle/internal/mongotype"
)

// sortedDocs is what the nest and embed conversions share: they sort the
// whole input (sorter, then it), then build documents from its runs into
// b. step is the conversion's own; Next stops at the first error and
// releases everything, and Close does so when the reader stops early.
type sortedDocs struct {
	sorter *extsort.Sorter
	it     *extsort.Iterator
	b      *mongotype.Builder
	done   bool
	step   func() (arrow.RecordBatch, error)
}

func (s *sortedDocs) Next() (arrow.RecordBatch, error) {
	if s.done {
		return nil, io.EOF
	}
	out, err := s.step()
	if err != nil {
		s.Close()
	}
	return out, err
}

// Close releases the builder and removes the sort's files; the importer
// and verify call it when they stop reading, whatever the reason.
func (s *sortedDocs) Close() error {
	s.done = true
	if s.b != nil {
		s.b.Release()
		s.b = nil
	}
	if s.sorter != nil {
		return s.sorter.Close()
	}
	return nil
}
