package bundle

import (
	"fmt"

	"github.com/imbundle/imbundle/spec"
)

// DeltaVersion is the format version of a delta bundle (SPEC.md §14). A
// major version: a reader of format 3 would skip the unknown delta members
// and import a delta's changed rows as if they were the whole dataset.
// It holds everything of 3.0.
const DeltaVersion = "4.0"

// checkDelta requires the delta members in a delta bundle, and only there.
func checkDelta(version string, m *spec.Manifest) error {
	maj, _, _ := splitVersion(version)
	if maj < 4 {
		if m.Delta != nil {
			return fmt.Errorf("entry %s: a delta bundle (member delta) must be format %s, not %s", ManifestEntry, DeltaVersion, version)
		}
		for i := range m.Datasets {
			if m.Datasets[i].Delta != nil {
				return fmt.Errorf("entry %s: dataset %q records a delta, which format %s does not have (delta bundles are format %s)", ManifestEntry, m.Datasets[i].Name, version, DeltaVersion)
			}
		}
		return nil
	}
	if m.Delta == nil {
		return fmt.Errorf("entry %s: format %s is a delta bundle's, and the manifest has no delta member", ManifestEntry, version)
	}
	if !hex64.MatchString(m.Delta.Parent) || !hex64.MatchString(m.Delta.Base) || m.Delta.Depth < 1 {
		return fmt.Errorf("entry %s: delta: parent and base must be bundle ids (64 hex digits) and depth at least 1", ManifestEntry)
	}
	for i := range m.Datasets {
		ds := &m.Datasets[i]
		d := ds.Delta
		if d == nil {
			return fmt.Errorf("entry %s: dataset %q of a delta bundle records no delta", ManifestEntry, ds.Name)
		}
		switch d.Change {
		case spec.ChangeNone:
			if len(ds.Parts) > 0 || d.Deleted != nil {
				return fmt.Errorf("entry %s: dataset %q is unchanged (change none) and holds parts", ManifestEntry, ds.Name)
			}
		case spec.ChangeWhole:
			if d.Deleted != nil {
				return fmt.Errorf("entry %s: dataset %q replaces the whole dataset and lists deleted keys", ManifestEntry, ds.Name)
			}
		case spec.ChangeRows:
			if len(d.Key) == 0 {
				return fmt.Errorf("entry %s: dataset %q changes rows by key and names no key column", ManifestEntry, ds.Name)
			}
		default:
			return fmt.Errorf("entry %s: dataset %q: delta change %q is not none, rows or whole", ManifestEntry, ds.Name, d.Change)
		}
		if d.Change != spec.ChangeRows && d.Deleted != nil {
			return fmt.Errorf("entry %s: dataset %q lists deleted keys outside a change of rows", ManifestEntry, ds.Name)
		}
		for _, dg := range []spec.Digest{d.State, d.Removed} {
			if dg.Algorithm != spec.DigestAlgorithm || !hex64.MatchString(dg.Sum) {
				return fmt.Errorf("entry %s: dataset %q: a delta digest is not %s with 64 hex digits", ManifestEntry, ds.Name, spec.DigestAlgorithm)
			}
		}
	}
	return nil
}
