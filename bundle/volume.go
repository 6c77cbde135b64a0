package bundle

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
)

// A bundle split into volumes (SPEC.md §2.6) is an index file, a container
// of the marker, key.age if encrypted, the manifest and its checksum, and
// volume files beside it, each a container of the marker, a volume.json
// naming the set and its own number, and whole parts. The manifest's
// volumes member lists every volume by number, file name, size and
// SHA-256, so that the bundle id (and a signature of it) covers them all.

// VolumeEntry is a volume's second entry: which set, which volume.
const VolumeEntry = "volume.json"

// VolumeVersion is the format version of a volume index and its volumes.
const VolumeVersion = "2.4"

// volumeFormat is volume.json's format member: a volume is not a bundle.
const volumeFormat = "imbundle-volume"

// MinVolumeBytes is the smallest volume size a writer takes: below it the
// container's own headers are a large share of every volume.
const MinVolumeBytes = 4 << 10

// maxVolumes bounds the volume list a reader accepts: with
// MinVolumeBytes volumes it is a 4 TiB bundle.
const maxVolumes = 1 << 30 / MinVolumeBytes

// VolumeName is the file name of volume n of the bundle whose index is
// named index: site.imb.001, site.imb.002, ... (more digits past 999).
func VolumeName(index string, n int) string {
	return fmt.Sprintf("%s.%03d", filepath.Base(index), n)
}

var volumeNameRE = regexp.MustCompile(`^(.+)\.([0-9]{3,})$`)

// volumeNumberOf parses VolumeName's form: the index's base name and the
// number, or ok false.
func volumeNumberOf(name string) (base string, n int, ok bool) {
	m := volumeNameRE.FindStringSubmatch(name)
	if m == nil || len(m[2]) > 9 || (len(m[2]) > 3 && m[2][0] == '0') {
		return "", 0, false
	}
	n, _ = digits(m[2])
	return m[1], n, n >= 1
}

// volumeHeader is volume.json's content.
type volumeHeader struct {
	Format string `json:"format"`
	Set    string `json:"set"`
	Volume int    `json:"volume"`
}

// encodeVolumeHeader is volume.json's one canonical encoding.
func encodeVolumeHeader(set string, n int) []byte {
	return fmt.Appendf(nil, "{\"format\":%q,\"set\":%q,\"volume\":%d}\n", volumeFormat, set, n)
}

// parseVolumeHeader reads volume.json, accepting only its canonical bytes.
func parseVolumeHeader(b []byte) (volumeHeader, error) {
	var h volumeHeader
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		return h, fmt.Errorf("entry %s is not a volume header: %v", VolumeEntry, err)
	}
	if h.Format != volumeFormat || !setID.MatchString(h.Set) || h.Volume < 1 || h.Volume > maxVolumes {
		return h, fmt.Errorf("entry %s holds %q, not a volume header", VolumeEntry, b)
	}
	if !bytes.Equal(b, encodeVolumeHeader(h.Set, h.Volume)) {
		return h, fmt.Errorf("entry %s holds %q, not the canonical encoding of a volume header", VolumeEntry, b)
	}
	return h, nil
}

var setID = regexp.MustCompile(`^[0-9a-f]{32}$`)

// newSetID is a volume set's random id.
func newSetID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("volume set id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// checkVolumeFile refuses a volume file name the index may not hold: it
// must be a plain name in the index's directory, of VolumeName's form.
func checkVolumeFile(name string, n int) error {
	base, got, ok := volumeNumberOf(name)
	switch {
	case name == "" || strings.ContainsAny(name, "/\\\x00") || name == "." || name == "..":
		return fmt.Errorf("volume %d: file name %q is not a plain file name", n, name)
	case !ok || strings.HasPrefix(base, "."):
		return fmt.Errorf("volume %d: file name %q is not of the form NAME.NNN", n, name)
	case got != n:
		return fmt.Errorf("volume %d: file name %q has the number of volume %d", n, name, got)
	}
	return nil
}
