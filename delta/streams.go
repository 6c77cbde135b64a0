package delta

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/imbundle/imbundle/spec"
)

// A Redis stream's consumer groups travel in the database's stream-state
// dataset (SPEC.md §8.7), apart from its entries in the keyspace dataset,
// and a target rebuilds them only on the stream it writes: a stream
// rewritten by key would lose its groups, and groups replayed onto a
// stream not rewritten would meet the old ones. So a database that holds
// a stream is carried whole in a delta, both its datasets, whatever
// changed: each decides so from its own rows (keyspace: a stream key;
// stream state: any row, one per stream), so the two always agree.
type streams struct {
	typ   int // keyspace: the type column; -1 otherwise
	state bool
	held  bool
}

func streamsOf(ds *spec.Dataset, schema *arrow.Schema) streams {
	s := streams{typ: -1}
	if ds.Kind != spec.KindKeyspace {
		return s
	}
	switch ds.Options["layout"] {
	case "redis-keyspace-v1":
		if idx := schema.FieldIndices("type"); len(idx) == 1 {
			s.typ = idx[0]
		}
	case "redis-stream-state-v1":
		s.state = true
	}
	return s
}

func (s *streams) see(rec arrow.RecordBatch) {
	switch {
	case s.held:
	case s.state:
		s.held = rec.NumRows() > 0
	case s.typ >= 0:
		col, ok := rec.Column(s.typ).(*array.LargeString)
		if !ok {
			return
		}
		for i := 0; i < col.Len(); i++ {
			if col.IsValid(i) && col.Value(i) == "stream" {
				s.held = true
				return
			}
		}
	}
}
