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
	MarkerEntry       = "imbundle"
	ManifestEntry     = "manifest.json"
	ManifestSumEntry  = "manifest.sha256"
	dataDir           = "data/"
	DefaultPartBytes  = 64 << 20 // uncompressed Arrow bytes per part
	DefaultBatchBytes = 4 << 20  // what exporters aim for per record batch
	maxManifestBytes  = 1 << 30
)

// markerContent is the body of the first entry, as EPUB's mimetype: a reader
// (or `unzip -p f imbundle`) recognises a bundle without parsing JSON.
func markerContent(version string) string { return "imbundle/" + version + "\n" }

func partPath(dataset, part int) string {
	return fmt.Sprintf("%s%05d/%06d.arrow", dataDir, dataset, part)
}

// checkEntryName refuses names that could escape an extraction directory or
// be read differently by another unzip: absolute paths, "..", backslashes,
// empty or non-canonical forms.
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
	return nil
}
