package bundle

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// VolumeSink is where a bundle split into volumes is published when it is
// not beside its index on a local disk (an object store, SPEC.md §2.7).
// The writer stages each volume locally, puts it as soon as it is
// finished and removes the local file, and puts the index last, once
// every volume is in: a reader that finds the index finds the volumes.
type VolumeSink interface {
	// Put stores size bytes read from body under name: a volume's file
	// name (NAME.NNN) or the index's (NAME). It must be all or nothing:
	// after an error no object of that name may be left half written.
	Put(name string, body io.Reader, size int64) error
	// Remove deletes what Put stored, after a failed export; best
	// effort, since the export is failing already.
	Remove(names []string)
}

// putVolume puts the finished current volume (open in v.f) to the sink
// and removes its local file.
func (v *volumeWriter) putVolume(d int) error {
	name := VolumeName(v.index, d)
	size := int64(v.zw.n)
	if err := v.sink.Put(name, io.NewSectionReader(v.f, 0, size), size); err != nil {
		return fmt.Errorf("put volume %d (%s): %w", d, name, err)
	}
	v.put = append(v.put, name)
	return nil
}

// putIndexLocked puts the finished index (open in w.f) to the sink after
// every volume, then removes the local staging files. On error the
// volumes already put are removed: no index, no bundle.
func (w *Writer) putIndexLocked() error {
	name := filepath.Base(w.path)
	size := int64(w.zw.n)
	if err := w.vols.sink.Put(name, io.NewSectionReader(w.f, 0, size), size); err != nil {
		w.abortLocked()
		return fmt.Errorf("put the index %s, the last object of the bundle: %w (the volumes put were removed)", name, err)
	}
	w.vols.put = nil // published: a later Abort must leave them
	w.vols.written = nil
	f := w.f
	w.f = nil
	os.Remove(w.tmp)
	f.Close()
	return nil
}
