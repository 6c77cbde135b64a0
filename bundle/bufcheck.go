package bundle

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
)

// A compressed buffer declares its uncompressed length in its first eight
// bytes, and arrow-go allocates that much before it decompresses; a ZSTD
// frame declares a window, and klauspost's streaming decoder allocates
// that much history. Neither is tied to the data: a few kilobytes of ZSTD
// can claim gigabytes (issue 8: a 5 MB bundle took an import to 5.4 GB).
// checkBuffers bounds both from what the batch header says before any
// value is decoded (SPEC.md §4.1, "Buffer bounds"):
//   - each buffer's length follows from its field node's length and its
//     type: a validity bitmap holds ceil(n/8) bytes, a fixed-width buffer
//     n values (offsets n+1), padded to 64 bytes as Arrow writers pad;
//     only the data of utf8/binary has no such bound;
//   - the batch's buffers together decode to at most MaxBatchBytes;
//   - each buffer is exactly one ZSTD frame, without a dictionary, whose
//     content size (when given) is the declared length and whose window is
//     at most max(declared length, maxZstdWindow).
// What a batch may then allocate is its body, its decoded buffers and one
// window: budgetAllocator holds the decoder to it.

// maxZstdWindow is the window a frame may declare beyond its buffer's
// length: 8 MiB is the default of klauspost's encoder and above what the
// reference library's levels 1–19 choose for inputs they know the size of.
const maxZstdWindow = 8 << 20

// bufferBound says how large a buffer may be for a node of n values.
type bufferBound func(n int64) int64

// layout lists, in the decoder's order (pre-order, each field's own
// buffers before its children's), one bound per buffer and one entry per
// field node, for the fields of a schema.
type layout struct {
	nodes   int
	buffers []bufferBound
	// bufNode is the node each buffer belongs to, top the node of each
	// column.
	bufNode []int
	top     []int
}

func (l *layout) add(dt arrow.DataType) {
	if ext, ok := dt.(arrow.ExtensionType); ok {
		dt = ext.StorageType()
	}
	node := l.nodes
	l.nodes++
	for _, spec := range dt.Layout().Buffers {
		var b bufferBound
		switch spec.Kind {
		case arrow.KindBitmap:
			b = func(n int64) int64 { return pad64((n + 7) / 8) }
		case arrow.KindFixedWidth:
			w := int64(spec.ByteWidth)
			b = func(n int64) int64 { return pad64((n + 1) * w) }
		case arrow.KindAlwaysNull:
			b = func(int64) int64 { return 0 }
		default: // KindVarWidth: the data of utf8 and binary
			b = func(int64) int64 { return MaxBatchBytes }
		}
		l.buffers = append(l.buffers, b)
		l.bufNode = append(l.bufNode, node)
	}
	if nt, ok := dt.(arrow.NestedType); ok {
		for _, f := range nt.Fields() {
			l.add(f.Type)
		}
	}
}

func layoutOf(s *arrow.Schema) *layout {
	l := new(layout)
	for _, f := range s.Fields() {
		l.top = append(l.top, l.nodes)
		l.add(f.Type)
	}
	return l
}

func pad64(n int64) int64 { return (n + 63) &^ 63 }

// checkBuffers checks every batch's nodes and buffers against the schema
// and records each batch's decoded size and largest window.
func checkBuffers(sec *io.SectionReader, blocks []batchBlock, s *arrow.Schema) error {
	l := layoutOf(s)
	for bi := range blocks {
		if err := checkBatchBuffers(sec, &blocks[bi], l); err != nil {
			return fmt.Errorf("record batch %d: %w", bi, err)
		}
	}
	return nil
}

func checkBatchBuffers(sec *io.SectionReader, b *batchBlock, l *layout) error {
	if len(b.nodes) != l.nodes || len(b.buffers) != len(l.buffers) {
		return fmt.Errorf("header lists %d field nodes and %d buffers; the schema has %d and %d", len(b.nodes), len(b.buffers), l.nodes, len(l.buffers))
	}
	for i, n := range b.nodes {
		if n[0] < 0 || n[1] < 0 || n[1] > n[0] {
			return fmt.Errorf("field node %d: length %d, null count %d", i, n[0], n[1])
		}
	}
	for c, i := range l.top {
		if b.nodes[i][0] != b.rows {
			return fmt.Errorf("column %d holds %d values in a batch of %d rows", c, b.nodes[i][0], b.rows)
		}
	}
	body := b.offset + int64(b.meta)
	b.decoded, b.window = 0, 0
	for i, buf := range b.buffers {
		off, n := buf[0], buf[1]
		if off < 0 || n < 0 || off > b.body || n > b.body-off {
			return fmt.Errorf("buffer %d (%d bytes at %d) overruns the %d-byte body", i, n, off, b.body)
		}
		if n == 0 {
			continue // an empty buffer has no length prefix (SPEC.md §4.1)
		}
		if n < 8 {
			return fmt.Errorf("buffer %d is %d bytes, too short for its 8-byte length prefix", i, n)
		}
		head := make([]byte, min(n, 8+maxFrameHeader))
		if _, err := sec.ReadAt(head, body+off); err != nil {
			return fmt.Errorf("buffer %d: %w", i, err)
		}
		declared := int64(binary.LittleEndian.Uint64(head))
		size := declared
		if declared == -1 {
			size = n - 8 // stored raw
		} else if declared < 0 {
			return fmt.Errorf("buffer %d declares an uncompressed length of %d", i, declared)
		}
		nodeLen := b.nodes[l.bufNode[i]][0]
		if bound := l.buffers[i](nodeLen); size > bound {
			return fmt.Errorf("buffer %d declares %d bytes uncompressed, more than the %d its field node of %d values can hold (SPEC.md §4.1)", i, size, bound, nodeLen)
		}
		if b.decoded += size; b.decoded > MaxBatchBytes {
			return fmt.Errorf("buffers decode to more than %d bytes, the most a record batch may hold (SPEC.md §4.1)", int64(MaxBatchBytes))
		}
		if declared == -1 {
			continue
		}
		w, err := checkZstdFrame(sec, body+off+8, n-8, declared)
		if err != nil {
			return fmt.Errorf("buffer %d: %w", i, err)
		}
		b.window = max(b.window, w)
	}
	return nil
}

// maxFrameHeader is the longest ZSTD frame header: magic (4), descriptor
// (1), window (1), dictionary id (4), content size (8).
const maxFrameHeader = 18

// zstdMagic starts every ZSTD frame (RFC 8878 §3.1.1).
const zstdMagic = 0xFD2FB528

// checkZstdFrame checks that the n bytes at off are one ZSTD frame
// (RFC 8878 §3.1.1) decoding to size bytes, and returns its window size.
// It reads the frame header and every block header (three bytes per block
// of at most 128 KiB), not the blocks: the content is left to the decoder.
func checkZstdFrame(ra io.ReaderAt, off, n, size int64) (int64, error) {
	var h [maxFrameHeader]byte
	hn := min(n, maxFrameHeader)
	if _, err := ra.ReadAt(h[:hn], off); err != nil {
		return 0, err
	}
	if hn < 6 || binary.LittleEndian.Uint32(h[:]) != zstdMagic {
		return 0, fmt.Errorf("compressed bytes do not start with a ZSTD frame")
	}
	fhd := h[4]
	single := fhd&0x20 != 0
	if fhd&0x08 != 0 {
		return 0, fmt.Errorf("ZSTD frame header sets its reserved bit")
	}
	dictLen := []int{0, 1, 2, 4}[fhd&3]
	fcsLen := []int{0, 2, 4, 8}[fhd>>6]
	if fcsLen == 0 && single {
		fcsLen = 1
	}
	p := 5
	var window int64
	if !single {
		wd := h[p]
		p++
		base := int64(1) << (10 + wd>>3)
		window = base + base/8*int64(wd&7)
	}
	if dictLen > 0 {
		if int64(p+dictLen) > hn {
			return 0, fmt.Errorf("ZSTD frame header is cut short")
		}
		var id uint32
		for k := dictLen - 1; k >= 0; k-- {
			id = id<<8 | uint32(h[p+k])
		}
		if id != 0 {
			return 0, fmt.Errorf("ZSTD frame needs dictionary %d; bundle buffers use none", id)
		}
		p += dictLen
	}
	if int64(p+fcsLen) > hn {
		return 0, fmt.Errorf("ZSTD frame header is cut short")
	}
	if fcsLen > 0 {
		var v [8]byte
		copy(v[:], h[p:p+fcsLen])
		fcs := int64(binary.LittleEndian.Uint64(v[:]))
		if fcsLen == 2 {
			fcs += 256
		}
		if fcs != size {
			return 0, fmt.Errorf("ZSTD frame holds %d bytes, the buffer declares %d", fcs, size)
		}
		if single {
			window = fcs
		}
		p += fcsLen
	}
	if window > max(size, maxZstdWindow) {
		return 0, fmt.Errorf("ZSTD frame asks for a %d-byte window to decode %d bytes (at most %d)", window, size, int64(max(size, maxZstdWindow)))
	}
	// Blocks: a 3-byte header (last flag, type, size), then the block's
	// bytes: size of them raw or compressed, one for RLE.
	pos := off + int64(p)
	end := off + n
	// Block headers are read through a small window: one read per block
	// of real data (blocks are kilobytes apart), and one per 80 blocks of
	// a forged frame of empty ones.
	var win [256]byte
	winAt, winLen := int64(-1), int64(0)
	for {
		if pos+3 > end {
			return 0, fmt.Errorf("ZSTD frame is cut short (block header at %d of %d bytes)", pos-off, n)
		}
		if pos < winAt || pos+3 > winAt+winLen {
			winAt, winLen = pos, min(int64(len(win)), end-pos)
			if _, err := ra.ReadAt(win[:winLen], pos); err != nil {
				return 0, err
			}
		}
		bh := win[pos-winAt:]
		v := uint32(bh[0]) | uint32(bh[1])<<8 | uint32(bh[2])<<16
		last, typ, bsize := v&1 != 0, (v>>1)&3, int64(v>>3)
		pos += 3
		switch typ {
		case 0, 2: // raw, compressed
			pos += bsize
		case 1: // RLE: one byte, repeated bsize times
			pos++
		default:
			return 0, fmt.Errorf("ZSTD block of reserved type 3")
		}
		if bsize > 128<<10 {
			return 0, fmt.Errorf("ZSTD block of %d bytes, over the 128 KiB maximum", bsize)
		}
		if pos > end {
			return 0, fmt.Errorf("ZSTD block overruns the buffer")
		}
		if last {
			break
		}
	}
	if fhd&0x04 != 0 {
		pos += 4 // content checksum
	}
	if pos != end {
		return 0, fmt.Errorf("%d bytes follow the ZSTD frame in the buffer; a buffer is one frame", end-pos)
	}
	return window, nil
}
