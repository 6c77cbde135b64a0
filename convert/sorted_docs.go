package convert

import (
	"bytes"
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

	open  bool   // a run of one group key is being read
	group []byte // its encoded key
}

// runHandler is a conversion's part of the run loop: start begins the
// document of a new group (s.group), add takes one sorted entry (its key,
// the length of the key's group prefix, its row and its bytes), finish
// hands the run's document to b or rejects it.
type runHandler interface {
	start(row int64) error
	add(key []byte, glen int, row int64, elem []byte) error
	finish() error
}

// runs reads the sorted entries, each valued as decodeNested reads it,
// one run of a group key at a time, and returns a batch of documents once
// b holds enough at a run's end, the last batch at the end, then io.EOF.
func (s *sortedDocs) runs(h runHandler) (arrow.RecordBatch, error) {
	for {
		key, val, err := s.it.Next()
		if err == io.EOF {
			if err := s.end(h); err != nil {
				return nil, err
			}
			if s.b.Len() > 0 {
				return s.b.NewRecord(), nil
			}
			return nil, io.EOF
		}
		if err != nil {
			return nil, err
		}
		row, glen, elem, err := decodeNested(key, val)
		if err != nil {
			return nil, err
		}
		boundary := s.open && !bytes.Equal(key[:glen], s.group)
		if boundary {
			if err := s.end(h); err != nil {
				return nil, err
			}
		}
		if !s.open {
			s.group, s.open = append(s.group[:0], key[:glen]...), true
			if err := h.start(row); err != nil {
				return nil, err
			}
		}
		if err := h.add(key, glen, row, elem); err != nil {
			return nil, err
		}
		if boundary && (s.b.Len() >= sinkRows || s.b.Bytes() >= sinkBytes) {
			return s.b.NewRecord(), nil
		}
	}
}

// end finishes the run being read, if any.
func (s *sortedDocs) end(h runHandler) error {
	if !s.open {
		return nil
	}
	s.open = false
	return h.finish()
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
