package extract

import (
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// parquetSink writes Parquet with ZSTD, one row group per record batch
// (memory: one batch). Most columns keep their Arrow type (uint64 as
// INT64 with the unsigned INT(64) logical type, decimal128 as DECIMAL(p,s),
// timestamps with their unit and UTC adjustment, timestamp[s] as
// milliseconds since Parquet has no seconds); a few become exact text,
// because DuckDB and polars cannot read them otherwise (columnPlan).
type parquetSink struct {
	plan []columnPlan
	out  *arrow.Schema
	fw   *pqarrow.FileWriter
	mem  memory.Allocator
}

// columnPlan is how one input column becomes an output column: kept,
// dropped (a collection's binary _id), or rewritten as text.
type columnPlan struct {
	in   int
	text func(rec arrow.RecordBatch, i int) (string, error) // nil: kept as is
}

func newParquetSink(s *arrow.Schema, w io.Writer, docs bool) (*parquetSink, error) {
	p := &parquetSink{mem: memory.NewGoAllocator()}
	doc, idJSON := -1, -1
	if docs {
		var err error
		if doc, idJSON, err = docColumns(s); err != nil {
			return nil, err
		}
	}
	var fields []arrow.Field
	for i, f := range s.Fields() {
		if docs && f.Name == idColumn {
			continue
		}
		cp := columnPlan{in: i}
		switch {
		case i == doc:
			cp.text = func(rec arrow.RecordBatch, j int) (string, error) {
				js, err := docJSON(rec.Column(doc), rec.Column(idJSON), j)
				return string(js), err
			}
		case f.Type.ID() == arrow.DECIMAL256 || f.Type.ID() == arrow.DURATION:
			// DuckDB's DECIMAL stops at 38 digits and polars does not read
			// decimal256; Parquet has no duration type (pqarrow would write
			// a bare INT64 that DuckDB reads without its unit).
			cp.text = func(rec arrow.RecordBatch, j int) (string, error) {
				t, _ := scalarText(rec.Column(i), j)
				return t, nil
			}
		case hasUnreadable(f.Type):
			return nil, fmt.Errorf("column %s: Parquet cannot hold %s exactly here (a decimal256 or duration inside a nested type): extract it as jsonl", f.Name, f.Type)
		}
		out := f
		if cp.text != nil {
			out = arrow.Field{Name: f.Name, Type: arrow.BinaryTypes.LargeString, Nullable: f.Nullable, Metadata: f.Metadata}
		} else if ext, ok := f.Type.(arrow.ExtensionType); ok {
			out.Type = ext.StorageType()
		}
		p.plan = append(p.plan, cp)
		fields = append(fields, out)
	}
	p.out = arrow.NewSchema(fields, nil)
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Zstd), parquet.WithAllocator(p.mem))
	// Hidden behind a plain io.Writer: FileWriter.Close closes a Closer,
	// and the caller still syncs and renames its file (or owns stdout).
	fw, err := pqarrow.NewFileWriter(p.out, struct{ io.Writer }{w}, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema(), pqarrow.WithAllocator(p.mem)))
	if err != nil {
		return nil, fmt.Errorf("parquet schema: %w", err)
	}
	p.fw = fw
	return p, nil
}

// hasUnreadable: a nested type holding a type that Parquet readers cannot
// take exactly (see newParquetSink).
func hasUnreadable(dt arrow.DataType) bool {
	if n, ok := dt.(arrow.NestedType); ok {
		for _, f := range n.Fields() {
			if f.Type.ID() == arrow.DECIMAL256 || f.Type.ID() == arrow.DURATION || hasUnreadable(f.Type) {
				return true
			}
		}
	}
	return false
}

func (p *parquetSink) write(rec arrow.RecordBatch) error {
	cols := make([]arrow.Array, len(p.plan))
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for k, cp := range p.plan {
		in := rec.Column(cp.in)
		switch {
		case cp.text != nil:
			b := array.NewLargeStringBuilder(p.mem)
			for i := 0; i < in.Len(); i++ {
				if in.IsNull(i) {
					b.AppendNull()
					continue
				}
				t, err := cp.text(rec, i)
				if err != nil {
					b.Release()
					return err
				}
				b.Append(t)
			}
			cols[k] = b.NewArray()
			b.Release()
		default:
			if ext, ok := in.(array.ExtensionArray); ok {
				in = ext.Storage()
			}
			in.Retain()
			cols[k] = in
		}
	}
	out := array.NewRecordBatch(p.out, cols, rec.NumRows())
	defer out.Release()
	return p.fw.Write(out)
}

func (p *parquetSink) close() error { return p.fw.Close() }
