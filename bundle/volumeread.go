package bundle

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/imbundle/imbundle/spec"
)

// VolumeStore is where a reader finds the volumes of a bundle split into
// volumes: the index's directory (OpenWith), or memory, or later an
// object store. Open of a missing volume returns an error matching
// fs.ErrNotExist.
type VolumeStore interface {
	Open(name string) (VolumeFile, error)
	// List names every file of the store whose name has the form of a
	// volume of the index (NAME.NNN), for the reader to find extra ones.
	List(index string) ([]string, error)
}

// VolumeFile is an opened volume.
type VolumeFile interface {
	io.ReaderAt
	io.Closer
	Size() int64
}

// DirVolumes is the VolumeStore of the files in a directory.
type DirVolumes string

type osVolume struct {
	*os.File
	size int64
}

func (v osVolume) Size() int64 { return v.size }

// Open opens the file name in the directory.
func (d DirVolumes) Open(name string) (VolumeFile, error) {
	f, err := os.Open(filepath.Join(string(d), name))
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s is not a regular file", f.Name())
	}
	return osVolume{f, st.Size()}, nil
}

// List lists the directory's files named index.NNN.
func (d DirVolumes) List(index string) ([]string, error) {
	ents, err := os.ReadDir(string(d))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if base, _, ok := volumeNumberOf(e.Name()); ok && base == index {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// openedVolume is one volume a Reader reads parts from.
type openedVolume struct {
	spec.Volume
	f VolumeFile
}

// where names a volume in errors: its number and file name.
func (v *openedVolume) where() string { return fmt.Sprintf("volume %d (%s)", v.Number, v.File) }

// openVolumes opens and structurally checks every volume the manifest
// lists, and merges their part entries into the reader's, so that the
// manifest check and every part read work as for one container. It reads
// no part data: a changed byte of a part is found by VerifyPart, of
// anything else here (every other byte of a volume is canonical, §2.3).
func (r *Reader) openVolumes(store VolumeStore, index string) error {
	set := r.manifest.Volumes
	if maj, minor, _ := splitVersion(r.version); maj < 2 || (maj == 2 && minor < 4) {
		return fmt.Errorf("entry %s: the manifest lists volumes, which format %s does not have (volumes are format %s)", ManifestEntry, r.version, VolumeVersion)
	}
	if !setID.MatchString(set.Set) {
		return fmt.Errorf("entry %s: volume set id %q is not 32 hex digits", ManifestEntry, set.Set)
	}
	if len(set.Volumes) > maxVolumes {
		return fmt.Errorf("entry %s: lists %d volumes, over the %d a reader takes", ManifestEntry, len(set.Volumes), maxVolumes)
	}
	for _, e := range r.order {
		if _, _, ok := parsePartPath(e.name); ok {
			return fmt.Errorf("entry %q: the index of a bundle split into volumes holds no part", e.name)
		}
	}
	if store == nil {
		return fmt.Errorf("the bundle is split into %d volumes, and the reader was given no place to find them: open the index by its path", len(set.Volumes))
	}
	listed := map[string]bool{}
	var firstBase string
	if len(set.Volumes) > 0 {
		firstBase, _, _ = volumeNumberOf(set.Volumes[0].File)
	}
	for i, v := range set.Volumes {
		if v.Number != i+1 {
			return fmt.Errorf("entry %s: volume #%d is numbered %d; volumes are numbered 1, 2, ... in order", ManifestEntry, i, v.Number)
		}
		if err := checkVolumeFile(v.File, v.Number); err != nil {
			return fmt.Errorf("entry %s: %w", ManifestEntry, err)
		}
		if base, _, _ := volumeNumberOf(v.File); i > 0 && base != firstBase {
			return fmt.Errorf("entry %s: volume %d's file %s is not named as volume 1's, %s", ManifestEntry, v.Number, v.File, set.Volumes[0].File)
		}
		if listed[v.File] {
			return fmt.Errorf("entry %s: volume file %s is listed twice", ManifestEntry, v.File)
		}
		listed[v.File] = true
		if !hex64.MatchString(v.SHA256) || v.Bytes < endLen {
			return fmt.Errorf("entry %s: volume %d: sha256 %q or size %d is not a volume's", ManifestEntry, v.Number, v.SHA256, v.Bytes)
		}
	}
	// Extra volumes first: a stale volume of an older, longer set beside
	// this index is the likeliest way to mix two sets up.
	prefix := filepath.Base(index)
	if len(set.Volumes) > 0 {
		prefix = firstBase
	}
	if names, err := store.List(prefix); err == nil {
		var extra []string
		for _, n := range names {
			if !listed[n] {
				_, num, _ := volumeNumberOf(n)
				extra = append(extra, fmt.Sprintf("%s (volume %d)", n, num))
			}
		}
		sort.Strings(extra)
		if len(extra) > 0 {
			return fmt.Errorf("extra volume file(s) beside the index, which lists volumes 1 to %d: %s: not this bundle's; remove them, or copy the index they belong to", len(set.Volumes), strings.Join(extra, ", "))
		}
	}
	var missing []string
	for _, v := range set.Volumes {
		f, err := store.Open(v.File)
		if errors.Is(err, fs.ErrNotExist) {
			missing = append(missing, fmt.Sprintf("volume %d (%s)", v.Number, v.File))
			continue
		}
		ov := &openedVolume{Volume: v, f: f}
		if err != nil {
			return fmt.Errorf("%s: %w", ov.where(), err)
		}
		r.vols = append(r.vols, ov)
	}
	if len(missing) > 0 {
		return fmt.Errorf("the bundle is split into %d volumes and %d are missing: %s: copy them beside the index", len(set.Volumes), len(missing), strings.Join(missing, ", "))
	}
	for i, v := range r.vols {
		entries, err := v.check(set.Set, r.version, toDOSTime(r.manifest.CreatedAt))
		if err != nil {
			return err
		}
		for _, e := range entries {
			if _, dup := r.entries[e.name]; dup {
				return fmt.Errorf("%s: entry %q is in an earlier volume too", v.where(), e.name)
			}
			e.vol = i + 1
			r.entries[e.name] = e
			r.order = append(r.order, e)
		}
		r.size += v.Bytes
	}
	return nil
}

// check reads a volume's container and self-description and returns its
// part entries.
func (v *openedVolume) check(set, version string, t dosTime) ([]zipEntry, error) {
	size := v.f.Size()
	fail := func(err error) ([]zipEntry, error) {
		if size != v.Bytes {
			return nil, fmt.Errorf("%s is %d bytes, the index says %d: truncated, or another file: %w", v.where(), size, v.Bytes, err)
		}
		return nil, fmt.Errorf("%s: %w", v.where(), err)
	}
	entries, err := readZipDir(v.f, size)
	if err != nil {
		return fail(err)
	}
	if len(entries) < 2 || entries[0].name != MarkerEntry || entries[1].name != VolumeEntry {
		return fail(fmt.Errorf("its first two entries are not %s and %s: not a volume", MarkerEntry, VolumeEntry))
	}
	small := func(e zipEntry, limit uint64) ([]byte, error) {
		return readEntry(v.f, e, limit)
	}
	marker, err := small(entries[0], 64)
	if err != nil {
		return fail(err)
	}
	if string(marker) != markerContent(version) {
		return fail(fmt.Errorf("entry %s holds %q, the index %q", MarkerEntry, marker, markerContent(version)))
	}
	body, err := small(entries[1], 256)
	if err != nil {
		return fail(err)
	}
	h, err := parseVolumeHeader(body)
	if err != nil {
		return fail(err)
	}
	switch {
	case h.Set != set:
		return nil, fmt.Errorf("%s belongs to another bundle (it is volume %d of volume set %s; this index's set is %s): a volume of another export was copied in its place", v.where(), h.Volume, h.Set, set)
	case h.Volume != v.Number:
		return nil, fmt.Errorf("%s is volume %d of this set, not volume %d: volume files were renamed or put in the wrong order", v.where(), h.Volume, v.Number)
	case size != v.Bytes:
		return nil, fmt.Errorf("%s is %d bytes, the index says %d: damaged", v.where(), size, v.Bytes)
	}
	// Checked after the set and number, which say more of a volume of
	// another export (whose time differs too).
	// readZipDir checked every header against the first's time; that
	// time must be the bundle's (§2.3), so that no byte of a volume is
	// left unchecked.
	lh := entries[0].localHeader(t)
	got := make([]byte, len(lh))
	if _, err := v.f.ReadAt(got, 0); err != nil || firstDiff(got, lh) >= 0 {
		return fail(fmt.Errorf("its entries' time is not the manifest's created_at (%s)", localField(max(firstDiff(got, lh), 0))))
	}
	for _, e := range entries[2:] {
		if _, _, ok := parsePartPath(e.name); !ok {
			return nil, fmt.Errorf("%s: entry %q is not a part; a volume holds only parts after %s", v.where(), e.name, VolumeEntry)
		}
	}
	return entries[2:], nil
}

// volumeOf names the volume an entry is in, for errors ("" for the index
// or a single-file bundle).
func (r *Reader) volumeOf(e zipEntry) string {
	if e.vol == 0 {
		return ""
	}
	return r.vols[e.vol-1].where() + ": "
}

// raOf is what an entry's offsets are in.
func (r *Reader) raOf(e zipEntry) io.ReaderAt {
	if e.vol == 0 {
		return r.ra
	}
	return r.vols[e.vol-1].f
}

// Volumes lists the volume files of a bundle split into volumes (none for
// a single file).
func (r *Reader) Volumes() []spec.Volume {
	if r.manifest == nil || r.manifest.Volumes == nil {
		return nil
	}
	return r.manifest.Volumes.Volumes
}

func (r *Reader) closeVolumes() error {
	var errs []error
	for _, v := range r.vols {
		errs = append(errs, v.f.Close())
	}
	r.vols = nil
	return errors.Join(errs...)
}

// summariseVolumes adds to an encrypted index's summary what the volume
// files beside it show in clear (their volume.json and part entries), as
// a single file's summary shows its parts. The volume table is encrypted,
// so the files are found by name; one that is not a volume is skipped.
func summariseVolumes(s *EncryptedSummary, store VolumeStore, index, version string) {
	if store == nil || index == "" {
		return
	}
	names, err := store.List(index)
	if err != nil {
		return
	}
	sort.Strings(names)
	for _, n := range names {
		f, err := store.Open(n)
		if err != nil {
			continue
		}
		entries, err := readZipDir(f, f.Size())
		if err == nil && len(entries) >= 2 && entries[0].name == MarkerEntry && entries[1].name == VolumeEntry {
			if m, err := readEntry(f, entries[0], 64); err == nil && string(m) == markerContent(version) {
				s.Volumes++
				s.Size += f.Size()
				s.Datasets = addEncryptedParts(s.Datasets, entries[2:])
			}
		}
		f.Close()
	}
}
