// Package records says what a dataset's records are to the operator
// watching a run: a table's rows, a collection's documents, a Redis
// database's keys. A bundle's rows are not always its records: a Redis
// key is a run of rows, one per hash field, list element or set member
// and a key row closing the run (SPEC.md §8.3), so a keyspace of a few
// big hashes has many rows and few keys. Progress and reports count what
// the operator knows the source by (DBSIZE, COUNT(*)), not bundle rows.
package records

import (
	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/internal/redistype"
	"github.com/imbundle/imbundle/spec"
)

// Counting is how a dataset's records are named and counted.
type Counting struct {
	Unit string // rows, documents, keys
	// Count is the records a batch of the dataset's bundle rows holds.
	Count func(rec arrow.RecordBatch) int64
	// PerRow: every bundle row is a record, so a part's records are its
	// rows (the manifest's count); else only reading the rows tells.
	PerRow bool
}

// Rows counts every bundle row as a record.
func Rows(rec arrow.RecordBatch) int64 { return rec.NumRows() }

// none counts nothing: a stream-state dataset's rows are the state of
// streams whose keys the keyspace dataset counts (SPEC.md §8.7); counting
// them again would make a database's keys more than its DBSIZE.
func none(arrow.RecordBatch) int64 { return 0 }

// Of is how ds's records are counted.
func Of(ds *spec.Dataset) Counting {
	switch {
	case ds == nil:
		return Counting{Unit: "rows", Count: Rows, PerRow: true}
	case ds.Options["layout"] == redistype.LayoutName:
		return Counting{Unit: "keys", Count: redistype.KeyRows}
	case ds.Options["layout"] == redistype.GroupsLayoutName:
		return Counting{Unit: "keys", Count: none}
	case ds.Kind == spec.KindCollection:
		return Counting{Unit: "documents", Count: Rows, PerRow: true}
	}
	return Counting{Unit: "rows", Count: Rows, PerRow: true}
}

// Total is the records a bundle's dataset holds, and whether the bundle
// says: a keyspace's from its "keys" counter (the keys the export wrote),
// which a bundle written before the counter lacks.
func Total(ds *spec.Dataset) (int64, bool) {
	switch ds.Options["layout"] {
	case redistype.LayoutName:
		n, ok := ds.Counters["keys"]
		return n, ok
	case redistype.GroupsLayoutName:
		return 0, true
	}
	return ds.Rows, true
}
