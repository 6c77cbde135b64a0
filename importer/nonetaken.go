package importer

import (
	"fmt"
	"strings"

	"github.com/imbundle/imbundle/spec"
)

// noneTaken is the error of an import that would load nothing: the target's
// engine takes none of the datasets asked for. Exiting 0 would tell the
// user the data moved.
func noneTaken(m *spec.Manifest, left []string) error {
	engine := map[string]string{}
	for _, s := range m.Sources {
		engine[s.ID] = s.Engine
	}
	byName := map[string]*spec.Dataset{}
	for i := range m.Datasets {
		byName[m.Datasets[i].Name] = &m.Datasets[i]
	}
	var list []string
	for i, n := range left {
		if i == 10 {
			list = append(list, fmt.Sprintf("and %d more", len(left)-i))
			break
		}
		ds := byName[n]
		list = append(list, fmt.Sprintf("%s (%s %s)", n, engine[ds.Source], ds.Kind))
	}
	return Refused(fmt.Errorf("the target takes none of the %d dataset(s) asked for: %s; nothing was written. Import them with a target of their engine, or choose datasets this one takes with --datasets", len(left), strings.Join(list, ", ")))
}
