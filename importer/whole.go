package importer

import (
	"fmt"
	"io"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/convert"
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
		return r.OpenParts(it.Stored()), nil
	}
	return r.OpenPart(it.Stored(), part)
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
