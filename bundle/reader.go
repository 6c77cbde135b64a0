package bundle

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"

	"github.com/imbundle/imbundle/spec"
)

// Reader gives random access to a bundle. Open checks the container's
// structure and the manifest before returning (SPEC.md §5, structural
// level); part contents are checked by VerifyPart (SHA-256) and when read.
// A Reader is safe for concurrent use (parts are verified and read in
// parallel); a PartReader is not.
type Reader struct {
	ra       io.ReaderAt
	size     int64
	closer   io.Closer
	manifest *spec.Manifest
	id       string
	entries  map[string]zipEntry
	order    []zipEntry // container order
	version  string
	key      *age.X25519Identity // an encrypted bundle's own identity
	vols     []*openedVolume     // a bundle split into volumes: its volumes, in order
}

// Open opens and structurally validates the bundle at path. An error from
// opening the file itself is returned as is (an *fs.PathError); errors about
// the content match ErrCorrupt or are a *VersionError.
func Open(path string) (*Reader, error) { return OpenWith(path, ReadOptions{}) }

// OpenWith is Open with identities for an encrypted bundle. An encrypted
// bundle without a matching identity gives an *EncryptedError (ErrIdentity).
func OpenWith(path string, opts ReadOptions) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if opts.Volumes == nil {
		opts.Volumes = DirVolumes(filepath.Dir(path))
	}
	opts.Index = filepath.Base(path)
	r, err := NewReaderWith(f, st.Size(), opts)
	if err != nil {
		f.Close()
		var ve *VersionError
		if errors.As(err, &ve) || errors.Is(err, ErrIdentity) {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return nil, corrupt(fmt.Errorf("%s: %w", path, err))
	}
	r.closer = f
	return r, nil
}

// NewReader reads a bundle from ra of the given size.
func NewReader(ra io.ReaderAt, size int64) (*Reader, error) {
	return NewReaderWith(ra, size, ReadOptions{})
}

// NewReaderWith is NewReader with identities for an encrypted bundle.
func NewReaderWith(ra io.ReaderAt, size int64, opts ReadOptions) (*Reader, error) {
	r, err := newReader(ra, size, opts)
	if err != nil {
		if r != nil {
			r.closeVolumes()
		}
		var ve *VersionError
		if errors.As(err, &ve) || errors.Is(err, ErrIdentity) {
			return nil, err
		}
		return nil, corrupt(err)
	}
	return r, nil
}

func newReader(ra io.ReaderAt, size int64, opts ReadOptions) (*Reader, error) {
	identities := opts.Identities
	if err := sniffVersion(ra, size); err != nil {
		return nil, err
	}
	entries, err := readZipDir(ra, size)
	if err != nil {
		return nil, err
	}
	r := &Reader{ra: ra, size: size, entries: make(map[string]zipEntry, len(entries)), order: entries}
	for _, e := range entries {
		if _, dup := r.entries[e.name]; dup {
			return nil, fmt.Errorf("entry %q appears twice", e.name)
		}
		r.entries[e.name] = e
	}
	n := len(entries)
	switch {
	case n == 0 || entries[0].name != MarkerEntry:
		return nil, fmt.Errorf("first entry is not %q: not an imbundle file", MarkerEntry)
	case n >= 2 && entries[1].name == VolumeEntry:
		return nil, fmt.Errorf("this is a volume of a bundle split into volumes, not a bundle: open its index, the file named as this one without the .NNN (SPEC.md §2.6)")
	case n < 3 || entries[n-2].name != ManifestEntry || entries[n-1].name != ManifestSumEntry:
		return nil, fmt.Errorf("the last two entries are not %s and %s: not a complete bundle", ManifestEntry, ManifestSumEntry)
	}

	marker, err := r.readSmall(MarkerEntry, 64)
	if err != nil {
		return nil, err
	}
	version, ok := strings.CutPrefix(string(marker), "imbundle/")
	version, ok2 := strings.CutSuffix(version, "\n")
	if !ok || !ok2 {
		return nil, fmt.Errorf("entry %s holds %q, not \"imbundle/<major>.<minor>\\n\": not an imbundle file", MarkerEntry, marker)
	}
	if err := checkVersion(MarkerEntry, version); err != nil {
		return nil, err
	}
	r.version = version
	for i, e := range entries {
		if e.name == KeyEntry && i != 1 {
			return nil, fmt.Errorf("entry %s is entry %d; an encrypted bundle has it second, right after %s", KeyEntry, i, MarkerEntry)
		}
	}
	if entries[1].name == KeyEntry {
		if err := r.openBundleKey(identities); err != nil {
			var ee *EncryptedError
			if errors.As(err, &ee) {
				// The id is the ciphertext's: a signature of it can be
				// checked without the identity.
				if _, err := r.readManifest(); err == nil {
					ee.Summary.ID = r.id
				}
				if maj, minor, _ := splitVersion(version); maj > 2 || maj == 2 && minor >= 4 {
					summariseVolumes(&ee.Summary, opts.Volumes, opts.Index, version)
				}
			}
			return nil, err
		}
	}

	body, err := r.readManifest()
	if err != nil {
		return nil, err
	}
	if r.key != nil {
		if body, err = decryptBytes(body, maxManifestBytes, r.key); err != nil {
			return nil, fmt.Errorf("entry %s: does not decrypt with the bundle's key: %w", ManifestEntry, err)
		}
	}
	m, err := decodeManifest(body)
	if err != nil {
		return nil, fmt.Errorf("entry %s: %w", ManifestEntry, err)
	}
	if m.Format != spec.FormatName {
		return nil, fmt.Errorf("entry %s: format is %q, not %q", ManifestEntry, m.Format, spec.FormatName)
	}
	if err := checkVersion(ManifestEntry, m.Version); err != nil {
		return nil, err
	}
	if m.Version != version {
		return nil, fmt.Errorf("entry %s says format %s but entry %s says %s", ManifestEntry, m.Version, MarkerEntry, version)
	}
	r.manifest = m
	if err := checkMembers(version, m); err != nil {
		return r, err
	}
	if err := checkDelta(version, m); err != nil {
		return r, corruptf("%v", err)
	}
	if m.Volumes != nil {
		if err := r.openVolumes(opts.Volumes, opts.Index); err != nil {
			return r, err
		}
	}
	if err := r.checkManifest(); err != nil {
		return r, err
	}
	return r, nil
}

// readManifest reads manifest.json and checks it against manifest.sha256,
// setting the bundle id.
func (r *Reader) readManifest() ([]byte, error) {
	body, err := r.readSmall(ManifestEntry, maxManifestBytes)
	if err != nil {
		return nil, err
	}
	sumText, err := r.readSmall(ManifestSumEntry, 65)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	r.id = hex.EncodeToString(sum[:])
	if string(sumText) != r.id+"\n" {
		return nil, fmt.Errorf("entry %s: SHA-256 is %s but %s holds %q: the manifest is damaged", ManifestEntry, r.id, ManifestSumEntry, sumText)
	}
	return body, nil
}

// sniffVersion reads the marker from where every major version keeps it
// (SPEC.md §1: a stored first entry named imbundle, no extra field, its
// body at offset 38) and refuses another major version before anything
// else is checked, since a later major may change everything else. A file
// without a readable marker there is left to the full checks to describe.
func sniffVersion(ra io.ReaderAt, size int64) error {
	var hdr [localLen + len(MarkerEntry)]byte
	if size < int64(len(hdr)) {
		return nil
	}
	if _, err := ra.ReadAt(hdr[:], 0); err != nil {
		return nil
	}
	n := binary.LittleEndian.Uint32(hdr[22:])
	if binary.LittleEndian.Uint32(hdr[0:]) != sigLocal || binary.LittleEndian.Uint16(hdr[8:]) != 0 ||
		binary.LittleEndian.Uint16(hdr[26:]) != uint16(len(MarkerEntry)) || binary.LittleEndian.Uint16(hdr[28:]) != 0 ||
		string(hdr[localLen:]) != MarkerEntry || n > 64 || int64(len(hdr))+int64(n) > size {
		return nil
	}
	body := make([]byte, n)
	if _, err := ra.ReadAt(body, int64(len(hdr))); err != nil || crc32.ChecksumIEEE(body) != binary.LittleEndian.Uint32(hdr[14:]) {
		return nil
	}
	v, ok := strings.CutPrefix(string(body), "imbundle/")
	v, ok2 := strings.CutSuffix(v, "\n")
	if maj, _, ok3 := splitVersion(v); ok && ok2 && ok3 && !spec.ReadsMajor(maj) {
		return &VersionError{Where: MarkerEntry, Found: v}
	}
	return nil
}

// readSmall reads a whole entry of at most limit bytes and checks its CRC-32.
func (r *Reader) readSmall(name string, limit uint64) ([]byte, error) {
	e, ok := r.entries[name]
	if !ok {
		return nil, fmt.Errorf("entry %q is missing: not a complete bundle", name)
	}
	if e.size > limit {
		return nil, fmt.Errorf("entry %q is %d bytes, over the %d-byte limit", name, e.size, limit)
	}
	return readEntry(r.ra, e, limit)
}

// readEntry reads a whole entry of at most limit bytes from ra and checks
// its CRC-32.
func readEntry(ra io.ReaderAt, e zipEntry, limit uint64) ([]byte, error) {
	name := e.name
	if e.size > limit {
		return nil, fmt.Errorf("entry %q is %d bytes, over the %d-byte limit", name, e.size, limit)
	}
	b := make([]byte, e.size)
	if _, err := ra.ReadAt(b, int64(e.dataOffset())); err != nil {
		return nil, fmt.Errorf("entry %q: read %d bytes at byte offset %d: %w", name, e.size, e.dataOffset(), err)
	}
	if c := crc32.ChecksumIEEE(b); c != e.crc {
		return nil, fmt.Errorf("entry %q: content has CRC-32 %08x, its header says %08x: the entry is damaged", name, c, e.crc)
	}
	return b, nil
}

// Manifest returns the parsed manifest.
func (r *Reader) Manifest() *spec.Manifest { return r.manifest }

// ID is the bundle id: the SHA-256 of the manifest entry's bytes.
func (r *Reader) ID() string { return r.id }

// Size is the container's size in bytes.
func (r *Reader) Size() int64 { return r.size }

// Close releases the file (and the volumes).
func (r *Reader) Close() error {
	err := r.closeVolumes()
	if r.closer != nil {
		return errors.Join(r.closer.Close(), err)
	}
	return err
}

// Dataset returns the manifest entry of the named dataset.
func (r *Reader) Dataset(name string) (*spec.Dataset, bool) {
	for i := range r.manifest.Datasets {
		if r.manifest.Datasets[i].Name == name {
			return &r.manifest.Datasets[i], true
		}
	}
	return nil, false
}

// section returns the raw bytes of a part's entry.
func (r *Reader) section(p spec.Part) (*io.SectionReader, zipEntry, error) {
	e, ok := r.entries[p.Path]
	if !ok || !strings.HasPrefix(p.Path, dataDir) {
		return nil, zipEntry{}, corruptf("entry %q is not a part of this bundle", p.Path)
	}
	return io.NewSectionReader(r.raOf(e), int64(e.dataOffset()), int64(e.size)), e, nil
}

// verifyBufSize is the read size of VerifyPart: large reads keep the
// per-call overhead (pread, hashing setup) negligible.
const verifyBufSize = 4 << 20

// VerifyPart hashes a part's bytes and compares them with the manifest's
// SHA-256 and the container's CRC-32.
func (r *Reader) VerifyPart(p spec.Part) error {
	_, err := r.verifyPart(p, nil)
	return err
}

// verifyPart is VerifyPart with a caller's buffer, which it grows (up to
// verifyBufSize) and returns for the next call.
func (r *Reader) verifyPart(p spec.Part, buf []byte) ([]byte, error) {
	sec, e, err := r.section(p)
	if err != nil {
		return buf, err
	}
	if int64(len(buf)) < min(sec.Size(), verifyBufSize) {
		buf = make([]byte, min(sec.Size(), verifyBufSize))
	}
	h := sha256.New()
	var crc uint32
	var off int64
	for off < sec.Size() {
		n, err := sec.ReadAt(buf[:min(int64(len(buf)), sec.Size()-off)], off)
		if n == 0 && err == nil {
			err = io.ErrNoProgress
		}
		h.Write(buf[:n])
		crc = crc32.Update(crc, crc32.IEEETable, buf[:n])
		off += int64(n)
		if err != nil && !(err == io.EOF && off == sec.Size()) {
			return buf, fmt.Errorf("%sentry %q: read at byte %d: %w", r.volumeOf(e), p.Path, off, err)
		}
	}
	got := hex.EncodeToString(h.Sum(nil))
	if got != p.SHA256 {
		return buf, corrupt(fmt.Errorf("%sentry %q: %w: content hashes to %s, manifest says %s", r.volumeOf(e), p.Path, ErrChecksum, got, p.SHA256))
	}
	if crc != e.crc {
		return buf, corruptf("%sentry %q: content has CRC-32 %08x, its ZIP headers say %08x", r.volumeOf(e), p.Path, crc, e.crc)
	}
	return buf, nil
}
