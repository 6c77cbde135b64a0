package bundle

import (
	"encoding/binary"
	"fmt"
	"io"
)

// Arrow IPC metadata is FlatBuffers, which arrow-go reads without bounds
// checks: a damaged vector length makes it allocate that many elements
// (gigabytes: a fatal, unrecoverable out-of-memory) before anything fails.
// partIndex walks the footer and every record batch's message header with
// checked reads first, so arrow-go only ever decodes metadata whose
// vectors fit in their buffers. The walk also yields each batch's row
// count, which OpenPart checks against the manifest before any row is read.

const (
	maxFooterBytes  = 64 << 20 // a footer is a schema and 24 bytes per batch
	maxMessageBytes = 64 << 20 // arrow-go's default metadata limit
	maxNesting      = 64       // arrow-go's nesting limit for loading arrays
	arrowMagic      = "ARROW1"
)

// batchBlock locates one record batch message in a part and holds what
// its header declares.
type batchBlock struct {
	offset int64
	meta   int32
	body   int64
	rows   int64
	// nodes (length, null count) and buffers (offset in the body, length)
	// of the header, in the order the Arrow decoder consumes them.
	nodes, buffers [][2]int64
	// decoded is the sum of the buffers' uncompressed lengths and window
	// the largest ZSTD window among them (checkBuffers): with the body,
	// what decoding the batch allocates.
	decoded, window int64
}

// partIndex checks a part's Arrow file framing, footer and record batch
// headers, and returns its batches.
func partIndex(sec *io.SectionReader) ([]batchBlock, error) {
	size := sec.Size()
	if size < 8+10 {
		return nil, fmt.Errorf("%d bytes is too short for an Arrow IPC file", size)
	}
	var head [8]byte
	var tail [10]byte
	if _, err := sec.ReadAt(head[:], 0); err != nil {
		return nil, err
	}
	if _, err := sec.ReadAt(tail[:], size-10); err != nil {
		return nil, err
	}
	if string(head[:6]) != arrowMagic || string(tail[4:]) != arrowMagic {
		return nil, fmt.Errorf("not an Arrow IPC file (no ARROW1 magic at both ends)")
	}
	flen := int64(int32(binary.LittleEndian.Uint32(tail[:4])))
	if flen <= 0 || flen > maxFooterBytes || flen > size-18 {
		return nil, fmt.Errorf("footer length %d is out of range for a %d-byte file", flen, size)
	}
	footerAt := size - 10 - flen
	footer := make(fbuf, flen)
	if _, err := sec.ReadAt(footer, footerAt); err != nil {
		return nil, err
	}
	root, err := footer.root()
	if err != nil {
		return nil, fmt.Errorf("footer: %w", err)
	}
	schema, ok, err := root.table(1)
	if err != nil || !ok {
		return nil, fmt.Errorf("footer schema: missing or %v", err)
	}
	if err := checkSchemaFB(schema); err != nil {
		return nil, fmt.Errorf("footer schema: %w", err)
	}
	if _, n, _, err := root.vector(2, 24); err != nil || n != 0 {
		return nil, fmt.Errorf("footer lists dictionaries (%d, %v); bundle parts have none", n, err)
	}
	if err := checkKeyValues(root, 4); err != nil {
		return nil, fmt.Errorf("footer metadata: %w", err)
	}
	at, n, _, err := root.vector(3, 24)
	if err != nil {
		return nil, fmt.Errorf("footer record batch list: %w", err)
	}
	blocks := make([]batchBlock, n)
	for i := range blocks {
		p := at + 24*i
		b := batchBlock{
			offset: int64(binary.LittleEndian.Uint64(footer[p:])),
			meta:   int32(binary.LittleEndian.Uint32(footer[p+8:])),
			body:   int64(binary.LittleEndian.Uint64(footer[p+16:])),
		}
		if b.offset < 8 || b.meta < 8 || int64(b.meta) > maxMessageBytes || b.body < 0 ||
			b.offset > footerAt || int64(b.meta) > footerAt-b.offset || b.body > footerAt-b.offset-int64(b.meta) ||
			b.offset%8 != 0 || b.meta%8 != 0 || b.body%8 != 0 {
			return nil, fmt.Errorf("record batch %d: block (offset %d, metadata %d, body %d bytes) does not fit the file before its footer at %d", i, b.offset, b.meta, b.body, footerAt)
		}
		if err = batchHeader(sec, &b); err != nil {
			return nil, fmt.Errorf("record batch %d: %w", i, err)
		}
		blocks[i] = b
	}
	return blocks, nil
}

// batchHeader checks a record batch message's header and records its
// length, nodes and buffers in b.
func batchHeader(sec *io.SectionReader, b *batchBlock) error {
	rows, err := batchRows(sec, b)
	b.rows = rows
	return err
}

func batchRows(sec *io.SectionReader, b *batchBlock) (int64, error) {
	buf := make(fbuf, b.meta)
	if _, err := sec.ReadAt(buf, b.offset); err != nil {
		return 0, err
	}
	if binary.LittleEndian.Uint32(buf) != 0xFFFFFFFF || int64(binary.LittleEndian.Uint32(buf[4:])) != int64(b.meta)-8 {
		return 0, fmt.Errorf("message does not start with a continuation marker and its length")
	}
	msg, err := buf[8:].root()
	if err != nil {
		return 0, fmt.Errorf("message header: %w", err)
	}
	if err := checkKeyValues(msg, 4); err != nil {
		return 0, fmt.Errorf("message metadata: %w", err)
	}
	if ht, _ := msg.scalar(1, 1); ht != 3 {
		return 0, fmt.Errorf("message is of type %d, not a record batch", ht)
	}
	if bl, _ := msg.scalar(3, 8); int64(bl) != b.body {
		return 0, fmt.Errorf("message body length %d differs from the footer's %d", int64(bl), b.body)
	}
	rb, ok, err := msg.table(2)
	if err != nil || !ok {
		return 0, fmt.Errorf("record batch header: missing or %v", err)
	}
	rows, _ := rb.scalar(rbLength, 8)
	if b.nodes, err = int64PairsAt(rb, rbNodes); err != nil {
		return 0, fmt.Errorf("record batch header: field nodes: %w", err)
	}
	if b.buffers, err = int64PairsAt(rb, rbBuffers); err != nil {
		return 0, fmt.Errorf("record batch header: buffers: %w", err)
	}
	if _, n, _, err := rb.vector(rbVariadicCounts, 8); err != nil || n != 0 {
		return 0, fmt.Errorf("record batch header lists %d variadic buffer counts (%v); bundle parts have no view types", n, err)
	}
	// SPEC.md §4.1: every batch is ZSTD-compressed, so every buffer has
	// the length prefix checkBuffers bounds; an uncompressed body would
	// be read as is, and a reader relying on the prefix would misread it.
	c, ok, err := rb.table(rbCompression)
	switch {
	case err != nil:
		return 0, fmt.Errorf("record batch compression: %w", err)
	case !ok:
		return 0, fmt.Errorf("record batch has no BodyCompression; bundle parts compress every batch with ZSTD (SPEC.md §4.1)")
	}
	if codec, _ := c.scalar(0, 1); codec != codecZSTD {
		return 0, fmt.Errorf("record batch body is compressed with codec %d; bundle parts use ZSTD (1)", codec)
	}
	if method, _ := c.scalar(1, 1); method != 0 {
		return 0, fmt.Errorf("record batch compression method %d; bundle parts compress each buffer (BUFFER, 0)", method)
	}
	if int64(rows) < 0 {
		return 0, fmt.Errorf("negative length %d", int64(rows))
	}
	return int64(rows), nil
}

// int64PairsAt copies vector field i of 16-byte structs of two int64s
// (Arrow's FieldNode and Buffer).
func int64PairsAt(t fbTable, i int) ([][2]int64, error) {
	at, n, _, err := t.vector(i, 16)
	if err != nil {
		return nil, err
	}
	out := make([][2]int64, n)
	for k := range out {
		p := at + 16*k
		out[k] = [2]int64{int64(binary.LittleEndian.Uint64(t.b[p:])), int64(binary.LittleEndian.Uint64(t.b[p+8:]))}
	}
	return out, nil
}

func checkSchemaFB(s fbTable) error {
	at, n, ok, err := s.vector(1, 4)
	if err != nil {
		return err
	}
	if ok {
		if err := checkFields(s.b, at, n, 0); err != nil {
			return err
		}
	}
	if _, _, _, err := s.vector(3, 8); err != nil {
		return err
	}
	return checkKeyValues(s, 2)
}

// checkFields walks a vector of Field tables at at (n offsets).
func checkFields(b fbuf, at, n, depth int) error {
	if depth > maxNesting {
		return fmt.Errorf("fields nested deeper than %d", maxNesting)
	}
	for i := 0; i < n; i++ {
		f, err := b.tableAt(at + 4*i)
		if err != nil {
			return fmt.Errorf("field %d: %w", i, err)
		}
		if _, err := f.str(0); err != nil {
			return fmt.Errorf("field %d name: %w", i, err)
		}
		if _, ok, err := f.table(4); err != nil || ok {
			return fmt.Errorf("field %d is dictionary-encoded (%v); bundle parts have no dictionaries", i, err)
		}
		typ, ok, err := f.table(3)
		if err != nil {
			return fmt.Errorf("field %d type: %w", i, err)
		}
		if ok {
			tt, _ := f.scalar(2, 1)
			switch tt {
			case 10: // Timestamp: timezone string
				_, err = typ.str(1)
			case 14: // Union: type ids
				_, _, _, err = typ.vector(1, 4)
			}
			if err != nil {
				return fmt.Errorf("field %d type: %w", i, err)
			}
		}
		cat, cn, ok, err := f.vector(5, 4)
		if err != nil {
			return fmt.Errorf("field %d children: %w", i, err)
		}
		if ok {
			if err := checkFields(b, cat, cn, depth+1); err != nil {
				return fmt.Errorf("field %d: %w", i, err)
			}
		}
		if err := checkKeyValues(f, 6); err != nil {
			return fmt.Errorf("field %d metadata: %w", i, err)
		}
	}
	return nil
}

func checkKeyValues(t fbTable, field int) error {
	at, n, ok, err := t.vector(field, 4)
	if err != nil || !ok {
		return err
	}
	for i := 0; i < n; i++ {
		kv, err := t.b.tableAt(at + 4*i)
		if err != nil {
			return err
		}
		if _, err := kv.str(0); err != nil {
			return err
		}
		if _, err := kv.str(1); err != nil {
			return err
		}
	}
	return nil
}
