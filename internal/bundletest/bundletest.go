// Package bundletest holds what tests of several packages do to bundles:
// write a small hand-made one (Write), and edit the raw bytes of one for
// tests that need a damaged or lying file (the ZIP arithmetic).
package bundletest

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"testing"
)

// EntryAt returns where an entry's data starts and its length, found through
// archive/zip (an independent reader of the container).
func EntryAt(t testing.TB, raw []byte, name string) (int, int) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if f.Name == name {
			off, err := f.DataOffset()
			if err != nil {
				t.Fatal(err)
			}
			return int(off), int(f.UncompressedSize64)
		}
	}
	t.Fatalf("no entry %s", name)
	return 0, 0
}

// ReplaceEntry overwrites an entry's data with body of the same length and
// fixes its CRC-32 in the local and the central header, so that only the
// checks above the ZIP layer can notice.
func ReplaceEntry(t testing.TB, raw []byte, name string, body []byte) {
	t.Helper()
	off, n := EntryAt(t, raw, name)
	if n != len(body) {
		t.Fatalf("replacement for %s is %d bytes, entry holds %d", name, len(body), n)
	}
	copy(raw[off:], body)
	crc := binary.LittleEndian.AppendUint32(nil, crc32.ChecksumIEEE(body))
	copy(raw[off-len(name)-30+14:], crc)
	central := bytes.LastIndex(raw, []byte(name)) - 46 // the central directory comes last
	if binary.LittleEndian.Uint32(raw[central:]) != 0x02014b50 {
		t.Fatalf("central header of %s not found", name)
	}
	copy(raw[central+16:], crc)
}
