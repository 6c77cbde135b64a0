package bundle

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
)

// readZipDir parses the container's end records and central directory and
// checks every local header, accepting only the canonical encoding that
// zipWriter produces (SPEC.md §2): entries back to back from offset 0, then
// the central directory, then the end records, then the end of the file.
// Errors name the byte offset and, once known, the entry.
func readZipDir(ra io.ReaderAt, size int64) ([]zipEntry, error) {
	if size < endLen {
		return nil, fmt.Errorf("the file is %d bytes, too short for a ZIP container: truncated, or not a bundle", size)
	}
	entries, cdSize, cdOffset, err := readEnd(ra, size)
	if err != nil {
		return nil, err
	}
	tr := trailer(entries, cdSize, cdOffset)
	if cdOffset > uint64(size) || cdSize > uint64(size)-cdOffset || cdOffset+cdSize+uint64(len(tr)) != uint64(size) {
		return nil, fmt.Errorf("end of central directory at byte offset %d says the directory is %d bytes at offset %d, which does not end where the end records start: truncated or damaged file", size-endLen, cdSize, cdOffset)
	}
	got := make([]byte, len(tr))
	if _, err := ra.ReadAt(got, int64(cdOffset+cdSize)); err != nil {
		return nil, fmt.Errorf("read end records at byte offset %d: %w", cdOffset+cdSize, err)
	}
	if i := firstDiff(got, tr); i >= 0 {
		return nil, fmt.Errorf("end records at byte offset %d differ from the canonical form at byte offset %d: damaged file", cdOffset+cdSize, cdOffset+cdSize+uint64(i))
	}
	if entries > cdSize/centralLen {
		return nil, fmt.Errorf("end of central directory claims %d entries in a %d-byte directory: damaged file", entries, cdSize)
	}

	// Pass 1: parse every central header and refuse hostile names and
	// entry kinds (compressed, encrypted, symlinks) before anything else is
	// reported about them.
	type central struct {
		e   zipEntry
		raw []byte
		pos uint64
	}
	br := bufio.NewReaderSize(io.NewSectionReader(ra, int64(cdOffset), int64(cdSize)), 64<<10)
	dir := make([]central, 0, entries)
	pos := cdOffset // where the central header being read starts
	for i := uint64(0); i < entries; i++ {
		var fixed [centralLen]byte
		if _, err := io.ReadFull(br, fixed[:]); err != nil {
			return nil, fmt.Errorf("central directory entry #%d at byte offset %d: %w", i, pos, err)
		}
		if binary.LittleEndian.Uint32(fixed[0:]) != sigCentral {
			return nil, fmt.Errorf("central directory entry #%d at byte offset %d: bad signature: damaged file", i, pos)
		}
		nameLen := int(binary.LittleEndian.Uint16(fixed[28:]))
		extraLen := int(binary.LittleEndian.Uint16(fixed[30:]))
		commentLen := int(binary.LittleEndian.Uint16(fixed[32:]))
		if nameLen == 0 || nameLen > maxNameLen || extraLen > 28 || commentLen != 0 {
			return nil, fmt.Errorf("central directory entry #%d at byte offset %d: name, extra or comment length out of range: damaged file, or not a bundle", i, pos)
		}
		raw := make([]byte, centralLen+nameLen+extraLen)
		copy(raw, fixed[:])
		if _, err := io.ReadFull(br, raw[centralLen:]); err != nil {
			return nil, fmt.Errorf("central directory entry #%d at byte offset %d: %w", i, pos, err)
		}
		name := string(raw[centralLen : centralLen+nameLen])
		if err := checkEntryName(name); err != nil {
			return nil, fmt.Errorf("central directory entry #%d at byte offset %d: %w", i, pos, err)
		}
		if err := plainEntry(raw); err != nil {
			return nil, fmt.Errorf("entry %q (central directory, byte offset %d): %w", name, pos, err)
		}
		e := zipEntry{name: name, crc: binary.LittleEndian.Uint32(raw[16:])}
		e.size, err = entrySize(raw, raw[centralLen+nameLen:])
		if err != nil {
			return nil, fmt.Errorf("entry %q (central directory, byte offset %d): %w", name, pos, err)
		}
		dir = append(dir, central{e, raw, pos})
		pos += uint64(len(raw))
	}

	// Pass 2: re-encode every header with the offset the entry must have
	// (right after the previous one) and the first entry's time; a wrong
	// offset, flag, version, time, attribute or extra field, or a local
	// header that disagrees, shows up as a byte difference.
	out := make([]zipEntry, 0, len(dir))
	var t dosTime
	next := uint64(0)
	for i, c := range dir {
		e, name := c.e, c.e.name
		e.offset = next
		if i == 0 {
			t = dosTime{time: binary.LittleEndian.Uint16(c.raw[12:]), date: binary.LittleEndian.Uint16(c.raw[14:])}
		}
		if j := firstDiff(c.raw, e.centralHeader(t)); j >= 0 {
			return nil, fmt.Errorf("entry %q: central directory header at byte offset %d differs from the canonical form in its %s (byte offset %d): damaged file, or not written by an imbundle writer", name, c.pos, centralField(j), c.pos+uint64(j))
		}
		if e.dataOffset() > cdOffset || e.size > cdOffset-e.dataOffset() {
			return nil, fmt.Errorf("entry %q: %d bytes of data at byte offset %d run into the central directory at byte offset %d: truncated or damaged file", name, e.size, e.dataOffset(), cdOffset)
		}
		lh := e.localHeader(t)
		got := make([]byte, len(lh))
		if _, err := ra.ReadAt(got, int64(e.offset)); err != nil {
			return nil, fmt.Errorf("entry %q: read local header at byte offset %d: %w", name, e.offset, err)
		}
		if j := firstDiff(got, lh); j >= 0 {
			return nil, fmt.Errorf("entry %q: local header at byte offset %d differs from its central directory header in its %s (byte offset %d): damaged file", name, e.offset, localField(j), e.offset+uint64(j))
		}
		out = append(out, e)
		next = e.dataOffset() + e.size
	}
	if pos != cdOffset+cdSize {
		return nil, fmt.Errorf("central directory holds %d bytes after its %d entries, at byte offset %d: damaged file", cdOffset+cdSize-pos, entries, pos)
	}
	if next != cdOffset {
		return nil, fmt.Errorf("%d bytes between the last entry's data (ends at byte offset %d) and the central directory (byte offset %d) belong to no entry: damaged file", cdOffset-next, next, cdOffset)
	}
	return out, nil
}

// readEnd reads the end of central directory record, and the zip64 end
// record when the classic one says to, returning the directory's entry
// count, size and offset. Canonical form is checked by the caller.
func readEnd(ra io.ReaderAt, size int64) (entries, cdSize, cdOffset uint64, err error) {
	var end [endLen]byte
	at := size - endLen
	if _, err := ra.ReadAt(end[:], at); err != nil {
		return 0, 0, 0, fmt.Errorf("read end of central directory at byte offset %d: %w", at, err)
	}
	if binary.LittleEndian.Uint32(end[:]) != sigEnd {
		return 0, 0, 0, fmt.Errorf("no end of central directory record at byte offset %d (the last %d bytes): the file is truncated, has bytes appended, or is not a bundle", at, endLen)
	}
	entries = uint64(binary.LittleEndian.Uint16(end[10:]))
	cdSize = uint64(binary.LittleEndian.Uint32(end[12:]))
	cdOffset = uint64(binary.LittleEndian.Uint32(end[16:]))
	if entries != 0xFFFF && cdSize != 0xFFFFFFFF && cdOffset != 0xFFFFFFFF {
		return entries, cdSize, cdOffset, nil
	}
	if size < endLen+zip64LocLen+zip64EndLen {
		return 0, 0, 0, fmt.Errorf("end of central directory at byte offset %d points to zip64 records the %d-byte file cannot hold: truncated or damaged file", at, size)
	}
	var rec [zip64EndLen]byte
	recAt := size - endLen - zip64LocLen - zip64EndLen
	if _, err := ra.ReadAt(rec[:], recAt); err != nil {
		return 0, 0, 0, fmt.Errorf("read zip64 end record at byte offset %d: %w", recAt, err)
	}
	if binary.LittleEndian.Uint32(rec[:]) != sigZip64End {
		return 0, 0, 0, fmt.Errorf("no zip64 end of central directory record at byte offset %d: truncated or damaged file", recAt)
	}
	return binary.LittleEndian.Uint64(rec[32:]), binary.LittleEndian.Uint64(rec[40:]), binary.LittleEndian.Uint64(rec[48:]), nil
}

// entrySize takes the entry's size from a central header and its extra
// field; whether the encoding is canonical is checked by re-encoding.
func entrySize(fixed, extra []byte) (uint64, error) {
	size := uint64(binary.LittleEndian.Uint32(fixed[24:]))
	if size != 0xFFFFFFFF {
		return size, nil
	}
	if len(extra) < 20 || binary.LittleEndian.Uint16(extra) != zip64ExtraID {
		return 0, fmt.Errorf("size field says zip64 but there is no zip64 extra field")
	}
	return binary.LittleEndian.Uint64(extra[4:]), nil
}

// plainEntry explains the commonest ways a ZIP made by another tool differs
// from a bundle's, before the byte comparison reports the field.
func plainEntry(central []byte) error {
	flags := binary.LittleEndian.Uint16(central[8:])
	method := binary.LittleEndian.Uint16(central[10:])
	attrs := binary.LittleEndian.Uint32(central[38:])
	switch {
	case method != 0:
		return fmt.Errorf("entry is compressed (method %d); bundle entries are stored (method 0)", method)
	case flags&0x1 != 0:
		return fmt.Errorf("entry is encrypted")
	case flags&0x8 != 0:
		return fmt.Errorf("entry uses a data descriptor; bundle entries carry sizes and CRC-32 in their headers")
	case central[5] == 3 && attrs>>28 != 0o10: // UNIX mode with a file type other than regular
		return fmt.Errorf("entry is not a regular file (UNIX mode %o: a symlink, directory or device)", attrs>>16)
	}
	return nil
}

func firstDiff(a, b []byte) int {
	if bytes.Equal(a, b) {
		return -1
	}
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// centralField and localField name the header field at byte j, for errors.
func centralField(j int) string {
	return fieldAt(j, []fieldName{{0, "signature"}, {4, "version made by"}, {6, "version needed"}, {8, "flags"}, {10, "compression method"},
		{12, "modification time"}, {14, "modification date"}, {16, "CRC-32"}, {20, "compressed size"}, {24, "uncompressed size"},
		{28, "name length"}, {30, "extra field length"}, {32, "comment length"}, {34, "disk number"}, {36, "internal attributes"},
		{38, "external attributes (file type and mode)"}, {42, "local header offset"}, {46, "name or extra field"}})
}

func localField(j int) string {
	return fieldAt(j, []fieldName{{0, "signature"}, {4, "version needed"}, {6, "flags"}, {8, "compression method"},
		{10, "modification time"}, {12, "modification date"}, {14, "CRC-32"}, {18, "compressed size"}, {22, "uncompressed size"},
		{26, "name length"}, {28, "extra field length"}, {30, "name or extra field"}})
}

type fieldName struct {
	at   int
	name string
}

func fieldAt(j int, fs []fieldName) string {
	name := fs[0].name
	for _, f := range fs {
		if j >= f.at {
			name = f.name
		}
	}
	return name
}
