package extract

import (
	"bufio"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
)

// jsonlSink writes one JSON object per line: a table's or keyspace's row
// with its column names as keys in column order, or a collection's whole
// document as canonical Extended JSON.
type jsonlSink struct {
	w    io.Writer
	bw   *bufio.Writer
	docs bool
	line []byte
}

func (s *jsonlSink) write(rec arrow.RecordBatch) error {
	if s.bw == nil {
		s.bw = bufio.NewWriterSize(s.w, 1<<20)
	}
	doc, idJSON := -1, -1
	if s.docs {
		var err error
		if doc, idJSON, err = docColumns(rec.Schema()); err != nil {
			return err
		}
	}
	for i := 0; i < int(rec.NumRows()); i++ {
		b := s.line[:0]
		if doc >= 0 {
			js, err := docJSON(rec.Column(doc), rec.Column(idJSON), i)
			if err != nil {
				return err
			}
			b = append(b, js...)
		} else {
			b = append(b, '{')
			for c := 0; c < int(rec.NumCols()); c++ {
				if c > 0 {
					b = append(b, ',')
				}
				b = appendJSONString(b, rec.ColumnName(c))
				b = append(b, ':')
				b = appendJSON(b, rec.Column(c), i)
			}
			b = append(b, '}')
		}
		b = append(b, '\n')
		if _, err := s.bw.Write(b); err != nil {
			return err
		}
		s.line = b
	}
	return nil
}

func (s *jsonlSink) close() error {
	if s.bw == nil {
		return nil
	}
	return s.bw.Flush()
}
