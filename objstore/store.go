package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/minio/minio-go/v7"

	"github.com/imbundle/imbundle/bundle"
)

// store is the bundle.VolumeStore of the objects beside an index.
type store struct {
	c   *Client
	loc Location
}

// Open opens the volume object name beside the index.
func (s store) Open(name string) (bundle.VolumeFile, error) {
	return s.c.openObject(context.Background(), s.loc, s.loc.sibling(name))
}

// List names the objects beside the index named index.NNN.
func (s store) List(index string) ([]string, error) {
	return s.c.list(context.Background(), s.loc, index+".")
}

// list names the objects beside loc's index whose names start with prefix
// and have a volume's form (NAME.NNN, digits only after the dot).
func (c *Client) list(ctx context.Context, loc Location, prefix string) ([]string, error) {
	dir := path.Dir(loc.Key) + "/"
	if dir == "./" {
		dir = ""
	}
	var out []string
	for o := range c.mc.ListObjects(ctx, loc.Bucket, minio.ListObjectsOptions{Prefix: dir + prefix}) {
		if o.Err != nil {
			return nil, c.explain(loc, dir+prefix, o.Err)
		}
		name := strings.TrimPrefix(o.Key, dir)
		if num, ok := strings.CutPrefix(name, prefix); ok && num != "" && strings.Trim(num, "0123456789") == "" && !strings.Contains(name, "/") {
			out = append(out, name)
		}
	}
	return out, nil
}

// OpenBundle opens the bundle at loc in place: one HEAD and a few ranged
// GETs of its index, the same of each volume, and no part data until a
// part is read.
func (c *Client) OpenBundle(ctx context.Context, loc Location, opts bundle.ReadOptions) (*bundle.Reader, error) {
	idx, err := c.openObject(ctx, loc, loc.Key)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: no bundle: the index object does not exist (an export still running, failed or killed leaves none; its volumes alone are no bundle): %w", loc, err)
	}
	if err != nil {
		return nil, err
	}
	opts.Volumes = store{c: c, loc: loc}
	opts.Index = loc.Name()
	r, err := bundle.NewReaderWith(idx, idx.size, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", loc, err)
	}
	return r, nil
}

// Exists reports whether loc's index object is there, and names the
// volume objects of its name: an export neither overwrites a bundle nor
// mixes its volumes with those a killed export left.
func (c *Client) Exists(ctx context.Context, loc Location) (index bool, volumes []string, err error) {
	_, err = c.mc.StatObject(ctx, loc.Bucket, loc.Key, minio.StatObjectOptions{})
	if err == nil {
		return true, nil, nil
	}
	if err = c.explain(loc, loc.Key, err); !errors.Is(err, fs.ErrNotExist) {
		return false, nil, err
	}
	volumes, err = c.list(ctx, loc, loc.Name()+".")
	return false, volumes, err
}

// explain turns an S3 error into one that names the object and says what
// to do; a missing object or bucket matches fs.ErrNotExist. The error
// never holds a credential: the S3 error response holds none.
func (c *Client) explain(loc Location, key string, err error) error {
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		return err
	}
	where := Scheme + loc.Bucket + "/" + key
	resp := minio.ToErrorResponse(err)
	switch resp.Code {
	case "NoSuchKey", "NotFound":
		return fmt.Errorf("%s: no such object: %w", where, fs.ErrNotExist)
	case "NoSuchBucket":
		return fmt.Errorf("%s: bucket %q does not exist: create it, or check the URL: %w", where, loc.Bucket, fs.ErrNotExist)
	case "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken":
		return fmt.Errorf("%s: %s (%s): check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or AWS_PROFILE in ~/.aws/credentials) and that this user may use the bucket", where, resp.Code, resp.Message)
	}
	if resp.StatusCode == 404 {
		return fmt.Errorf("%s: not found: %w", where, fs.ErrNotExist)
	}
	return fmt.Errorf("%s: %w (check AWS_ENDPOINT_URL and AWS_REGION)", where, err)
}
