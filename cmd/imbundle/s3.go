package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/scheme"
	"github.com/imbundle/imbundle/objstore"
	"github.com/imbundle/imbundle/spec"
)

// Bundles in S3-compatible object storage (SPEC.md §2.7): every command
// that reads a bundle takes s3://bucket/prefix/name too, and export -o
// and copy write one. The client is configured from the AWS environment
// only (objstore.NewClient).

// s3VolumeBytes is the volume size of an export to s3:// without
// --volume-size: large enough that a bundle is few objects, small enough
// that the local stage (one volume) fits any temp dir.
const s3VolumeBytes = 256 << 20

// s3Transport, if set, is the HTTP transport of the S3 client: tests count
// requests with it.
var s3Transport http.RoundTripper

var (
	s3Once   sync.Once
	s3Shared *objstore.Client
	s3Err    error
)

// s3Client is the process's S3 client, made on first use.
func s3Client() (*objstore.Client, error) {
	s3Once.Do(func() {
		s3Shared, s3Err = objstore.NewClient(objstore.Config{Transport: s3Transport})
	})
	return s3Shared, s3Err
}

// openLocation opens a bundle by path or s3:// URL, with bundle's errors.
func openLocation(path string, opts bundle.ReadOptions) (*bundle.Reader, error) {
	if !objstore.IsURL(path) {
		return bundle.OpenWith(path, opts)
	}
	loc, err := objstore.Parse(path)
	if err != nil {
		return nil, scheme.Usagef("%v", err)
	}
	c, err := s3Client()
	if err != nil {
		return nil, err
	}
	return c.OpenBundle(context.Background(), loc, opts)
}

// localBase is where files named after a bundle go (reject files,
// rollback bundles): beside a local bundle, or in the working directory
// under the object's name for one in object storage.
func localBase(path string) string {
	if loc, err := objstore.Parse(path); err == nil {
		return loc.Name()
	}
	return path
}

// s3Output is an export's or copy's s3:// destination: the bundle is
// staged in a fresh local directory, one volume at a time, each volume put
// as soon as it is finished and the index last.
type s3Output struct {
	loc   objstore.Location
	c     *objstore.Client
	stage string // the staging directory, removed by cleanup
	local string // the index's staging path in it
}

// newS3Output checks that nothing of the bundle is at url yet and makes
// its staging directory in tempDir (the system's if "").
func newS3Output(ctx context.Context, url, tempDir string) (*s3Output, error) {
	loc, err := objstore.Parse(url)
	if err != nil {
		return nil, scheme.Usagef("-o %v", err)
	}
	c, err := s3Client()
	if err != nil {
		return nil, err
	}
	index, vols, err := c.Exists(ctx, loc)
	switch {
	case err != nil:
		return nil, err
	case index:
		return nil, scheme.Usagef("%s exists; remove it (and its volumes) or choose another name", loc)
	case len(vols) > 0:
		return nil, scheme.Usagef("%s has no index but %d volume object(s) (%s, ...), left by an export that was killed: remove them or choose another name", loc, len(vols), vols[0])
	}
	stage, err := os.MkdirTemp(tempDir, "imbundle-s3-*")
	if err != nil {
		return nil, fmt.Errorf("a staging directory for %s: %w (set --temp-dir to a directory with room for one volume)", loc, err)
	}
	return &s3Output{loc: loc, c: c, stage: stage, local: filepath.Join(stage, loc.Name())}, nil
}

// sink is the bundle writer's VolumeSink for the destination.
func (o *s3Output) sink(ctx context.Context) bundle.VolumeSink { return o.c.Sink(ctx, o.loc) }

// cleanup removes the staging directory.
func (o *s3Output) cleanup() { os.RemoveAll(o.stage) }

// s3Bytes is the size of a bundle put to object storage: its volumes'
// (the index, a few KiB, is not counted).
func s3Bytes(m *spec.Manifest) int64 {
	var n int64
	if m.Volumes != nil {
		for _, v := range m.Volumes.Volumes {
			n += v.Bytes
		}
	}
	return n
}
