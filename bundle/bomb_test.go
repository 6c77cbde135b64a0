package bundle

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"math/rand"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/imbundle/imbundle/spec"
)

// blobBundle writes one part of one batch: 5 rows of an int64 id and an
// 8 KiB random large_binary each, so the blobs' data buffer (buffer 4) is
// stored raw and has room for a forged ZSTD frame of the same length.
func blobBundle(t *testing.T) []rawEntry {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "blob", Type: arrow.BinaryTypes.LargeBinary}}, nil)
	path := filepath.Join(t.TempDir(), "b.imb")
	w, err := Create(path, Options{Tool: spec.Tool{Name: "test", Version: "0"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddSource(spec.Source{ID: "s0", Engine: "mysql", URL: "mysql://127.0.0.1:3306/db"}); err != nil {
		t.Fatal(err)
	}
	dw, err := w.CreateDataset(spec.Dataset{Name: "db.blobs", Source: "s0", Kind: spec.KindTable}, schema)
	if err != nil {
		t.Fatal(err)
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	rnd := rand.New(rand.NewSource(1))
	for i := 0; i < 5; i++ {
		blob := make([]byte, 8<<10)
		rnd.Read(blob)
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		b.Field(1).(*array.BinaryBuilder).Append(blob)
	}
	rec := b.NewRecordBatch()
	if err := dw.Write(rec); err != nil {
		t.Fatal(err)
	}
	rec.Release()
	b.Release()
	if err := dw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return entriesOf(t, path)
}

// forgeBuffer rewrites buffer buf of the part's first batch in place with
// what fill writes into it (same length), and the manifest's SHA-256 to
// match: a consistent liar that only the structure checks can catch.
func forgeBuffer(t *testing.T, entries []rawEntry, buf int, fill func(b []byte)) []byte {
	t.Helper()
	part := append([]byte(nil), entries[1].data...)
	blocks, err := partIndex(io.NewSectionReader(bytes.NewReader(part), 0, int64(len(part))))
	if err != nil {
		t.Fatal(err)
	}
	b := blocks[0]
	off := b.offset + int64(b.meta) + b.buffers[buf][0]
	fill(part[off : off+b.buffers[buf][1]])
	out := append([]rawEntry(nil), entries...)
	out[1].data = part
	sum := sha256.Sum256(part)
	return encodeContainer(t, withManifest(t, out, func(m *spec.Manifest) { m.Datasets[0].Parts[0].SHA256 = hex.EncodeToString(sum[:]) }))
}

// zstdRLE fills b with the declared length and one ZSTD frame (no content
// size, the given window) of rle RLE blocks of 128 KiB each and a raw
// block taking the rest: a frame that decodes to rle×128 KiB + rest bytes
// from a few bytes per 128 KiB, as a bomb does.
func zstdRLE(t *testing.T, b []byte, window byte, rle int, lastEarly bool) {
	t.Helper()
	raw := len(b) - 8 - 6 - 4*rle - 3
	if raw < 0 || raw > 128<<10 {
		t.Fatalf("%d bytes do not take %d RLE blocks and a raw block", len(b), rle)
	}
	p := b[:0]
	p = binary.LittleEndian.AppendUint64(p, uint64(rle*(128<<10)+raw))
	p = binary.LittleEndian.AppendUint32(p, zstdMagic)
	p = append(p, 0, window)
	for i := 0; i < rle; i++ {
		v := uint32(1<<1 | (128<<10)<<3)
		if lastEarly && i == rle-1 {
			v |= 1
		}
		p = append(p, byte(v), byte(v>>8), byte(v>>16), 'a')
	}
	v := uint32(1 | raw<<3)
	p = append(p, byte(v), byte(v>>8), byte(v>>16))
	if len(p)+raw != len(b) {
		t.Fatalf("frame of %d bytes for a %d-byte buffer", len(p)+raw, len(b))
	}
}

// Every bomb is refused before the decoder allocates what it declares:
// the bytes the test allocates while opening, checking and reading the
// forged bundle stay far below the declared size.
func TestBombsAreRefusedWithoutAllocating(t *testing.T) {
	entries := blobBundle(t)
	cases := []struct {
		name    string
		buf     int
		fill    func(b []byte)
		check   string // CheckPart's error; "" if the part is valid
		tooBig  bool   // OpenPart refuses it for memory
		declare int64
	}{
		{"fixed-width length inflated", 1, func(b []byte) { binary.LittleEndian.PutUint64(b, 1<<30) },
			"buffer 1 declares 1073741824 bytes uncompressed, more than the 64 its field node of 5 values can hold", false, 1 << 30},
		{"negative length", 1, func(b []byte) { binary.LittleEndian.PutUint64(b, 1<<63) }, "declares an uncompressed length of", false, 1 << 62},
		{"RLE bomb over the batch limit", 4, func(b []byte) {}, "", false, 0}, // replaced below
		{"RLE bomb under the batch limit", 4, func(b []byte) { zstdRLE(t, b, 0x50, 8192, false) }, "", true, 1 << 30},
		{"window bomb", 4, func(b []byte) { zstdRLE(t, b, 0x98, 1, false) }, "ZSTD frame asks for a 536870912-byte window to decode", false, 1 << 29},
		{"second frame after the first", 4, func(b []byte) { zstdRLE(t, b, 0x50, 8192, true) }, "follow the ZSTD frame in the buffer; a buffer is one frame", false, 1 << 30},
	}
	// Over 2 GiB needs more RLE blocks than an 40 KiB buffer holds: the
	// length prefix alone says it.
	cases[2].fill = func(b []byte) {
		zstdRLE(t, b, 0x50, 8192, false)
		binary.LittleEndian.PutUint64(b, 3<<30)
	}
	cases[2].check, cases[2].declare = "buffer 4 declares 3221225472 bytes uncompressed", 3<<30
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			raw := forgeBuffer(t, entries, tc.buf, tc.fill)
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			r, err := openBytes(raw)
			if err != nil {
				t.Fatal(err)
			}
			ds := &r.Manifest().Datasets[0]
			errCheck := VerifyAll(t.Context(), r, ds.Parts, 1, nil)
			pr, errOpen := r.OpenPart(ds, 0)
			if errOpen == nil {
				_, errOpen = pr.Next()
				pr.Close()
			}
			runtime.ReadMemStats(&after)
			if got := after.TotalAlloc - before.TotalAlloc; got > 16<<20 || int64(got) > tc.declare/16 {
				t.Fatalf("allocated %d bytes for a part declaring %d", got, tc.declare)
			}
			switch {
			case tc.check != "":
				if !errors.Is(errCheck, ErrCorrupt) || !strings.Contains(errCheck.Error(), tc.check) {
					t.Fatalf("VerifyAll: %v\nwant an error containing %q", errCheck, tc.check)
				}
				if !errors.Is(errOpen, ErrCorrupt) {
					t.Fatalf("OpenPart: %v", errOpen)
				}
			case tc.tooBig:
				if errCheck != nil {
					t.Fatalf("VerifyAll: %v (the part is valid, only large)", errCheck)
				}
				var tl *TooLargeError
				if !errors.As(errOpen, &tl) || tl.Need < 1<<30 || !strings.Contains(errOpen.Error(), BatchMemoryEnv+"=") {
					t.Fatalf("OpenPart: %v", errOpen)
				}
			}
		})
	}
}

// A part whose batches carry no BodyCompression (arrow-go's default
// output) is refused by every reader of part data, verify included.
func TestPartWithoutCompressionIsRefused(t *testing.T) {
	entries := blobBundle(t)
	r, err := openBytes(encodeContainer(t, entries))
	if err != nil {
		t.Fatal(err)
	}
	ds := &r.Manifest().Datasets[0]
	pr, err := r.OpenPart(ds, 0)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := pr.Next()
	if err != nil {
		t.Fatal(err)
	}
	var part bytes.Buffer
	fw, err := ipc.NewFileWriter(&part, ipc.WithSchema(rec.Schema()))
	if err != nil {
		t.Fatal(err)
	}
	if err := fw.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	pr.Close()
	entries[1].data = part.Bytes()
	sum := sha256.Sum256(part.Bytes())
	raw := encodeContainer(t, withManifest(t, entries, func(m *spec.Manifest) {
		m.Datasets[0].Parts[0].SHA256 = hex.EncodeToString(sum[:])
		m.Datasets[0].Parts[0].Bytes = int64(part.Len())
	}))
	if r, err = openBytes(raw); err != nil {
		t.Fatal(err)
	}
	ds = &r.Manifest().Datasets[0]
	const want = "record batch 0: record batch has no BodyCompression"
	if err := VerifyAll(t.Context(), r, ds.Parts, 1, nil); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), want) {
		t.Fatalf("VerifyAll: %v", err)
	}
	if _, err := r.OpenPart(ds, 0); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), want) {
		t.Fatalf("OpenPart: %v", err)
	}
}
