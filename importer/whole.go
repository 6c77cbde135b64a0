package importer

import (
	"fmt"
	"io"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/convert"
	"github.com/imbundle/imbundle/spec"
)

// Conversions that read a whole dataset as one part (convert.Conversion
// Whole: Redis keys merged into records by key, SPEC.md §11.9) are loaded
// as the converted dataset's one part, whose input is every stored part in
// order. Each stored part is still checked against its digest as it is
// read, and the dataset's digest is the sum of them all; a resumed import
// loads such a dataset again as a whole or skips it as a whole.

// openInput opens what converted part `part` of it reads: the stored part
// of that index, or for a Whole conversion every stored part.
func openInput(r *bundle.Reader, it *Item, part int) (PartRecords, error) {
	if it.Conversion != nil && it.Conversion.Whole {
		if part != 0 {
			return nil, fmt.Errorf("dataset %q is converted as a whole: it has no part %d", it.Stored().Name, part)
		}
		w := &wholeInput{PartsReader: r.OpenParts(it.Stored())}
		for _, ds := range it.Conversion.Inputs {
			w.inputs = append(w.inputs, r.OpenParts(ds))
		}
		return w, nil
	}
	return r.OpenPart(it.Stored(), part)
}

// wholeInput is a Whole conversion's input: every stored part of its
// dataset and, for a conversion with Inputs (embedded datasets), every
// stored part of each of them.
type wholeInput struct {
	*bundle.PartsReader
	inputs []*bundle.PartsReader
}

func (w *wholeInput) Close() error {
	err := w.PartsReader.Close()
	for _, in := range w.inputs {
		if e := in.Close(); err == nil {
			err = e
		}
	}
	return err
}

// convertRecords is the conversion of it's records read from in (opened
// by openInput, maybe wrapped as src).
func convertRecords(it *Item, src RecordSource, in PartRecords, part int, reject func(convert.Reject) error) RecordSource {
	var inputs []convert.Records
	if w, ok := in.(*wholeInput); ok {
		for _, r := range w.inputs {
			inputs = append(inputs, r)
		}
	}
	return it.Conversion.RecordsWith(src, inputs, part, reject)
}

// inputParts are the stored parts an import of items reads: each item's
// own and those of the datasets its conversion reads besides (Inputs).
func inputParts(items []*Item) []spec.Part {
	var parts []spec.Part
	for _, it := range items {
		parts = append(parts, it.Stored().Parts...)
		if dd := spec.DeletedDataset(it.Stored()); dd != nil {
			parts = append(parts, dd.Parts...)
		}
		if it.Conversion != nil {
			for _, ds := range it.Conversion.Inputs {
				parts = append(parts, ds.Parts...)
			}
		}
	}
	return parts
}

// closeRecords lets a conversion's records release what they hold (a
// merge's sort files) once the target stops reading, for any reason.
func closeRecords(recs RecordSource) {
	if c, ok := recs.(io.Closer); ok {
		c.Close()
	}
}

// setSpill gives the import's Whole conversions their sort settings.
func setSpill(items []*Item, opts Options) {
	for _, it := range items {
		if it.Conversion != nil && it.Conversion.Whole {
			it.Conversion.Spill = convert.Spill{Dir: opts.TempDir, Memory: opts.SortMemory}
		}
	}
}
