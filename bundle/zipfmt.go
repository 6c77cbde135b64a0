package bundle

import (
	"encoding/binary"
	"time"
)

// The container is a strict subset of ZIP (SPEC.md §2): for given entry
// names, contents and timestamp its bytes are fully determined. The writer
// encodes headers with the functions below and the reader re-encodes what it
// parsed with the same functions and compares bytes, so every byte of the
// ZIP structures is checked and a single changed byte anywhere is found.

const (
	sigLocal     = 0x04034b50
	sigCentral   = 0x02014b50
	sigEnd       = 0x06054b50
	sigZip64End  = 0x06064b50
	sigZip64Loc  = 0x07064b50
	zip64ExtraID = 0x0001

	localLen     = 30
	centralLen   = 46
	endLen       = 22
	zip64EndLen  = 56
	zip64LocLen  = 20
	unixRegular  = 0o100644 << 16 // external attributes: regular file, rw-r--r--
	creatorUnix  = 3 << 8         // "version made by" high byte: UNIX
	zipVersion20 = 20
	zipVersion45 = 45 // zip64
	maxNameLen   = 64 // longest legal entry name is 23 bytes
)

// zip64Limit is the first size or offset that needs a zip64 field. Tests
// lower it to exercise the zip64 encoding without writing 4 GiB.
var zip64Limit uint64 = 0xFFFFFFFF

// zipEntry is one stored entry of the container.
type zipEntry struct {
	name   string
	offset uint64 // of the local file header
	size   uint64 // stored = compressed = uncompressed
	crc    uint32
	vol    int // the volume a reader found it in (SPEC.md §2.6); 0: the index or a single file
}

// dosTime is the MS-DOS date and time of t (UTC), clamped to the range
// MS-DOS can hold (1980-01-01 to 2107-12-31).
type dosTime struct{ time, date uint16 }

func toDOSTime(t time.Time) dosTime {
	t = t.UTC()
	if t.Year() < 1980 {
		t = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if t.Year() > 2107 {
		t = time.Date(2107, 12, 31, 23, 59, 58, 0, time.UTC)
	}
	return dosTime{
		time: uint16(t.Hour()<<11 | t.Minute()<<5 | t.Second()/2),
		date: uint16((t.Year()-1980)<<9 | int(t.Month())<<5 | t.Day()),
	}
}

func (e *zipEntry) bigSize() bool   { return e.size >= zip64Limit }
func (e *zipEntry) bigOffset() bool { return e.offset >= zip64Limit }

func (e *zipEntry) version() uint16 {
	if e.bigSize() || e.bigOffset() {
		return zipVersion45
	}
	return zipVersion20
}

func le16(b []byte, v uint16) []byte { return binary.LittleEndian.AppendUint16(b, v) }
func le32(b []byte, v uint32) []byte { return binary.LittleEndian.AppendUint32(b, v) }
func le64(b []byte, v uint64) []byte { return binary.LittleEndian.AppendUint64(b, v) }

func field32(v uint64, big bool) uint32 {
	if big {
		return 0xFFFFFFFF
	}
	return uint32(v)
}

// localHeader is the canonical local file header of e, name and extra
// field included; the entry's data follows it.
func (e *zipEntry) localHeader(t dosTime) []byte {
	b := make([]byte, 0, localLen+len(e.name)+20)
	b = le32(b, sigLocal)
	b = le16(b, e.version())
	b = le16(b, 0) // flags: no data descriptor, no encryption, ASCII name
	b = le16(b, 0) // method: stored
	b = le16(b, t.time)
	b = le16(b, t.date)
	b = le32(b, e.crc)
	b = le32(b, field32(e.size, e.bigSize()))
	b = le32(b, field32(e.size, e.bigSize()))
	b = le16(b, uint16(len(e.name)))
	if e.bigSize() {
		b = le16(b, 20)
		b = append(b, e.name...)
		b = le16(b, zip64ExtraID)
		b = le16(b, 16)
		b = le64(b, e.size) // uncompressed
		b = le64(b, e.size) // compressed
		return b
	}
	b = le16(b, 0)
	return append(b, e.name...)
}

// centralHeader is the canonical central directory header of e.
func (e *zipEntry) centralHeader(t dosTime) []byte {
	var extra []byte
	if e.bigSize() || e.bigOffset() {
		n := 0
		if e.bigSize() {
			n += 16
		}
		if e.bigOffset() {
			n += 8
		}
		extra = le16(extra, zip64ExtraID)
		extra = le16(extra, uint16(n))
		if e.bigSize() {
			extra = le64(extra, e.size)
			extra = le64(extra, e.size)
		}
		if e.bigOffset() {
			extra = le64(extra, e.offset)
		}
	}
	b := make([]byte, 0, centralLen+len(e.name)+len(extra))
	b = le32(b, sigCentral)
	b = le16(b, creatorUnix|e.version())
	b = le16(b, e.version())
	b = le16(b, 0) // flags
	b = le16(b, 0) // method: stored
	b = le16(b, t.time)
	b = le16(b, t.date)
	b = le32(b, e.crc)
	b = le32(b, field32(e.size, e.bigSize()))
	b = le32(b, field32(e.size, e.bigSize()))
	b = le16(b, uint16(len(e.name)))
	b = le16(b, uint16(len(extra)))
	b = le16(b, 0) // comment length
	b = le16(b, 0) // disk number start
	b = le16(b, 0) // internal attributes
	b = le32(b, unixRegular)
	b = le32(b, field32(e.offset, e.bigOffset()))
	b = append(b, e.name...)
	return append(b, extra...)
}

func (e *zipEntry) localLen() uint64 {
	if e.bigSize() {
		return localLen + uint64(len(e.name)) + 20
	}
	return localLen + uint64(len(e.name))
}

func (e *zipEntry) dataOffset() uint64 { return e.offset + e.localLen() }

// needZip64End reports whether the end records need the zip64 forms.
func needZip64End(entries, cdSize, cdOffset uint64) bool {
	return entries >= 0xFFFF || cdSize >= zip64Limit || cdOffset >= zip64Limit
}

// trailer is the canonical end of the container: [zip64 end of central
// directory record, zip64 locator,] end of central directory record. It
// starts at cdOffset+cdSize and ends the file.
func trailer(entries, cdSize, cdOffset uint64) []byte {
	var b []byte
	n16, size32, off32 := uint16(entries), uint32(cdSize), uint32(cdOffset)
	if needZip64End(entries, cdSize, cdOffset) {
		end := cdOffset + cdSize
		b = le32(b, sigZip64End)
		b = le64(b, zip64EndLen-12)
		b = le16(b, creatorUnix|zipVersion45)
		b = le16(b, zipVersion45)
		b = le32(b, 0) // this disk
		b = le32(b, 0) // disk of the central directory
		b = le64(b, entries)
		b = le64(b, entries)
		b = le64(b, cdSize)
		b = le64(b, cdOffset)
		b = le32(b, sigZip64Loc)
		b = le32(b, 0) // disk of the zip64 end record
		b = le64(b, end)
		b = le32(b, 1) // total disks
		n16, size32, off32 = 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF
	}
	b = le32(b, sigEnd)
	b = le16(b, 0) // this disk
	b = le16(b, 0) // disk of the central directory
	b = le16(b, n16)
	b = le16(b, n16)
	b = le32(b, size32)
	b = le32(b, off32)
	return le16(b, 0) // comment length
}
