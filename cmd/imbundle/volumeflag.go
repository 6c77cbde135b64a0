package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/scheme"
)

// parseByteSize reads --volume-size: bytes, or a number with K, M, G or T
// (powers of 1024, an optional trailing B or iB: 4G, 512MiB, 100K).
func parseByteSize(flag, s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "B"), "I")
	shift := 0
	if t != "" {
		switch t[len(t)-1] {
		case 'K':
			shift = 10
		case 'M':
			shift = 20
		case 'G':
			shift = 30
		case 'T':
			shift = 40
		}
		if shift > 0 {
			t = t[:len(t)-1]
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 1 || n > (1<<62)>>shift {
		return 0, scheme.Usagef("%s %q: want a size such as 4G, 512M, 100K or a number of bytes", flag, s)
	}
	n <<= shift
	if n < bundle.MinVolumeBytes {
		return 0, scheme.Usagef("%s %s: want at least %d bytes (%dK)", flag, s, bundle.MinVolumeBytes, bundle.MinVolumeBytes>>10)
	}
	return n, nil
}

// existingVolume names a volume file of out that is already there: an
// export does not overwrite a volume, as it does not overwrite a bundle.
func existingVolume(out string) error {
	names, err := bundle.DirVolumes(filepath.Dir(out)).List(filepath.Base(out))
	if err != nil || len(names) == 0 {
		return nil
	}
	return scheme.Usagef("%s exists (a volume of an earlier export to %s); remove the old volumes or choose another -o", filepath.Join(filepath.Dir(out), names[0]), out)
}

// bundleBytes is the size of what an export wrote: the file, and its
// volumes if it is an index.
func bundleBytes(out string, vols []string) int64 {
	var n int64
	for _, p := range append([]string{out}, vols...) {
		if st, err := os.Stat(p); err == nil {
			n += st.Size()
		}
	}
	return n
}

// volumesNote is the export's word on its volumes.
func volumesNote(n int) string {
	if n == 0 {
		return ""
	}
	if n == 1 {
		return " in 1 volume beside it"
	}
	return fmt.Sprintf(" in %d volumes beside it", n)
}
