package objstore

import (
	"context"
	"fmt"
	"io"

	"github.com/minio/minio-go/v7"

	"github.com/imbundle/imbundle/bundle"
)

// PartSize is the multipart upload's part size: a volume up to 10,000
// times this (640 GiB) uploads in one PutObject; above 64 MiB it is sent
// in parts, so a dropped connection costs one part, not the volume.
const PartSize = 64 << 20

// sink is the bundle.VolumeSink that puts a bundle's objects beside
// loc's index: the volumes as they are finished, the index last.
type sink struct {
	ctx context.Context
	c   *Client
	loc Location
}

// Sink returns the VolumeSink for a bundle written to loc.
func (c *Client) Sink(ctx context.Context, loc Location) bundle.VolumeSink {
	return &sink{ctx: ctx, c: c, loc: loc}
}

// Put uploads body as the object name beside the index. S3 makes an
// object visible only once its upload completes, so a failed Put leaves
// none (a multipart upload killed midway leaves parts that the bucket's
// lifecycle rule for incomplete uploads removes).
func (s *sink) Put(name string, body io.Reader, size int64) error {
	key := s.loc.sibling(name)
	_, err := s.c.mc.PutObject(s.ctx, s.loc.Bucket, key, body, size, minio.PutObjectOptions{
		ContentType: "application/octet-stream",
		PartSize:    PartSize,
	})
	if err != nil {
		return s.c.explain(s.loc, key, err)
	}
	return nil
}

// Remove deletes the objects named, after a failed export.
func (s *sink) Remove(names []string) {
	ctx := context.WithoutCancel(s.ctx) // a cancelled export still cleans up
	for _, n := range names {
		s.c.mc.RemoveObject(ctx, s.loc.Bucket, s.loc.sibling(n), minio.RemoveObjectOptions{})
	}
}

// String names where the sink puts, for messages.
func (s *sink) String() string { return fmt.Sprintf("%s and its volumes", s.loc) }
