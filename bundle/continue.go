package bundle

import (
	"encoding/json"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/spec"
)

// continueLocked is CreateDataset of a kept partial dataset (Keep): its
// writer starts with the kept parts, their rows and digest, and numbers
// the next part after them. ds must describe the dataset as the killed
// run did (the exporter's resume checks so); schema, the same columns.
func (w *Writer) continueLocked(c continuedDataset, ds spec.Dataset, schema *arrow.Schema) (*DatasetWriter, error) {
	kept := w.manifest.Datasets[c.idx]
	if err := checkSchema(schema); err != nil {
		return nil, fmt.Errorf("dataset %q: %w", ds.Name, err)
	}
	cols, _ := json.Marshal(ColumnsOf(schema))
	was, _ := json.Marshal(kept.Columns)
	if string(cols) != string(was) || !sameJSONKey(ds.PrimaryKey, kept.PrimaryKey) {
		return nil, fmt.Errorf("dataset %q: its columns or key are not those of the parts kept from the killed run; run the export with --restart", ds.Name)
	}
	keys, err := keyColumns(schema, ds.PrimaryKey)
	if err != nil {
		return nil, fmt.Errorf("dataset %q: %w", ds.Name, err)
	}
	digest, err := digestFromSpec(kept.Digest)
	if err != nil {
		return nil, fmt.Errorf("dataset %q: kept parts: %w", ds.Name, err)
	}
	def := definitionOf(kept)
	delete(w.continued, ds.Name)
	ds.Columns = kept.Columns
	ds.Parts = kept.Parts
	ds.Rows = kept.Rows
	ds.Digest = kept.Digest
	w.manifest.Datasets[c.idx] = ds
	return &DatasetWriter{
		w: w, idx: c.idx, name: ds.Name, schema: schema, keys: keys,
		digest:  digest,
		parts:   append([]spec.Part(nil), kept.Parts...),
		entries: append([]journalEntry(nil), c.entries...),
		rows:    kept.Rows,
		partDef: &def,
	}, nil
}

func sameJSONKey(a, b []string) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// JournalParts makes each part of the dataset that finishes before the
// dataset does get a journal line (journalpart.go) recording check, the
// source's check of the dataset in the snapshot it is read in: a killed
// export then keeps those parts and continues the dataset after the last
// one's last key. Only for a keyed dataset whose source reads in key order
// and can read after a key; "" (or an export without a journal) journals
// no part.
func (d *DatasetWriter) JournalParts(check string) {
	if len(d.keys) > 0 {
		d.partCheck = check
	}
}
