package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/scheme"
	"github.com/imbundle/imbundle/objstore"
	"github.com/imbundle/imbundle/progress"
	"github.com/imbundle/imbundle/spec"
	"github.com/imbundle/imbundle/verify"
)

func newCopyCmd() *cobra.Command {
	var o copyOptions
	cmd := &cobra.Command{
		Use:   "copy SRC DST",
		Short: "Copy a bundle between object storage and local files, as one file or as volumes",
		Long: `Copy writes the bundle SRC to DST, each a local FILE or s3://BUCKET/PREFIX/NAME
(SPEC.md §2.7). To s3:// it writes volumes (--volume-size, default 256M) and the
index last; to a local FILE one file, or volumes beside it with --volume-size:
for the air gap, copy s3://... site.imb and carry one file.

The copy is identical in content: the same datasets, sources, digests and
parts, each part copied byte for byte (the same SHA-256); only the volume
list and so the bundle id differ from SRC's when the layout changes. Copy
reads DST back and checks that before it says OK. Credentials for s3:// come
from the AWS environment (AWS_ACCESS_KEY_ID, ..., see README).`,
		Example: `  imbundle copy s3://backups/im/site.imb site.imb
  imbundle copy site.imb s3://backups/im/site-2.imb --volume-size 1G
  imbundle copy site.imb split.imb --volume-size 4G`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCopy(cmd.Context(), cmd.OutOrStdout(), args[0], args[1], o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.volumeSize, "volume-size", "", "write DST as volumes of at most this size (4G, 512M; default 256M to s3://, one file locally)")
	f.StringVar(&o.tempDir, "temp-dir", "", "directory to stage one volume in on the way to s3:// (default: the system's)")
	f.IntVar(&o.jobs, "jobs", 4, "parts checked in parallel when reading DST back")
	return cmd
}

type copyOptions struct {
	volumeSize string
	tempDir    string
	jobs       int
}

// runCopy copies src to dst and checks the copy.
func runCopy(ctx context.Context, out io.Writer, src, dst string, o copyOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := checkPositive("--jobs", o.jobs); err != nil {
		return err
	}
	var volumeBytes int64
	if o.volumeSize != "" {
		n, err := parseByteSize("--volume-size", o.volumeSize)
		if err != nil {
			return err
		}
		volumeBytes = n
	}
	if src == "-" || dst == "-" {
		return scheme.Usagef("copy reads and writes bundles by path or s3:// URL, not standard input or output")
	}
	r, err := openLocation(src, bundle.ReadOptions{})
	var ee *bundle.EncryptedError
	if errors.As(err, &ee) {
		return scheme.Usagef("%s is encrypted, and copy does not repack an encrypted bundle yet (its parts are sealed to a key in its index): copy its index and volume files or objects as they are", src)
	}
	if err != nil {
		_, err = openBundle(src) // the same error, explained
		return err
	}
	defer r.Close()
	opts := bundle.Options{TempDir: o.tempDir}
	local := dst
	if objstore.IsURL(dst) {
		s3out, err := newS3Output(ctx, dst, o.tempDir)
		if err != nil {
			return err
		}
		defer s3out.cleanup()
		local, opts.TempDir = s3out.local, s3out.stage
		opts.VolumeSink = s3out.sink(ctx)
		if volumeBytes == 0 {
			volumeBytes = s3VolumeBytes
		}
	} else {
		if _, err := os.Stat(dst); err == nil {
			return scheme.Usagef("%s exists; remove it or choose another DST", dst)
		}
		if volumeBytes > 0 {
			if err := existingVolume(dst); err != nil {
				return err
			}
		}
	}
	opts.VolumeBytes = volumeBytes
	w, err := bundle.Repack(r, local, opts)
	if err != nil {
		return fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	defer w.Abort()
	if err := w.Close(); err != nil {
		return fmt.Errorf("copy %s to %s: %w; nothing was left at %s", src, dst, err, dst)
	}
	size, err := checkCopy(ctx, r, dst, o.jobs)
	if err != nil {
		return withCode(exitBadInput, fmt.Errorf("copy %s to %s: the copy does not match: %w\nremove %s (and its volumes) and copy again", src, dst, err, dst))
	}
	vols := 0
	if set := w.Manifest().Volumes; set != nil {
		vols = len(set.Volumes)
	}
	fmt.Fprintf(out, "copied %s to %s: %d datasets, %s%s, id %s; every part read back and checked\n", src, dst, len(r.Manifest().Datasets), progress.HumanBytes(size), volumesNote(vols), w.ID())
	return nil
}

// checkCopy opens the copy at dst, checks it holds what r holds (the
// manifest but for its format version and volume list) and checks every
// part's SHA-256 by reading it back. It returns the copy's size.
func checkCopy(ctx context.Context, r *bundle.Reader, dst string, jobs int) (int64, error) {
	c, err := openBundle(dst)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	a, err := contentOf(r.Manifest())
	if err != nil {
		return 0, err
	}
	b, err := contentOf(c.Manifest())
	if err != nil {
		return 0, err
	}
	if !bytes.Equal(a, b) {
		return 0, fmt.Errorf("its manifest differs from the source's in more than the volume list")
	}
	if err := verify.Offline(ctx, c, jobs, false, func(verify.PartResult) {}); err != nil {
		return 0, err
	}
	var size int64
	for _, v := range c.Volumes() {
		size += v.Bytes
	}
	return max(size, c.Size()), nil
}

// contentOf is a manifest's content for "identical in content": all of it
// but the format version and the volume list (SPEC.md §2.7).
func contentOf(m *spec.Manifest) ([]byte, error) {
	c := *m
	c.Version, c.Volumes = "", nil
	return json.Marshal(&c)
}
