// Package bundle writes and reads imbundle files: a ZIP container of stored
// entries holding Arrow IPC parts and a manifest (spec/SPEC.md). It knows
// nothing of any database.
package bundle

import (
	"fmt"
	"path"
	"strings"
)

// Entry names of the container (SPEC.md §2).
const (
	MarkerEntry      = "imbundle"
	ManifestEntry    = "manifest.json"
	ManifestSumEntry = "manifest.sha256"
	dataDir          = "data/"
	DefaultPartBytes = 64 << 20 // uncompressed Arrow bytes per part
	// DefaultBatchBytes is what exporters aim for per record batch. Each
	// buffer of a batch is compressed separately, so larger batches
	// compressed better while offsets were 32-bit (format 1): on 2M OpenIM
	// chat_logs rows 8 MiB gave a 5% smaller bundle than 4 MiB, at 169 MiB
	// peak RSS. With format 2's 64-bit offsets, 16 MiB gains 0.5% (148.7
	// -> 148.0 MB) for 95 MiB more RSS (150 -> 243 MiB): not worth it.
	DefaultBatchBytes = 8 << 20
	// MaxBatchBytes bounds one record batch's uncompressed buffers (SPEC.md
	// §4): the Writer refuses a larger batch, so every bundle it writes can
	// be read back, and readers use it to bound memory on hostile input.
	MaxBatchBytes    = 1 << 31
	maxManifestBytes = 1 << 30
	maxDatasets      = 100000  // five digits in a part path
	maxParts         = 1000000 // six digits in a part path
)

// markerContent is the body of the first entry, as EPUB's mimetype: a reader
// (or `unzip -p f imbundle`) recognises a bundle without parsing JSON.
func markerContent(version string) string { return "imbundle/" + version + "\n" }

// PartPath is the entry name of part p of the dataset at index ds of the
// manifest: data/DDDDD/PPPPPP.arrow.
func PartPath(ds, p int) string {
	return fmt.Sprintf("%s%05d/%06d.arrow", dataDir, ds, p)
}

// DeletedPartPath is the entry name of part p of the deleted keys of the
// dataset at index ds (a delta bundle, SPEC.md §14): data/DDDDD/dPPPPP.arrow.
func DeletedPartPath(ds, p int) string {
	return fmt.Sprintf("%s%05d/d%05d.arrow", dataDir, ds, p)
}

// checkEntryName refuses names that could escape an extraction directory or
// be read differently by another unzip (absolute paths, "..", backslashes,
// drive letters, NUL, non-canonical forms), then any name that is not one of
// the bundle's own (SPEC.md §2).
func checkEntryName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("empty entry name")
	case strings.HasPrefix(name, "/"):
		return fmt.Errorf("entry %q has an absolute path", name)
	case strings.Contains(name, `\`):
		return fmt.Errorf("entry %q contains a backslash", name)
	case strings.ContainsRune(name, 0):
		return fmt.Errorf("entry %q contains a NUL byte", name)
	case len(name) >= 2 && name[1] == ':':
		return fmt.Errorf("entry %q has a drive letter", name)
	}
	for _, el := range strings.Split(name, "/") {
		if el == ".." {
			return fmt.Errorf("entry %q contains a '..' element", name)
		}
	}
	if path.Clean(name) != name {
		return fmt.Errorf("entry %q is not a clean path", name)
	}
	switch name {
	case MarkerEntry, ManifestEntry, ManifestSumEntry, KeyEntry, VolumeEntry:
		return nil
	}
	if _, _, ok := parsePartPath(name); !ok {
		return fmt.Errorf("entry %q is not a bundle entry name (imbundle, key.age, volume.json, data/DDDDD/PPPPPP.arrow, data/DDDDD/dPPPPP.arrow, manifest.json, manifest.sha256)", name)
	}
	return nil
}

// parsePartPath splits data/DDDDD/PPPPPP.arrow (or a deleted-keys part's
// data/DDDDD/dPPPPP.arrow) into its two indexes.
func parsePartPath(name string) (ds, part int, ok bool) {
	ds, part, _, ok = parseEntryPart(name)
	return ds, part, ok
}

// parseEntryPart is parsePartPath, saying which of the two forms it is.
func parseEntryPart(name string) (ds, part int, deleted, ok bool) {
	const n = len("data/00000/000000.arrow")
	if len(name) != n || !strings.HasPrefix(name, dataDir) || name[10] != '/' || !strings.HasSuffix(name, ".arrow") {
		return 0, 0, false, false
	}
	ds, ok1 := digits(name[5:10])
	num := name[11:17]
	if num[0] == 'd' {
		deleted, num = true, num[1:]
	}
	part, ok2 := digits(num)
	return ds, part, deleted, ok1 && ok2
}

func digits(s string) (int, bool) {
	v := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		v = v*10 + int(s[i]-'0')
	}
	return v, true
}
