package bundle

import (
	"fmt"

	"github.com/imbundle/imbundle/spec"
)

// LogicalVersion is the format version of a bundle that may hold logical
// datasets (a dataset with members: the shards of a sharded table read as
// one, SPEC.md §3). A major version, by SPEC.md §1's own rule: a reader of
// format 2 skips the unknown members and would load such a dataset as one
// table named for it, instead of refusing it, so only a major it does not
// read keeps it from misreading one. It holds everything of 2.4.
const LogicalVersion = "3.0"

// checkMembers refuses members in a bundle of a format that has none: a
// writer of such a version did not mean them.
func checkMembers(version string, m *spec.Manifest) error {
	maj, _, _ := splitVersion(version)
	if maj >= 3 {
		return nil
	}
	for i := range m.Datasets {
		if len(m.Datasets[i].Members) > 0 {
			return fmt.Errorf("entry %s: dataset %q has members (a logical dataset), which format %s does not have (logical datasets are format %s)", ManifestEntry, m.Datasets[i].Name, version, LogicalVersion)
		}
	}
	return nil
}
