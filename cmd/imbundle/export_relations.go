package main

import (
	"fmt"
	"io"

	"github.com/imbundle/imbundle/convert"
	"github.com/imbundle/imbundle/exporter"
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

// exportShards is the shards of export's --profile or --map as the
// exporter's rules (nil: none).
func exportShards(m *convert.Mapping) exporter.Shards {
	if m == nil {
		return nil
	}
	var out exporter.Shards
	for _, s := range m.Shards {
		out = append(out, exporter.ShardRule{Match: s.Match, Name: s.Dataset})
	}
	return out
}
