package extract

import (
	"bufio"
	"io"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/spec"
)

// csvSink writes RFC 4180 CSV: a header of column names, then one record
// per row, CRLF line ends. A value is its text.go text, a nested value its
// JSON. NULL is nullText unquoted (default: the empty field), and a value
// that would read as NULL — the empty string by default — is quoted (""),
// as PostgreSQL's COPY … CSV does, so the two stay apart.
type csvSink struct {
	bw       *bufio.Writer
	header   []string
	nullText string
	docs     bool
	started  bool
	field    []byte
}

func newCSVSink(ds *spec.Dataset, schema *arrow.Schema, w io.Writer, null string, docs bool) *csvSink {
	s := &csvSink{bw: bufio.NewWriterSize(w, 1<<20), nullText: null, docs: docs}
	for _, c := range ds.Columns {
		if docs && c.Name == idColumn {
			continue
		}
		s.header = append(s.header, c.Name)
	}
	return s
}

func (s *csvSink) start() error {
	if s.started {
		return nil
	}
	s.started = true
	for i, h := range s.header {
		if i > 0 {
			s.bw.WriteByte(',')
		}
		s.writeField(h)
	}
	_, err := s.bw.WriteString("\r\n")
	return err
}

func (s *csvSink) write(rec arrow.RecordBatch) error {
	if err := s.start(); err != nil {
		return err
	}
	doc, idJSON := -1, -1
	if s.docs {
		var err error
		if doc, idJSON, err = docColumns(rec.Schema()); err != nil {
			return err
		}
	}
	for i := 0; i < int(rec.NumRows()); i++ {
		first := true
		for c := 0; c < int(rec.NumCols()); c++ {
			if s.docs && c != doc && c != idJSON {
				continue
			}
			if !first {
				s.bw.WriteByte(',')
			}
			first = false
			arr := rec.Column(c)
			switch {
			case arr.IsNull(i):
				s.bw.WriteString(s.nullText)
			case c == doc:
				js, err := docJSON(rec.Column(doc), rec.Column(idJSON), i)
				if err != nil {
					return err
				}
				s.writeField(string(js))
			default:
				if t, ok := scalarText(arr, i); ok {
					s.writeField(t)
				} else {
					s.field = appendJSON(s.field[:0], arr, i)
					s.writeField(string(s.field))
				}
			}
		}
		if _, err := s.bw.WriteString("\r\n"); err != nil {
			return err
		}
	}
	return nil
}

// writeField writes v, quoted when RFC 4180 needs it or when it would
// otherwise read as NULL.
func (s *csvSink) writeField(v string) {
	if v != s.nullText && v != "" && !strings.ContainsAny(v, ",\"\r\n") {
		s.bw.WriteString(v)
		return
	}
	s.bw.WriteByte('"')
	s.bw.WriteString(strings.ReplaceAll(v, `"`, `""`))
	s.bw.WriteByte('"')
}

func (s *csvSink) close() error {
	if err := s.start(); err != nil {
		return err
	}
	return s.bw.Flush()
}
