package importer

import (
	"fmt"
	"strings"
)

// convertedObjects decides what happens to the schema objects (views,
// triggers, routines, events, accounts, Redis function libraries) of the
// sources whose datasets this import converts to another engine. No rule
// converts them, and a target only knows how to create its own engine's,
// so without WithoutObjects the import stops before anything is written,
// naming them; with it they are left out, logged, and hidden from the
// target (plan.Manifest then lists the other sources' objects only), so
// that no engine mistakes another engine's definition for one of its own.
func convertedObjects(plan *Plan, opts Options) error {
	converted := map[string]string{} // source id -> its engine
	for _, it := range plan.Items {
		if it.Conversion != nil {
			for _, s := range plan.Manifest.Sources {
				if s.ID == it.Original.Source {
					converted[s.ID] = s.Engine
				}
			}
		}
	}
	if len(converted) == 0 {
		return nil
	}
	m := *plan.Manifest
	m.Objects = nil
	var names []string
	for _, o := range plan.Manifest.Objects {
		if _, ok := converted[o.Source]; !ok {
			m.Objects = append(m.Objects, o)
			continue
		}
		name := o.Name
		if o.Namespace != "" {
			name = o.Namespace + "." + o.Name
		}
		names = append(names, fmt.Sprintf("%s %s %s", converted[o.Source], o.Kind, name))
	}
	if len(names) == 0 {
		return nil
	}
	if !opts.WithoutObjects {
		return Refused(fmt.Errorf("the bundle holds schema objects of sources this import converts to another engine, and no conversion carries them: %s; nothing was written. Pass --without-objects to import the data without them, or import them into a target of their own engine", joinNames(names, 20)))
	}
	plan.Log.Warn("schema objects left out (--without-objects): no conversion carries them", "objects", strings.Join(names, ", "))
	plan.Manifest = &m
	return nil
}
