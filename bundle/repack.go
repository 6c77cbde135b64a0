package bundle

import (
	"errors"
	"io"
	"time"
)

// Repack writes the bundle r reads to path in another container layout:
// one file (opts.VolumeBytes 0) or volumes (beside path, or put to
// opts.VolumeSink). Its manifest is r's but for the volume list, and each
// part is copied byte for byte in r's container order, so the datasets,
// their digests and every part's SHA-256 are r's ("identical in content",
// SPEC.md §2.7); the bundle id, a hash of the manifest, differs when the
// volume list does. The caller closes the returned Writer (or aborts it).
// An encrypted bundle is refused: its parts are sealed to a key in its
// own index, which a repack would have to carry over unread.
func Repack(r *Reader, path string, opts Options) (*Writer, error) {
	if r.Encrypted() {
		return nil, errors.New("repack: the bundle is encrypted, which copy does not repack yet: copy its files as they are")
	}
	m := *r.manifest
	m.Volumes = nil
	opts.Now = func() time.Time { return m.CreatedAt }
	opts.Command, opts.EncryptTo, opts.Delta, opts.Logical = "", nil, nil, false
	opts.format = r.version
	if maj, minor, _ := splitVersion(r.version); opts.VolumeBytes > 0 && (maj < 2 || (maj == 2 && minor < 4)) {
		opts.format = VolumeVersion
	}
	w, err := Create(path, opts)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	m.Version = w.manifest.Version
	w.manifest = m
	for _, e := range r.order {
		if _, _, ok := parsePartPath(e.name); !ok {
			continue
		}
		body := io.NewSectionReader(r.raOf(e), int64(e.dataOffset()), int64(e.size))
		if w.vols != nil {
			err = w.vols.add(e.name, e.size, e.crc, body)
		} else {
			err = w.zw.add(e.name, e.size, e.crc, body)
		}
		if err != nil {
			w.done = true
			w.abortLocked()
			return nil, err
		}
	}
	return w, nil
}
