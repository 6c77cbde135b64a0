package bundle

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// memVolumes is a VolumeStore of byte slices, as an object store would be.
type memVolumes map[string][]byte

type memVolume struct{ *bytes.Reader }

func (memVolume) Close() error { return nil }

func (m memVolumes) Open(name string) (VolumeFile, error) {
	b, ok := m[name]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return memVolume{bytes.NewReader(b)}, nil
}

func (m memVolumes) List(index string) ([]string, error) {
	var out []string
	for n := range m {
		if base, _, ok := volumeNumberOf(n); ok && base == index {
			out = append(out, n)
		}
	}
	return out, nil
}

// twoVolumeSeed is a small real bundle in two volumes: its manifest and
// the two volume files.
func twoVolumeSeed(t testing.TB) (manifest, v1, v2 []byte) {
	t.Helper()
	path := writeTestBundleWith(t, 3000, Options{PartBytes: 2 << 10, VolumeBytes: 3 * MinVolumeBytes})
	var m []byte
	for _, e := range entriesOf(t, path) {
		if e.name == ManifestEntry {
			m = e.data
		}
	}
	read := func(n int) []byte {
		b, err := os.ReadFile(filepath.Join(filepath.Dir(path), VolumeName(path, n)))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(path), VolumeName(path, 3))); err == nil {
		t.Fatal("the seed bundle has more than two volumes")
	}
	return m, read(1), read(2)
}

// openVolumeIndex opens the index of manifest (wrapped in a container
// with a matching checksum) over the volumes t.imb.001 and t.imb.002.
func openVolumeIndex(t testing.TB, manifest, v1, v2 []byte) (*Reader, error) {
	sum := sha256.Sum256(manifest)
	index := encodeContainer(t, []rawEntry{
		{MarkerEntry, []byte(markerContent(VolumeVersion))},
		{ManifestEntry, manifest},
		{ManifestSumEntry, []byte(hex.EncodeToString(sum[:]) + "\n")},
	})
	store := memVolumes{"t.imb.001": v1, "t.imb.002": v2}
	return NewReaderWith(bytes.NewReader(index), int64(len(index)), ReadOptions{Volumes: store, Index: "t.imb"})
}

// FuzzVolumeIndex feeds an arbitrary manifest (its volume table is what
// the fuzzer is after) and two arbitrary volume files to the reader of a
// volume index, and reads whatever opens. A panic, or an error that is not
// classified (ErrCorrupt, ...), is a bug. The seeds are a real two-volume
// bundle and damaged copies; testdata/fuzz/FuzzVolumeIndex holds them too.
//
//	go test -run '^$' -fuzz FuzzVolumeIndex -fuzztime 20000x -fuzzminimizetime 10x ./bundle/
func FuzzVolumeIndex(f *testing.F) {
	maxBatchMemory = 64 << 20
	m, v1, v2 := twoVolumeSeed(f)
	f.Add(m, v1, v2)
	f.Add(m, v2, v1)
	f.Add(m, v1, v1[:len(v1)-7])
	flip := append([]byte(nil), v2...)
	flip[len(flip)/2] ^= 0x04
	f.Add(m, v1, flip)
	f.Add(bytes.Replace(m, []byte(`"number":2`), []byte(`"number":3`), 1), v1, v2)
	f.Fuzz(func(t *testing.T, manifest, v1, v2 []byte) {
		r, err := openVolumeIndex(t, manifest, v1, v2)
		if err != nil {
			checkClassified(t, err)
			return
		}
		defer r.Close()
		exerciseReader(t, r)
	})
}

// TestVolumeIndexSeed: the fuzzer's unchanged seed opens and reads, so
// the fuzzer starts from a valid volume set.
func TestVolumeIndexSeed(t *testing.T) {
	m, v1, v2 := twoVolumeSeed(t)
	r, err := openVolumeIndex(t, m, v1, v2)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if len(r.Volumes()) != 2 || readAllIDs(t, r) != 3000 {
		t.Fatalf("%d volumes", len(r.Volumes()))
	}
	if _, err := openVolumeIndex(t, m, v2, v1); err == nil {
		t.Fatal("swapped volumes opened")
	}
}
