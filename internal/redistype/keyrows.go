package redistype

import "github.com/apache/arrow-go/v18/arrow"

// KeyRows counts the keys of a batch of keyspace rows: the key rows, the
// only rows whose elements column is set (one per key, closing its run;
// SPEC.md §8.3). A key whose run spans batches is counted in the batch
// that holds its key row, so the batches of a dataset add up to its keys.
func KeyRows(rec arrow.RecordBatch) int64 {
	if rec.NumCols() <= ColElements {
		return 0
	}
	col := rec.Column(ColElements)
	return int64(col.Len() - col.NullN())
}
