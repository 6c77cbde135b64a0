package extract

import (
	"context"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/spec"
)

// Format is an output format.
type Format string

const (
	JSONL   Format = "jsonl"
	CSV     Format = "csv"
	Parquet Format = "parquet"
)

// Formats lists the formats, for flag help and errors.
var Formats = []Format{JSONL, CSV, Parquet}

// Options say how rows are written.
type Options struct {
	Format Format
	// Null is the CSV text of NULL (default: an empty unquoted field; an
	// empty string is then written as ""). A value equal to Null is
	// quoted, so the two stay apart.
	Null string
}

// sink writes record batches in one format.
type sink interface {
	write(rec arrow.RecordBatch) error
	close() error
}

// Check verifies every part of ds before a row is written: its bytes
// against the manifest's SHA-256 and the container's CRC-32, then its
// framing, batch headers and schema (bundle.Reader.CheckPart). Errors name
// the part's entry.
func Check(r *bundle.Reader, ds *spec.Dataset) error {
	for i, p := range ds.Parts {
		if err := r.VerifyPart(p); err != nil {
			return fmt.Errorf("dataset %s part %d: %w", ds.Name, i, err)
		}
		if err := r.CheckPart(ds, i); err != nil {
			return fmt.Errorf("dataset %s part %d: %w", ds.Name, i, err)
		}
	}
	return nil
}

// Write writes the rows of ds to w in opt.Format, part after part, batch
// after batch, and returns how many it wrote; it stops between batches
// when ctx is done. Call Check first: Write checks each batch as it
// decodes it (bundle.PartReader), but a damaged part found here leaves w
// with the rows before it.
func Write(ctx context.Context, r *bundle.Reader, ds *spec.Dataset, w io.Writer, opt Options) (int64, error) {
	var s sink
	var rows int64
	parts := r.OpenParts(ds)
	defer parts.Close()
	for {
		if err := ctx.Err(); err != nil {
			return rows, err
		}
		rec, err := parts.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return rows, fmt.Errorf("dataset %s: %w", ds.Name, err)
		}
		if s == nil {
			if s, err = newSink(ds, rec.Schema(), w, opt); err != nil {
				return 0, err
			}
		}
		if err := s.write(rec); err != nil {
			return rows, fmt.Errorf("dataset %s, rows %d to %d: %w", ds.Name, rows, rows+rec.NumRows()-1, err)
		}
		rows += rec.NumRows()
	}
	if s == nil {
		var err error
		if s, err = newSink(ds, nil, w, opt); err != nil {
			return 0, err
		}
	}
	return rows, s.close()
}

// newSink makes the writer of ds's rows; schema is the parts' Arrow schema,
// nil for a dataset without parts.
func newSink(ds *spec.Dataset, schema *arrow.Schema, w io.Writer, opt Options) (sink, error) {
	if schema != nil {
		if err := checkTypes(schema); err != nil {
			return nil, fmt.Errorf("dataset %s: %w", ds.Name, err)
		}
	}
	doc := isCollection(ds)
	switch opt.Format {
	case JSONL:
		return &jsonlSink{w: w, docs: doc}, nil
	case CSV:
		return newCSVSink(ds, schema, w, opt.Null, doc), nil
	case Parquet:
		if schema == nil {
			var err error
			if schema, err = manifestSchema(ds); err != nil {
				return nil, err
			}
		}
		return newParquetSink(schema, w, doc)
	}
	return nil, fmt.Errorf("format %q: want one of %v", opt.Format, Formats)
}

// checkTypes refuses a column whose type text.go cannot spell.
func checkTypes(s *arrow.Schema) error {
	for _, f := range s.Fields() {
		if err := checkType(f.Type); err != nil {
			return fmt.Errorf("column %s: %w", f.Name, err)
		}
	}
	return nil
}

func checkType(dt arrow.DataType) error {
	switch t := dt.(type) {
	case arrow.ExtensionType:
		return checkType(t.StorageType())
	case arrow.NestedType:
		for _, f := range t.Fields() {
			if err := checkType(f.Type); err != nil {
				return err
			}
		}
		return nil
	}
	switch dt.ID() {
	case arrow.BOOL, arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64,
		arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64, arrow.FLOAT32, arrow.FLOAT64,
		arrow.DECIMAL128, arrow.DECIMAL256, arrow.STRING, arrow.LARGE_STRING,
		arrow.BINARY, arrow.LARGE_BINARY, arrow.FIXED_SIZE_BINARY,
		arrow.DATE32, arrow.DATE64, arrow.TIMESTAMP, arrow.TIME32, arrow.TIME64, arrow.DURATION:
		return nil
	}
	return fmt.Errorf("type %s has no extract form", dt)
}

// isCollection: a MongoDB collection (SPEC.md §9.2), whose doc column is
// written as canonical Extended JSON.
func isCollection(ds *spec.Dataset) bool {
	if ds.Kind != spec.KindCollection {
		return false
	}
	for _, c := range ds.Columns {
		if c.Name == docColumn {
			return true
		}
	}
	return false
}
