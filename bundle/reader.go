package bundle

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"

	"github.com/imbundle/imbundle/spec"
)

// Reader gives random access to a bundle. Open checks the container's
// structure against the manifest before returning; part contents are checked
// by Verify (SHA-256) and when read.
type Reader struct {
	ra       io.ReaderAt
	size     int64
	closer   io.Closer
	manifest *spec.Manifest
	id       string
	entries  map[string]*zip.File
}

// Open opens and structurally validates the bundle at path.
func Open(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	r, err := NewReader(f, st.Size())
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r.closer = f
	return r, nil
}

// NewReader reads a bundle from ra of the given size.
func NewReader(ra io.ReaderAt, size int64) (*Reader, error) {
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return nil, fmt.Errorf("not a readable bundle (truncated, or not a ZIP container): %w", err)
	}
	r := &Reader{ra: ra, size: size, entries: map[string]*zip.File{}}
	for i, zf := range zr.File {
		if err := checkEntryName(zf.Name); err != nil {
			return nil, fmt.Errorf("entry #%d: %w", i, err)
		}
		if _, dup := r.entries[zf.Name]; dup {
			return nil, fmt.Errorf("entry %q appears twice", zf.Name)
		}
		if zf.Mode()&os.ModeSymlink != 0 || zf.Mode().IsDir() {
			return nil, fmt.Errorf("entry %q is not a regular file", zf.Name)
		}
		if zf.Method != zip.Store {
			return nil, fmt.Errorf("entry %q is compressed (method %d); bundle entries are stored", zf.Name, zf.Method)
		}
		if zf.CompressedSize64 != zf.UncompressedSize64 {
			return nil, fmt.Errorf("entry %q: stored sizes disagree (%d vs %d)", zf.Name, zf.CompressedSize64, zf.UncompressedSize64)
		}
		off, err := zf.DataOffset()
		if err != nil {
			return nil, fmt.Errorf("entry %q: bad local header: %w", zf.Name, err)
		}
		if off < 0 || zf.UncompressedSize64 > uint64(size) || off+int64(zf.UncompressedSize64) > size {
			return nil, fmt.Errorf("entry %q: data (offset %d, %d bytes) runs past the end of the %d-byte file", zf.Name, off, zf.UncompressedSize64, size)
		}
		r.entries[zf.Name] = zf
	}
	if len(zr.File) == 0 || zr.File[0].Name != MarkerEntry {
		return nil, fmt.Errorf("first entry is not %q: not an imbundle file", MarkerEntry)
	}
	marker, err := r.readSmall(MarkerEntry, 64)
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(string(marker), "imbundle/") {
		return nil, fmt.Errorf("entry %q does not name the imbundle format", MarkerEntry)
	}
	if err := spec.CheckVersion(strings.TrimSpace(strings.TrimPrefix(string(marker), "imbundle/"))); err != nil {
		return nil, err
	}
	body, err := r.readSmall(ManifestEntry, maxManifestBytes)
	if err != nil {
		return nil, err
	}
	sumText, err := r.readSmall(ManifestSumEntry, 128)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	r.id = hex.EncodeToString(sum[:])
	if strings.TrimSpace(string(sumText)) != r.id {
		return nil, fmt.Errorf("entry %s: SHA-256 is %s but %s says %s: the manifest is corrupt", ManifestEntry, r.id, ManifestSumEntry, strings.TrimSpace(string(sumText)))
	}
	m := new(spec.Manifest)
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(m); err != nil {
		return nil, fmt.Errorf("entry %s: %w", ManifestEntry, err)
	}
	if m.Format != spec.FormatName {
		return nil, fmt.Errorf("entry %s: format is %q, not %q", ManifestEntry, m.Format, spec.FormatName)
	}
	if err := spec.CheckVersion(m.Version); err != nil {
		return nil, err
	}
	r.manifest = m
	if err := r.checkManifest(); err != nil {
		return nil, err
	}
	return r, nil
}

// checkManifest cross-checks the manifest with the central directory: every
// part present with its declared size, no entry unaccounted for.
func (r *Reader) checkManifest() error {
	seen := map[string]bool{MarkerEntry: true, ManifestEntry: true, ManifestSumEntry: true}
	names := map[string]bool{}
	for _, ds := range r.manifest.Datasets {
		if ds.Name == "" || names[ds.Name] {
			return fmt.Errorf("manifest: dataset name %q is empty or repeated", ds.Name)
		}
		names[ds.Name] = true
		var rows int64
		for i, p := range ds.Parts {
			zf, ok := r.entries[p.Path]
			if !ok {
				return fmt.Errorf("dataset %q part %d: entry %q is missing from the container", ds.Name, i, p.Path)
			}
			if seen[p.Path] {
				return fmt.Errorf("dataset %q part %d: entry %q is claimed twice", ds.Name, i, p.Path)
			}
			seen[p.Path] = true
			if p.Bytes < 0 || uint64(p.Bytes) != zf.UncompressedSize64 {
				return fmt.Errorf("dataset %q part %d: entry %q holds %d bytes but the manifest says %d", ds.Name, i, p.Path, zf.UncompressedSize64, p.Bytes)
			}
			if len(p.SHA256) != 64 {
				return fmt.Errorf("dataset %q part %d: malformed sha256 %q", ds.Name, i, p.SHA256)
			}
			if p.Rows < 0 {
				return fmt.Errorf("dataset %q part %d: negative row count", ds.Name, i)
			}
			rows += p.Rows
		}
		if rows != ds.Rows {
			return fmt.Errorf("dataset %q: parts hold %d rows but the dataset says %d", ds.Name, rows, ds.Rows)
		}
		if ds.Digest.Rows != ds.Rows {
			return fmt.Errorf("dataset %q: digest covers %d rows but the dataset says %d", ds.Name, ds.Digest.Rows, ds.Rows)
		}
	}
	for name := range r.entries {
		if !seen[name] {
			return fmt.Errorf("entry %q is not listed in the manifest", name)
		}
	}
	return nil
}

func (r *Reader) readSmall(name string, limit int64) ([]byte, error) {
	zf, ok := r.entries[name]
	if !ok {
		return nil, fmt.Errorf("entry %q is missing: not a complete bundle", name)
	}
	if zf.UncompressedSize64 > uint64(limit) {
		return nil, fmt.Errorf("entry %q is %d bytes, over the %d-byte limit", name, zf.UncompressedSize64, limit)
	}
	rc, err := zf.Open()
	if err != nil {
		return nil, fmt.Errorf("entry %q: %w", name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc) // archive/zip checks the CRC-32 at EOF
	if err != nil {
		return nil, fmt.Errorf("entry %q: %w", name, err)
	}
	return b, nil
}

// Manifest returns the parsed manifest.
func (r *Reader) Manifest() *spec.Manifest { return r.manifest }

// ID is the bundle id: the SHA-256 of the manifest entry's bytes.
func (r *Reader) ID() string { return r.id }

// Size is the container's size in bytes.
func (r *Reader) Size() int64 { return r.size }

// Close releases the file.
func (r *Reader) Close() error {
	if r.closer != nil {
		return r.closer.Close()
	}
	return nil
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
func (r *Reader) section(p spec.Part) (*io.SectionReader, error) {
	zf, ok := r.entries[p.Path]
	if !ok {
		return nil, fmt.Errorf("entry %q is missing", p.Path)
	}
	off, err := zf.DataOffset()
	if err != nil {
		return nil, fmt.Errorf("entry %q: %w", p.Path, err)
	}
	return io.NewSectionReader(r.ra, off, int64(zf.UncompressedSize64)), nil
}

// ErrChecksum marks a part whose bytes do not hash to the manifest's SHA-256.
var ErrChecksum = errors.New("SHA-256 mismatch")

// VerifyPart hashes a part's bytes and compares them with the manifest.
func (r *Reader) VerifyPart(p spec.Part) error {
	sec, err := r.section(p)
	if err != nil {
		return err
	}
	h := sha256.New()
	buf := make([]byte, 1<<20)
	if _, err := io.CopyBuffer(h, sec, buf); err != nil {
		return fmt.Errorf("entry %q: read: %w", p.Path, err)
	}
	got := hex.EncodeToString(h.Sum(nil))
	if got != p.SHA256 {
		return fmt.Errorf("entry %q: %w: content hashes to %s, manifest says %s", p.Path, ErrChecksum, got, p.SHA256)
	}
	return nil
}

// PartReader iterates the record batches of one part.
type PartReader struct {
	fr   *ipc.FileReader
	next int
	path string
}

// OpenPart opens a part of dataset ds for reading and checks its schema
// against the manifest. It does not hash the part: call VerifyPart first
// when the bytes are untrusted.
func (r *Reader) OpenPart(ds *spec.Dataset, i int) (*PartReader, error) {
	p := ds.Parts[i]
	sec, err := r.section(p)
	if err != nil {
		return nil, err
	}
	fr, err := ipc.NewFileReader(sec)
	if err != nil {
		return nil, fmt.Errorf("entry %q: not a readable Arrow IPC file: %w", p.Path, err)
	}
	if err := CheckColumns(fr.Schema(), ds.Columns); err != nil {
		fr.Close()
		return nil, fmt.Errorf("entry %q: %w", p.Path, err)
	}
	return &PartReader{fr: fr, path: p.Path}, nil
}

// Schema is the part's Arrow schema.
func (p *PartReader) Schema() *arrow.Schema { return p.fr.Schema() }

// Next returns the next record batch, or io.EOF. The batch is valid until
// the next call; Retain it to keep it longer.
func (p *PartReader) Next() (arrow.RecordBatch, error) {
	if p.next >= p.fr.NumRecords() {
		return nil, io.EOF
	}
	rec, err := p.fr.RecordBatch(p.next)
	if err != nil {
		return nil, fmt.Errorf("entry %q record batch %d: %w", p.path, p.next, err)
	}
	p.next++
	return rec, nil
}

// Close releases the part.
func (p *PartReader) Close() error { return p.fr.Close() }
