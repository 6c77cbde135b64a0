package objstore

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/minio/minio-go/v7"
)

// object reads one object with ranged GETs: a reader of a bundle fetches
// the container's end records, directory and manifest, and only the parts
// it reads. Each fetch is at least minBlock, kept in a few cached blocks
// (the zip structures are read in small pieces near each other, and a
// small minimum keeps a local header's fetch from pulling in its part);
// a read that continues where a block ended fetches twice as much next
// time, up to maxBlock, so a part read from start to end costs a few large
// GETs, not one per read.
// Safe for concurrent use (a bundle's parts are read in parallel).
type object struct {
	c    *Client
	loc  Location
	key  string
	size int64

	mu     sync.Mutex
	blocks []*block // most recently used last
}

type block struct {
	off  int64
	data []byte
}

const (
	minBlock  = 1 << 10
	maxBlock  = 8 << 20
	maxBlocks = 8
)

// openObject stats key (one HEAD): its size, or an error matching
// fs.ErrNotExist if there is none.
func (c *Client) openObject(ctx context.Context, loc Location, key string) (*object, error) {
	st, err := c.mc.StatObject(ctx, loc.Bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return nil, c.explain(loc, key, err)
	}
	return &object{c: c, loc: loc, key: key, size: st.Size}, nil
}

func (o *object) Size() int64  { return o.size }
func (o *object) Close() error { return nil }

// ReadAt implements io.ReaderAt.
func (o *object) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("%s: negative offset", o.where())
	}
	if off >= o.size {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && off < o.size {
		b, err := o.blockAt(off, len(p)-n)
		if err != nil {
			return n, err
		}
		c := copy(p[n:], b.data[off-b.off:])
		n += c
		off += int64(c)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// blockAt returns a block holding off, fetching one of at least want
// bytes if none is cached.
func (o *object) blockAt(off int64, want int) (*block, error) {
	o.mu.Lock()
	size := int64(minBlock)
	for i, b := range o.blocks {
		end := b.off + int64(len(b.data))
		if off >= b.off && off < end {
			o.blocks = append(append(o.blocks[:i:i], o.blocks[i+1:]...), b)
			o.mu.Unlock()
			return b, nil
		}
		if off == end { // a sequential reader: read further ahead
			size = min(2*int64(len(b.data)), maxBlock)
		}
	}
	o.mu.Unlock()
	size = max(size, int64(want))
	// Near the end, fetch the last size bytes: the end records are read
	// first, then the directory just before them.
	start := off
	if start+size > o.size {
		start = max(0, o.size-size)
	}
	size = min(size, o.size-start)
	data, err := o.get(start, size)
	if err != nil {
		return nil, err
	}
	b := &block{off: start, data: data}
	o.mu.Lock()
	o.blocks = append(o.blocks, b)
	if len(o.blocks) > maxBlocks {
		o.blocks = o.blocks[1:]
	}
	o.mu.Unlock()
	return b, nil
}

// get fetches n bytes at off with one ranged GET.
func (o *object) get(off, n int64) ([]byte, error) {
	ctx := context.Background()
	opts := minio.GetObjectOptions{}
	if err := opts.SetRange(off, off+n-1); err != nil {
		return nil, err
	}
	body, _, _, err := (minio.Core{Client: o.c.mc}).GetObject(ctx, o.loc.Bucket, o.key, opts)
	if err != nil {
		return nil, o.c.explain(o.loc, o.key, err)
	}
	defer body.Close()
	buf := make([]byte, n)
	if _, err := io.ReadFull(body, buf); err != nil {
		return nil, fmt.Errorf("%s: read bytes %d-%d: %w", o.where(), off, off+n-1, o.c.explain(o.loc, o.key, err))
	}
	return buf, nil
}

func (o *object) where() string { return Scheme + o.loc.Bucket + "/" + o.key }
