package bundle

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/imbundle/imbundle/spec"
)

// zipWith writes entries with archive/zip, for containers the bundle's own
// encoder cannot produce (compressed entries, symlinks, hostile names).
func zipWith(t *testing.T, base []rawEntry, add func(zw *zip.Writer)) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range base {
		w, err := zw.CreateRaw(&zip.FileHeader{Name: e.name, Method: zip.Store, CRC32: crc32.ChecksumIEEE(e.data),
			CompressedSize64: uint64(len(e.data)), UncompressedSize64: uint64(len(e.data))})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(e.data)
	}
	add(zw)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func storedRaw(t *testing.T, zw *zip.Writer, name string, data []byte, mode os.FileMode) {
	t.Helper()
	h := &zip.FileHeader{Name: name, Method: zip.Store, CRC32: crc32.ChecksumIEEE(data), CompressedSize64: uint64(len(data)), UncompressedSize64: uint64(len(data))}
	if mode != 0 {
		h.SetMode(mode)
	}
	w, err := zw.CreateRaw(h)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
}

func TestOpenRejectsMaliciousBundles(t *testing.T) {
	base := entriesOf(t, writeTestBundle(t, 3000, 16<<10))
	if len(base) != 6 {
		t.Fatalf("test bundle has %d entries, want marker, 3 parts, manifest, checksum", len(base))
	}
	marker := base[:1]
	part1 := base[2]
	without := func(name string) []rawEntry {
		var out []rawEntry
		for _, e := range base {
			if e.name != name {
				out = append(out, e)
			}
		}
		return out
	}
	insertBeforeManifest := func(e rawEntry) []rawEntry {
		n := len(base)
		out := append(append(append([]rawEntry(nil), base[:n-2]...), e), base[n-2:]...)
		return out
	}
	setMarker := func(entries []rawEntry, body string) []rawEntry {
		out := append([]rawEntry(nil), entries...)
		out[0].data = []byte(body)
		return out
	}
	manifestBody := func() []byte { return base[len(base)-2].data }

	cases := []struct {
		name    string
		file    func() []byte
		want    string // in the error message
		version bool   // a *VersionError, not ErrCorrupt
	}{
		{"empty file", func() []byte { return nil }, "too short", false},
		{"not a zip", func() []byte { return []byte(strings.Repeat("hello, world\n", 10)) }, "no end of central directory record at byte offset", false},
		{"bytes appended", func() []byte { return append(encodeContainer(t, base), "junk"...) }, "no end of central directory record at byte offset", false},
		{"bytes prepended", func() []byte { return append([]byte("MZ-self-extractor"), encodeContainer(t, base)...) }, "does not end where the end records start", false},
		{"deflate entry", func() []byte {
			return zipWith(t, marker, func(zw *zip.Writer) {
				w, _ := zw.CreateHeader(&zip.FileHeader{Name: part1.name, Method: zip.Deflate})
				w.Write(part1.data)
			})
		}, `entry "data/00000/000001.arrow" (central directory, byte offset`, false},
		{"deflate entry says why", func() []byte {
			return zipWith(t, marker, func(zw *zip.Writer) {
				w, _ := zw.CreateHeader(&zip.FileHeader{Name: part1.name, Method: zip.Deflate})
				w.Write(part1.data)
			})
		}, "compressed (method 8)", false},
		{"data descriptor", func() []byte {
			return zipWith(t, marker, func(zw *zip.Writer) {
				w, _ := zw.CreateHeader(&zip.FileHeader{Name: part1.name, Method: zip.Store})
				w.Write(part1.data)
			})
		}, "data descriptor", false},
		{"symlink", func() []byte {
			return zipWith(t, marker, func(zw *zip.Writer) { storedRaw(t, zw, part1.name, []byte("/etc/passwd"), os.ModeSymlink|0o777) })
		}, `entry "data/00000/000001.arrow" (central directory, byte offset 169): entry is not a regular file (UNIX mode 120777`, false},
		{"dot-dot name", func() []byte {
			return zipWith(t, marker, func(zw *zip.Writer) { storedRaw(t, zw, "../x", []byte("x"), 0) })
		}, `entry "../x" contains a '..' element`, false},
		{"absolute name", func() []byte {
			return zipWith(t, marker, func(zw *zip.Writer) { storedRaw(t, zw, "/etc/x", []byte("x"), 0) })
		}, `entry "/etc/x" has an absolute path`, false},
		{"backslash name", func() []byte {
			return zipWith(t, marker, func(zw *zip.Writer) { storedRaw(t, zw, `a\b`, []byte("x"), 0) })
		}, `entry "a\\b" contains a backslash`, false},
		{"directory entry", func() []byte {
			return zipWith(t, marker, func(zw *zip.Writer) { storedRaw(t, zw, "data/", nil, 0) })
		}, `entry "data/" is not a clean path`, false},
		{"foreign entry name", func() []byte { return encodeContainer(t, insertBeforeManifest(rawEntry{"README.txt", []byte("hi")})) }, `entry "README.txt" is not a bundle entry name`, false},
		{"other ZIP writer", func() []byte { return zipWith(t, base, func(*zip.Writer) {}) }, `entry "imbundle": central directory header at byte offset`, false},
		{"duplicate entry", func() []byte { return encodeContainer(t, insertBeforeManifest(part1)) }, `entry "data/00000/000001.arrow" appears twice`, false},
		{"extra unlisted part", func() []byte {
			return encodeContainer(t, insertBeforeManifest(rawEntry{"data/00000/000009.arrow", part1.data}))
		}, `entry "data/00000/000009.arrow" is not listed in the manifest`, false},
		{"missing part", func() []byte { return encodeContainer(t, without(part1.name)) }, `entry "data/00000/000001.arrow" is missing from the container`, false},
		{"parts out of order", func() []byte {
			e := append([]rawEntry(nil), base...)
			e[1], e[2] = e[2], e[1]
			return encodeContainer(t, e)
		}, `entry "data/00000/000001.arrow" comes before the dataset's previous part`, false},
		{"marker not first", func() []byte {
			e := append([]rawEntry(nil), base...)
			e[0], e[1] = e[1], e[0]
			return encodeContainer(t, e)
		}, `first entry is not "imbundle"`, false},
		{"manifest not at the end", func() []byte {
			n := len(base)
			e := append(append(append([]rawEntry(nil), base[:1]...), base[n-2:]...), base[1:n-2]...)
			return encodeContainer(t, e)
		}, "the last two entries are not manifest.json and manifest.sha256", false},
		{"manifest lies about a part's size", func() []byte {
			return encodeContainer(t, withManifest(t, base, func(m *spec.Manifest) { m.Datasets[0].Parts[1].Bytes++ }))
		}, `entry "data/00000/000001.arrow" holds 4482 bytes but the manifest says 4483`, false},
		{"manifest renames a part", func() []byte {
			return encodeContainer(t, withManifest(t, base, func(m *spec.Manifest) { m.Datasets[0].Parts[1].Path = "data/00000/000005.arrow" }))
		}, `part 1 is "data/00000/000005.arrow", expected "data/00000/000001.arrow"`, false},
		{"manifest row counts disagree", func() []byte {
			return encodeContainer(t, withManifest(t, base, func(m *spec.Manifest) { m.Datasets[0].Parts[1].Rows++ }))
		}, `parts hold 3001 rows but the dataset says 3000`, false},
		{"digest rows disagree", func() []byte {
			return encodeContainer(t, withManifest(t, base, func(m *spec.Manifest) { m.Datasets[0].Digest.Rows-- }))
		}, "digest covers 2999 rows", false},
		{"empty part", func() []byte {
			return encodeContainer(t, withManifest(t, base, func(m *spec.Manifest) {
				m.Datasets[0].Parts[2].Rows += m.Datasets[0].Parts[1].Rows
				m.Datasets[0].Parts[1].Rows = 0
			}))
		}, "declares 0 rows", false},
		{"malformed sha256", func() []byte {
			return encodeContainer(t, withManifest(t, base, func(m *spec.Manifest) {
				m.Datasets[0].Parts[0].SHA256 = strings.ToUpper(m.Datasets[0].Parts[0].SHA256)
			}))
		}, "is not 64 lowercase hex digits", false},
		{"unknown source", func() []byte {
			return encodeContainer(t, withManifest(t, base, func(m *spec.Manifest) { m.Datasets[0].Source = "s9" }))
		}, `names source "s9", which the manifest lacks`, false},
		{"credentials in a source URL", func() []byte {
			return encodeContainer(t, withManifest(t, base, func(m *spec.Manifest) { m.Sources[0].URL = "mysql://root:hunter2@db:3306/im" }))
		}, "holds credentials", false},
		{"primary key not a column", func() []byte {
			return encodeContainer(t, withManifest(t, base, func(m *spec.Manifest) { m.Datasets[0].PrimaryKey = []string{"uid"} }))
		}, `primary key column "uid" is not a column`, false},
		{"manifest changed, checksum not", func() []byte {
			e := append([]rawEntry(nil), base...)
			e[len(e)-2].data = bytes.Replace(e[len(e)-2].data, []byte(`"rows":3000`), []byte(`"rows":3001`), 1)
			return encodeContainer(t, e)
		}, "manifest.json: SHA-256 is", false},
		{"bytes after the manifest object", func() []byte {
			return encodeContainer(t, withManifestBytes(base, append(append([]byte(nil), manifestBody()...), `{"x":1}`...)))
		}, "bytes after the JSON object", false},
		{"manifest not JSON", func() []byte { return encodeContainer(t, withManifestBytes(base, []byte("rows: 3000\n"))) }, "entry manifest.json: not a manifest JSON object", false},
		{"marker of another format", func() []byte { return encodeContainer(t, setMarker(base, "application/epub+zip")) }, "not an imbundle file", false},
		{"marker says major 5", func() []byte { return encodeContainer(t, setMarker(base, "imbundle/5.0\n")) }, "bundle format version 5.0 is not supported by this reader, which reads formats 1.x to 4.x (and writes 2.2); use an imbundle release that reads format 5.x", true},
		{"marker says major 0", func() []byte { return encodeContainer(t, setMarker(base, "imbundle/0.9\n")) }, "bundle format version 0.9 is not supported by this reader", true},
		{"manifest says major 5", func() []byte {
			return encodeContainer(t, withManifest(t, base, func(m *spec.Manifest) { m.Version = "5.1" }))
		}, "entry manifest.json: bundle format version 5.1 is not supported by this reader, which reads formats 1.x to 4.x", true},
		{"marker and manifest disagree", func() []byte {
			return encodeContainer(t, withManifest(t, base, func(m *spec.Manifest) { m.Version = "1.3" }))
		}, "entry manifest.json says format 1.3 but entry imbundle says " + spec.FormatVersion, false},
		{"version not major.minor", func() []byte { return encodeContainer(t, setMarker(base, "imbundle/01.0\n")) }, `format version "01.0" is not major.minor`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := openBytes(tc.file())
			if err == nil {
				r.Close()
				t.Fatal("opened; want an error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q\ndoes not contain %q", err, tc.want)
			}
			var ve *VersionError
			if tc.version != errors.As(err, &ve) || tc.version == errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %q: version error %v, corrupt %v; want version error %v", err, errors.As(err, &ve), errors.Is(err, ErrCorrupt), tc.version)
			}
		})
	}
}

// A later minor version may add fields; a reader ignores them. The reader
// also takes every minor of the older major it supports.
func TestOpenAcceptsLaterMinorVersion(t *testing.T) {
	base := entriesOf(t, writeTestBundle(t, 100, 16<<10))
	for _, v := range []string{"2.7", "1.0", "1.7"} {
		body := bytes.Replace(base[len(base)-2].data, []byte(`"format_version":"`+spec.FormatVersion+`",`), []byte(`"format_version": "`+v+`", "signature": {"alg": "ed25519"},`), 1)
		e := withManifestBytes(base, body)
		e[0].data = []byte("imbundle/" + v + "\n")
		r, err := openBytes(encodeContainer(t, e))
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		if r.Manifest().Version != v || r.Manifest().Datasets[0].Rows != 100 {
			t.Fatalf("%s: manifest = %+v", v, r.Manifest())
		}
		r.Close()
	}
}

// Every prefix of a bundle is refused at Open, naming a byte offset or an
// entry, without panicking.
func TestOpenRejectsEveryTruncation(t *testing.T) {
	full := encodeContainer(t, entriesOf(t, writeTestBundle(t, 300, 4<<10)))
	for cut := 0; cut < len(full); cut++ {
		r, err := openBytes(full[:cut])
		if err == nil {
			r.Close()
			t.Fatalf("a bundle cut to %d of %d bytes opened", cut, len(full))
		}
		if !errors.Is(err, ErrCorrupt) || !namesPlace(err) {
			t.Fatalf("cut at %d: error %q is not ErrCorrupt naming an entry or offset", cut, err)
		}
	}
}

func namesPlace(err error) bool {
	s := err.Error()
	return strings.Contains(s, "byte offset") || strings.Contains(s, "entry ") || strings.Contains(s, "too short")
}

// A changed byte anywhere is found: in the ZIP structures, the marker or
// the manifest by Open; in a part's data by VerifyPart, naming the entry.
func TestEveryFlippedByteIsFound(t *testing.T) {
	full := encodeContainer(t, entriesOf(t, writeTestBundle(t, 300, 4<<10)))
	good, err := openBytes(full)
	if err != nil {
		t.Fatal(err)
	}
	partAt := func(off int) (spec.Part, bool) {
		for _, p := range good.Manifest().Datasets[0].Parts {
			e := good.entries[p.Path]
			if uint64(off) >= e.dataOffset() && uint64(off) < e.dataOffset()+e.size {
				return p, true
			}
		}
		return spec.Part{}, false
	}
	bad := make([]byte, len(full))
	var atOpen, atVerify int
	for off := range full {
		copy(bad, full)
		bad[off] ^= 0x20
		r, err := openBytes(bad)
		p, inPart := partAt(off)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) || !namesPlace(err) {
				t.Fatalf("byte %d: error %q is not ErrCorrupt naming an entry or offset", off, err)
			}
			atOpen++
			continue
		}
		if !inPart {
			t.Fatalf("byte %d (outside any part's data) changed and the bundle still opened", off)
		}
		err = r.VerifyPart(p)
		if !errors.Is(err, ErrChecksum) || !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), `entry "`+p.Path+`"`) {
			t.Fatalf("byte %d in %s: VerifyPart says %v", off, p.Path, err)
		}
		atVerify++
		readAllParts(r) // must not panic, whatever it decodes
	}
	t.Logf("%d flips found at Open, %d by VerifyPart", atOpen, atVerify)
}

// readAllParts decodes every part to the end and returns the first error.
func readAllParts(r *Reader) error {
	for di := range r.Manifest().Datasets {
		ds := &r.Manifest().Datasets[di]
		for i := range ds.Parts {
			pr, err := r.OpenPart(ds, i)
			if err != nil {
				return err
			}
			for {
				_, err := pr.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					pr.Close()
					return err
				}
			}
			pr.Close()
		}
	}
	return nil
}

// A manifest can lie about rows consistently (part, dataset and digest
// counts all changed, checksum recomputed): Open cannot see it, OpenPart
// can, from the record batch headers, before any row is read.
func TestManifestLyingAboutRowsIsCaughtByOpenPart(t *testing.T) {
	base := entriesOf(t, writeTestBundle(t, 3000, 16<<10))
	for _, delta := range []int64{+1, -1} {
		file := encodeContainer(t, withManifest(t, base, func(m *spec.Manifest) {
			ds := &m.Datasets[0]
			ds.Parts[1].Rows += delta
			ds.Rows += delta
			ds.Digest.Rows += delta
		}))
		r, err := openBytes(file)
		if err != nil {
			t.Fatalf("delta %+d: %v", delta, err)
		}
		ds := &r.Manifest().Datasets[0]
		want := fmt.Sprintf(`entry "data/00000/000001.arrow": its record batches hold 1000 rows, the manifest says %d`, 1000+delta)
		if _, err := r.OpenPart(ds, 1); !errors.Is(err, ErrCorrupt) || err.Error() != want {
			t.Fatalf("delta %+d: OpenPart says %v", delta, err)
		}
		// Plain verify (hashes match: the manifest is a consistent liar)
		// finds it too, from the batch headers.
		if err := VerifyAll(t.Context(), r, ds.Parts, 2, nil); !errors.Is(err, ErrCorrupt) || err.Error() != want {
			t.Fatalf("delta %+d: VerifyAll says %v", delta, err)
		}
	}
}

func TestOpenPartRejectsSchemaLies(t *testing.T) {
	base := entriesOf(t, writeTestBundle(t, 300, 16<<10))
	for name, edit := range map[string]func(c *spec.Column){
		"type":     func(c *spec.Column) { c.Type = "int64" },
		"name":     func(c *spec.Column) { c.Name = "uid" },
		"nullable": func(c *spec.Column) { c.Nullable = true },
		"native":   func(c *spec.Column) { c.Native = "int" },
		"metadata": func(c *spec.Column) { c.Metadata = map[string]string{MetaDigest: "exclude"} },
	} {
		file := encodeContainer(t, withManifest(t, base, func(m *spec.Manifest) {
			edit(&m.Datasets[0].Columns[0])
			m.Datasets[0].PrimaryKey = nil
			for i := range m.Datasets[0].Parts {
				m.Datasets[0].Parts[i].KeyRange = nil
			}
		}))
		r, err := openBytes(file)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		_, err = r.OpenPart(&r.Manifest().Datasets[0], 0)
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), `entry "data/00000/000000.arrow"`) {
			t.Fatalf("%s: OpenPart says %v", name, err)
		}
		err = VerifyAll(t.Context(), r, r.Manifest().Datasets[0].Parts, 1, nil)
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), `entry "data/00000/000000.arrow"`) {
			t.Fatalf("%s: VerifyAll says %v", name, err)
		}
	}
}

// A later major version may change anything but the marker's place: the
// version error must come first, whatever else the file holds.
func TestVersionErrorComesFirst(t *testing.T) {
	base := entriesOf(t, writeTestBundle(t, 100, 16<<10))
	e := append([]rawEntry{{MarkerEntry, []byte("imbundle/5.1\n")}, {"signature.ed25519", []byte("sig")}}, base[1:]...)
	file := encodeContainer(t, e)
	file = append(file, "trailing bytes a 5.x reader might allow"...)
	_, err := openBytes(file)
	var ve *VersionError
	if !errors.As(err, &ve) || ve.Found != "5.1" || !strings.Contains(err.Error(), "use an imbundle release that reads format 5.x") {
		t.Fatalf("Open: %v", err)
	}
}
