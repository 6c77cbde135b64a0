package bundle

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// ipcFile writes n batches of a schema with text, bytes, nested and
// fixed-width columns (nulls, empty values, random bytes that do not
// compress, random hex that does a little) through opts, and returns the
// file and the records written.
func ipcFile(t *testing.T, n int, through func(io.Writer) (io.Writer, func() error), opts ...ipc.Option) ([]byte, []arrow.RecordBatch) {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: Text},
		{Name: "blob", Type: Bytes, Nullable: true},
		{Name: "small", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "n", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.LargeString), Nullable: true},
	}, nil)
	rng := rand.New(rand.NewPCG(1, 2))
	var recs []arrow.RecordBatch
	var out bytes.Buffer
	w, closeFn := through(&out)
	fw, err := ipc.NewFileWriter(w, append([]ipc.Option{ipc.WithSchema(schema)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	for b := 0; b < n; b++ {
		rb := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		rows := 1 + b*700
		for i := 0; i < rows; i++ {
			id := make([]byte, 16)
			for j := range id {
				id[j] = byte(rng.Uint32())
			}
			rb.Field(0).(*array.LargeStringBuilder).Append(hex.EncodeToString(id))
			switch i % 3 {
			case 0:
				rb.Field(1).AppendNull()
			case 1:
				rb.Field(1).(*array.BinaryBuilder).Append(nil)
			default:
				rb.Field(1).(*array.BinaryBuilder).Append(id)
			}
			if i%5 == 0 {
				rb.Field(2).AppendNull()
				rb.Field(3).AppendNull()
				rb.Field(4).AppendNull()
			} else {
				rb.Field(2).(*array.StringBuilder).Append("ok")
				rb.Field(3).(*array.Int32Builder).Append(int32(i))
				lb := rb.Field(4).(*array.ListBuilder)
				lb.Append(true)
				lb.ValueBuilder().(*array.LargeStringBuilder).AppendValues([]string{"a", "😀"}, nil)
			}
		}
		rec := rb.NewRecordBatch()
		rb.Release()
		if err := fw.Write(rec); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := closeFn(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes(), recs
}

func viaCompressor(w io.Writer) (io.Writer, func() error) {
	c := newIPCCompressor(w, LevelDefault)
	return c, c.Close
}

func direct(w io.Writer) (io.Writer, func() error) { return w, func() error { return nil } }

// The rewritten file is a valid Arrow IPC file whose every record batch
// says ZSTD, reads back equal with arrow-go, passes the part checks, and is
// smaller than arrow-go's own ZSTD output (literals entropy-coded).
func TestIPCCompressorWritesZSTDParts(t *testing.T) {
	file, recs := ipcFile(t, 4, viaCompressor)
	sec := io.NewSectionReader(bytes.NewReader(file), 0, int64(len(file)))
	blocks, err := partIndex(sec)
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) != len(recs) {
		t.Fatalf("%d blocks, want %d", len(blocks), len(recs))
	}
	for i, b := range blocks {
		meta := fbuf(file[b.offset+8 : b.offset+int64(b.meta)])
		msg, err := meta.root()
		if err != nil {
			t.Fatal(err)
		}
		rb, _, _ := msg.table(msgHeader)
		comp, ok, err := rb.table(rbCompression)
		if codec, _ := comp.scalar(0, 1); err != nil || !ok || codec != codecZSTD {
			t.Fatalf("batch %d: compression %v %v codec %d", i, ok, err, codec)
		}
		if b.rows != recs[i].NumRows() {
			t.Fatalf("batch %d: %d rows, want %d", i, b.rows, recs[i].NumRows())
		}
		// Buffers that ZSTD cannot shrink are stored raw (length -1).
		bufs, _ := structs(rb, rbBuffers, 16)
		body := file[b.offset+int64(b.meta):]
		raw := 0
		for j := 0; j < len(bufs); j += 16 {
			off, n := binary.LittleEndian.Uint64(bufs[j:]), binary.LittleEndian.Uint64(bufs[j+8:])
			if n > 0 && int64(binary.LittleEndian.Uint64(body[off:])) == -1 {
				raw++
			}
		}
		if i == 3 && raw == 0 {
			t.Errorf("batch %d: no buffer stored raw; the random blob column should be", i)
		}
	}
	fr, err := ipc.NewFileReader(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	defer fr.Close()
	for i, want := range recs {
		got, err := fr.RecordBatch(i)
		if err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
		for c, col := range got.Columns() {
			if err := array.ValidateFull(col); err != nil {
				t.Fatalf("batch %d column %d: %v", i, c, err)
			}
		}
		if !array.RecordEqual(got, want) {
			t.Fatalf("batch %d differs after the rewrite", i)
		}
	}

	theirs, _ := ipcFile(t, 4, direct, ipc.WithZstd())
	if len(file) >= len(theirs) {
		t.Errorf("rewritten file %d bytes, arrow-go's ZSTD %d: want smaller", len(file), len(theirs))
	}
	t.Logf("rewritten %d bytes, arrow-go's ZSTD %d", len(file), len(theirs))
}

// A stream that is not what arrow-go writes fails with an error, never a
// panic or a silent pass-through.
func TestIPCCompressorRefusesOtherStreams(t *testing.T) {
	plain, _ := ipcFile(t, 2, direct)
	compressed, _ := ipcFile(t, 1, direct, ipc.WithZstd())
	for name, in := range map[string][]byte{
		"not arrow":         []byte("PARQUET1 and more bytes than eight"),
		"already zstd":      compressed,
		"truncated":         plain[:len(plain)/2],
		"no continuation":   append(append([]byte(nil), plain[:8]...), 1, 2, 3, 4, 5, 6, 7, 8),
		"footer lies":       append(append([]byte(nil), plain[:len(plain)-10]...), 0xff, 0, 0, 0, 'A', 'R', 'R', 'O', 'W', '1'),
		"message too short": append(append([]byte(nil), plain[:8]...), 0xff, 0xff, 0xff, 0xff, 16, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
	} {
		c := newIPCCompressor(io.Discard, LevelDefault)
		_, err := c.Write(in)
		if err == nil {
			err = c.Close()
		}
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
