// Package objstore keeps bundles in S3-compatible object storage (SPEC.md
// §2.7): s3://bucket/prefix/name names the index object prefix/name and
// its volume objects prefix/name.001, .... It gives package bundle a
// VolumeStore and an io.ReaderAt over ranged GETs to read one in place,
// and a VolumeSink to write one, so that bundle itself holds no network
// client.
package objstore

import (
	"fmt"
	"path"
	"strings"
)

// Scheme is the URL scheme of a bundle in object storage.
const Scheme = "s3://"

// IsURL reports whether s names a bundle in object storage.
func IsURL(s string) bool { return strings.HasPrefix(s, Scheme) }

// Location is a bundle's place: the bucket and the index object's key.
type Location struct {
	Bucket string
	Key    string // prefix/name: the index object; volumes are Key.NNN
}

// Parse reads s3://bucket/prefix/name.
func Parse(s string) (Location, error) {
	rest, ok := strings.CutPrefix(s, Scheme)
	bucket, key, _ := strings.Cut(rest, "/")
	if !ok || bucket == "" || key == "" || strings.HasSuffix(key, "/") || strings.ContainsAny(s, "?#") {
		return Location{}, fmt.Errorf("%q: want s3://BUCKET/PREFIX/NAME, the index object's key after the bucket", s)
	}
	if path.Clean("/"+key) != "/"+key {
		return Location{}, fmt.Errorf("%q: the key %q is not in canonical form (no //, . or ..)", s, key)
	}
	return Location{Bucket: bucket, Key: key}, nil
}

// String is the location as an s3:// URL.
func (l Location) String() string { return Scheme + l.Bucket + "/" + l.Key }

// Name is the index's base name (the key's last element).
func (l Location) Name() string { return path.Base(l.Key) }

// sibling is the key of an object beside the index (a volume).
func (l Location) sibling(name string) string { return path.Join(path.Dir(l.Key), name) }
