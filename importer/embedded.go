package importer

import (
	"fmt"

	"github.com/imbundle/imbundle/convert"
	"github.com/imbundle/imbundle/spec"
)

// embeddedBy returns the mapping entry that embeds ds into another
// dataset's documents in this import (SPEC.md §11.1, embedded rows), or
// nil: such a dataset is read by its parent's conversion and not loaded
// on its own. That holds when the parent is in the bundle, selected, and
// converted by this target (one that takes the parent as it is loads both
// as they are). A child selected without its parent is refused, since its
// rows would go nowhere.
func embeddedBy(t Target, m *spec.Manifest, srcs map[string]*spec.Source, want map[string]bool, mapping *convert.Mapping, ds *spec.Dataset) (*convert.DatasetRule, error) {
	by, parent := mapping.Embedder(m, ds.Name)
	if by == nil || srcs[parent.Source] == nil || t.Accepts(parent, srcs[parent.Source]) {
		return nil, nil
	}
	if len(want) > 0 && !want[parent.Name] {
		return nil, fmt.Errorf("dataset %q is embedded into %q by the mapping (%s): select %s too (--datasets), or import it without that mapping; nothing was written", ds.Name, parent.Name, by.Where(), parent.Name)
	}
	return by, nil
}
