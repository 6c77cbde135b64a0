package bundle

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/imbundle/imbundle/spec"
)

// Part lines (SPEC.md §2.5): a dataset the exporter can continue after a
// key (DatasetWriter.JournalParts) gets a journal line per finished part,
// written once the part's bytes are synced, so that a killed export keeps
// the parts of a dataset it was still reading, not only its finished
// datasets. The dataset's own line, once it finishes, supersedes them.

// journalPart is one finished part of a dataset not yet finished.
type journalPart struct {
	// PartOf is the dataset's manifest entry without its parts, rows and
	// digest: what a resumed run compares with the dataset it describes.
	PartOf spec.Dataset `json:"part_of"`
	Check  string       `json:"check"` // the source's check, taken in the snapshot the part was read in
	Index  int          `json:"index"` // the part's number in the dataset, from 0
	Part   spec.Part    `json:"part"`
	// Digest is the part's rows' content digest: the kept parts'
	// digests add up to the dataset's so far without decoding them.
	Digest spec.Digest  `json:"digest"`
	Entry  journalEntry `json:"entry"`
}

// isPartLine tells a part line from a dataset line by its "part_of" key.
func isPartLine(b []byte) bool {
	var probe struct {
		PartOf json.RawMessage `json:"part_of"`
	}
	return json.Unmarshal(b, &probe) == nil && probe.PartOf != nil
}

// partialDatasets gathers the part lines of a journal into the datasets
// they belong to, in the order their first part finished.
type partialDatasets struct {
	byName map[string]*journalDataset
	order  []string
}

func newPartialDatasets() *partialDatasets {
	return &partialDatasets{byName: map[string]*journalDataset{}}
}

func (p *partialDatasets) add(l journalPart) error {
	name := l.PartOf.Name
	d := p.byName[name]
	if d == nil {
		def := definitionOf(l.PartOf)
		d = &journalDataset{Dataset: def, Check: l.Check, partial: true}
		p.byName[name] = d
		p.order = append(p.order, name)
	}
	switch {
	case l.Index != len(d.Entries):
		return fmt.Errorf("dataset %q: part line %d follows %d parts", name, l.Index, len(d.Entries))
	case l.Check != d.Check || !sameDefinition(l.PartOf, d.Dataset):
		return fmt.Errorf("dataset %q: part %d's line describes the dataset otherwise than part 0's", name, l.Index)
	case l.Digest.Rows != l.Part.Rows:
		return fmt.Errorf("dataset %q: part %d's digest counts %d rows, the part %d", name, l.Index, l.Digest.Rows, l.Part.Rows)
	}
	sum, err := digestFromSpec(d.Dataset.Digest)
	if err != nil {
		return fmt.Errorf("dataset %q: %w", name, err)
	}
	part, err := digestFromSpec(l.Digest)
	if err != nil {
		return fmt.Errorf("dataset %q part %d: %w", name, l.Index, err)
	}
	sum.Merge(&part)
	d.Dataset.Digest = sum.Spec()
	d.Dataset.Parts = append(d.Dataset.Parts, l.Part)
	d.Dataset.Rows += l.Part.Rows
	d.Entries = append(d.Entries, l.Entry)
	d.partDigests = append(d.partDigests, l.Digest)
	return nil
}

// finished drops the part lines of a dataset whose own line followed.
func (p *partialDatasets) finished(name string) {
	if _, ok := p.byName[name]; !ok {
		return
	}
	delete(p.byName, name)
	for i, n := range p.order {
		if n == name {
			p.order = append(p.order[:i], p.order[i+1:]...)
			break
		}
	}
}

func (p *partialDatasets) datasets() []journalDataset {
	var out []journalDataset
	for _, n := range p.order {
		out = append(out, *p.byName[n])
	}
	return out
}

// definitionOf is ds without what reading it filled in.
func definitionOf(ds spec.Dataset) spec.Dataset {
	ds.Parts = []spec.Part{}
	ds.Rows = 0
	ds.Digest = spec.Digest{}
	return ds
}

func sameDefinition(a, b spec.Dataset) bool {
	x, err1 := json.Marshal(definitionOf(a))
	y, err2 := json.Marshal(definitionOf(b))
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// partLines are the part lines of a kept partial dataset, for the
// rewritten journal.
func (d *journalDataset) partLines() []journalPart {
	def := definitionOf(d.Dataset)
	out := make([]journalPart, len(d.Entries))
	for j := range d.Entries {
		out[j] = journalPart{PartOf: def, Check: d.Check, Index: j, Part: d.Dataset.Parts[j], Digest: d.partDigests[j], Entry: d.Entries[j]}
	}
	return out
}

// journalPartLocked makes the part just added durable, then lists it in
// the journal (DatasetWriter.JournalParts).
func (w *Writer) journalPartLocked(d *DatasetWriter, part spec.Part, digest spec.Digest) error {
	if err := w.zw.bw.Flush(); err != nil {
		return fmt.Errorf("write bundle: %w", err)
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("sync bundle: %w", err)
	}
	def := definitionOf(w.manifest.Datasets[d.idx])
	if d.partDef != nil {
		def = *d.partDef
	}
	l := journalPart{
		PartOf: def,
		Check:  d.partCheck,
		Index:  len(d.parts) - 1,
		Part:   part,
		Digest: digest,
		Entry:  d.entries[len(d.entries)-1],
	}
	if err := w.journal.append(l); err != nil {
		return err
	}
	w.journaled++
	return nil
}
