package bundle

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/imbundle/imbundle/spec"
)

// volumeWriter writes the parts of a bundle split into volumes: each into
// the current volume while it fits in limit bytes, else into a new one. A
// part never spans volumes, so one larger than limit gets a volume of its
// own (noted in Notes). Volumes are written as NAME.NNN.partial and renamed
// into place by publish, just before the index: until then no file has a
// finished name.
type volumeWriter struct {
	dir, index string // the index's directory and base name
	set        string
	version    string
	t          dosTime
	limit      int64

	f    *os.File
	zw   *zipWriter
	sum  hash.Hash
	cdir uint64 // central directory bytes of the current volume so far
	done []spec.Volume
	// written are the files this writer made (partial or renamed), for
	// abort.
	written []string
	notes   []string
	// sink, if set, receives each finished volume instead of publish's
	// rename (Options.VolumeSink); put are the names it holds, for abort.
	sink VolumeSink
	put  []string
}

func newVolumeWriter(path, version string, t dosTime, limit int64) (*volumeWriter, error) {
	set, err := newSetID()
	if err != nil {
		return nil, err
	}
	return &volumeWriter{dir: filepath.Dir(path), index: filepath.Base(path), set: set, version: version, t: t, limit: limit}, nil
}

// trailerMax is the longest end records (zip64 end, locator, end).
const trailerMax = zip64EndLen + zip64LocLen + endLen

// add writes one part, starting a new volume when it does not fit in the
// current one.
func (v *volumeWriter) add(name string, size uint64, crc uint32, body io.Reader) error {
	e := zipEntry{name: name, size: size, crc: crc}
	grow := func() uint64 {
		e.offset = v.zw.n
		return uint64(len(e.localHeader(v.t))) + size + uint64(len(e.centralHeader(v.t)))
	}
	if v.zw != nil && len(v.zw.entries) > 2 && v.zw.n+v.cdir+grow()+trailerMax > uint64(v.limit) {
		if err := v.finish(); err != nil {
			return err
		}
	}
	if v.zw == nil {
		if err := v.start(); err != nil {
			return err
		}
	}
	if need := v.zw.n + v.cdir + grow() + trailerMax; need > uint64(v.limit) && len(v.zw.entries) == 2 {
		v.notes = append(v.notes, fmt.Sprintf("part %s is %d bytes, which with a volume's own headers is over the volume size %d: it has volume %d (%s) to itself", name, size, v.limit, len(v.done)+1, VolumeName(v.index, len(v.done)+1)))
	}
	v.cdir += uint64(len(e.centralHeader(v.t)))
	return v.zw.add(name, size, crc, body)
}

// start opens the next volume and writes its marker and volume.json.
func (v *volumeWriter) start() error {
	n := len(v.done) + 1
	p := PartialPath(filepath.Join(v.dir, VolumeName(v.index, n)))
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("create volume %d: %w", n, err)
	}
	v.written = append(v.written, p)
	v.f, v.sum, v.cdir = f, sha256.New(), 0
	v.zw = newZipWriter(io.MultiWriter(f, v.sum), v.t)
	for _, s := range []struct {
		name string
		body []byte
	}{{MarkerEntry, []byte(markerContent(v.version))}, {VolumeEntry, encodeVolumeHeader(v.set, n)}} {
		if err := v.zw.add(s.name, uint64(len(s.body)), crc32.ChecksumIEEE(s.body), bytes.NewReader(s.body)); err != nil {
			return fmt.Errorf("volume %d: %w", n, err)
		}
		e := v.zw.entries[len(v.zw.entries)-1]
		v.cdir += uint64(len(e.centralHeader(v.t)))
	}
	return nil
}

// finish ends the current volume: central directory, fsync, close.
func (v *volumeWriter) finish() error {
	n := len(v.done) + 1
	if err := v.zw.close(); err != nil {
		return fmt.Errorf("finish volume %d: %w", n, err)
	}
	if v.sink != nil {
		if err := v.putVolume(n); err != nil {
			return err
		}
	} else if err := v.f.Sync(); err != nil {
		return fmt.Errorf("sync volume %d: %w", n, err)
	}
	if err := v.f.Close(); err != nil {
		return fmt.Errorf("close volume %d: %w", n, err)
	}
	if v.sink != nil { // staged only: the sink has it now
		os.Remove(v.written[len(v.written)-1])
	}
	v.done = append(v.done, spec.Volume{Number: n, File: VolumeName(v.index, n), Bytes: int64(v.zw.n), SHA256: hex.EncodeToString(v.sum.Sum(nil))})
	v.f, v.zw = nil, nil
	return nil
}

// close finishes the last volume and returns the set for the manifest.
func (v *volumeWriter) close() (*spec.VolumeSet, error) {
	if v.zw != nil {
		if err := v.finish(); err != nil {
			return nil, err
		}
	}
	return &spec.VolumeSet{Set: v.set, Volumes: append([]spec.Volume{}, v.done...)}, nil
}

// publish renames every volume into place and syncs the directory, so
// that the index, renamed after it, never names a volume a power loss
// could take back.
func (v *volumeWriter) publish() error {
	if v.sink != nil {
		return nil // each volume was put when finished
	}
	for i, d := range v.done {
		final := filepath.Join(v.dir, d.File)
		if err := os.Rename(PartialPath(final), final); err != nil {
			return fmt.Errorf("rename volume %d into place: %w", d.Number, err)
		}
		v.written[i] = final
	}
	d, err := os.Open(v.dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", v.dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("sync %s: %w", v.dir, err)
	}
	return nil
}

// abort removes every volume file this writer made.
func (v *volumeWriter) abort() {
	if v.f != nil {
		v.f.Close()
		v.f = nil
	}
	for _, p := range v.written {
		os.Remove(p)
	}
	v.written = nil
	if v.sink != nil && len(v.put) > 0 {
		v.sink.Remove(v.put)
		v.put = nil
	}
}

// removeStaleVolumes removes the volume partial files (NAME.NNN.partial) a
// killed export to path left; the caller holds path's partial-file lock.
func removeStaleVolumes(path string) {
	ents, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		return
	}
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".partial")
		if base, _, isVol := volumeNumberOf(name); ok && isVol && base == filepath.Base(path) {
			os.Remove(filepath.Join(filepath.Dir(path), e.Name()))
		}
	}
}
