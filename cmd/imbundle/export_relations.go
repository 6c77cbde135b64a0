package main

import (
	"fmt"
	"io"

	"github.com/imbundle/imbundle/convert"
	"github.com/imbundle/imbundle/spec"
)

// profileRelations is the relations of export's --profile (or --map
// FILE.yaml) bound to the datasets the export wrote (SPEC.md §11.6,
// "Relations"); a relation whose dataset the site does not have is left
// out, with a note.
func profileRelations(m *convert.Mapping, man *spec.Manifest, notes io.Writer) ([]spec.Relation, error) {
	if m == nil {
		return nil, nil
	}
	rels, skipped, err := m.ManifestRelations(man)
	if err != nil {
		return nil, fmt.Errorf("%w; nothing was written", err)
	}
	for _, s := range skipped {
		fmt.Fprintf(notes, "note: relation %s: not recorded\n", s)
	}
	return rels, nil
}
