package convert

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/redistype"
	"github.com/imbundle/imbundle/spec"
)

// The Redis keyspace and stream-state layouts (SPEC.md §8.2, §8.7) as
// tables and collections (§11.4, §11.5): one row or document per layout
// row, with the layout's columns as columns or fields and, first, the
// row's ordinal in the dataset (ord, _id). This file describes the layouts
// once for the four rules (redis_mongo.go, redis_mysql.go): their columns,
// the object names and the marker that makes a table or collection
// recognisable as one a rule wrote.
//
// Why one row per layout row: it is exact (every layout value has a column
// of the same type), it streams (a 2M-element key is 2M small rows, never
// one document over MongoDB's 16 MiB or one MySQL row over
// max_allowed_packet), and the way back is the same columns read again.
// Why an ordinal key rather than (key, seq), which the layout keeps unique
// too: a MySQL primary key holds at most 3072 bytes and Redis key names
// are binary strings of any length; and read back in ordinal order (MySQL
// reads a table in primary-key order, MongoDB with --param sort=_id) the
// rows come in the bundle's order, in which each key is one contiguous run,
// as the Redis importer needs them.

// cellKind is what a layout column holds.
type cellKind int

const (
	cellBytes cellKind = iota // large_binary: BSON Binary (subtype 0), LONGBLOB
	cellText                  // large_utf8: BSON String, ASCII VARCHAR
	cellFloat                 // float64: BSON Double, DOUBLE (with a text companion)
	cellInt                   // int64: BSON Int64, BIGINT
)

type layoutCol struct {
	name     string
	kind     cellKind
	nullable bool
}

// redisLayout is one of the two Redis layouts.
type redisLayout struct {
	name   string        // options.layout
	object string        // the Redis dataset's object
	suffix string        // of the table or collection name: redis_db<N><suffix>
	schema *arrow.Schema // the Redis layout's Arrow schema
	cols   []layoutCol
}

var keyspaceLayout = &redisLayout{
	name: redistype.LayoutName, object: "keyspace", schema: redistype.Schema,
	cols: []layoutCol{
		{"key", cellBytes, false}, {"type", cellText, false}, {"field", cellBytes, true},
		{"value", cellBytes, true}, {"score", cellFloat, true}, {"index", cellInt, true},
		{"stream_id", cellText, true}, {"elements", cellInt, true},
		{"expire_at_ms", cellInt, true}, {"seq", cellInt, false},
	},
}

var streamStateLayout = &redisLayout{
	name: redistype.GroupsLayoutName, object: redistype.GroupsObject, suffix: "_stream_state", schema: redistype.GroupsSchema,
	cols: []layoutCol{
		{"key", cellBytes, false}, {"row", cellText, false}, {"group", cellBytes, true},
		{"consumer", cellBytes, true}, {"id", cellText, true}, {"count", cellInt, true},
		{"max_deleted_id", cellText, true},
	},
}

var redisLayouts = []*redisLayout{keyspaceLayout, streamStateLayout}

const redisEngine = "redis"

// marker is how a table (its COMMENT) or a collection (an index's name)
// says which layout it holds: "imbundle:redis-keyspace-v1".
func (l *redisLayout) marker() string { return "imbundle:" + l.name }

// word is the layout's name without its version: "redis-keyspace".
func (l *redisLayout) word() string { return strings.TrimSuffix(l.name, "-v1") }

// layoutOfDataset returns the layout of a Redis dataset, or nil for a
// dataset that is in neither (a newer layout): no rule applies to it.
func layoutOfDataset(ds *spec.Dataset) *redisLayout {
	if ds.Kind != spec.KindKeyspace {
		return nil
	}
	switch ds.Options["layout"] {
	case redistype.LayoutName, "":
		if len(ds.Columns) == redistype.NumCols {
			return keyspaceLayout
		}
	case redistype.GroupsLayoutName:
		return streamStateLayout
	}
	return nil
}

// emptyStreamState reports a stream-state dataset without rows (a
// database without streams): it converts to nothing, so that a Redis
// database that holds tables or collections (§11.7, §11.8) goes back as
// those alone, with no empty redis_dbN_stream_state beside them.
func emptyStreamState(ds *spec.Dataset, l *redisLayout) bool {
	return l == streamStateLayout && ds.Rows == 0
}

// objectName is the table or collection of a Redis database: redis_db0,
// redis_db0_stream_state.
func (l *redisLayout) objectName(db string) string { return "redis_db" + db + l.suffix }

// dbOfName is the Redis database number a table or collection name
// carries (redis_db3 -> 3); a renamed object gives database 0, which the
// target URL or --db-map may change as for any dataset.
func (l *redisLayout) dbOfName(name string) string {
	if m := dbName.FindStringSubmatch(name); m != nil && m[2] == l.suffix {
		return m[1]
	}
	return "0"
}

var dbName = regexp.MustCompile(`^redis_db(0|[1-9][0-9]*)(|_stream_state)$`)

// readCells reads row i of a record in the layout's columns (cols[k] is
// the record's column for layout column k), as the Arrow types say.
func readCells(rec arrow.RecordBatch, cols []int, i int, out []cell) error {
	for k, c := range cols {
		a := rec.Column(c)
		if a.IsNull(i) {
			out[k] = cell{null: true}
			continue
		}
		switch v := a.(type) {
		case *array.LargeBinary:
			out[k] = cell{b: v.Value(i)}
		case *array.Binary:
			out[k] = cell{b: v.Value(i)}
		case *array.LargeString:
			out[k] = cell{b: []byte(v.Value(i))}
		case *array.String:
			out[k] = cell{b: []byte(v.Value(i))}
		case *array.Float64:
			out[k] = cell{f: v.Value(i)}
		case *array.Int64:
			out[k] = cell{i: v.Value(i)}
		default:
			return fmt.Errorf("column %s: unexpected array %T", rec.ColumnName(c), a)
		}
	}
	return nil
}

// redisRecord builds record batches in a Redis layout.
type redisRecord struct {
	l  *redisLayout
	rb *array.RecordBuilder
}

func newRedisRecord(l *redisLayout) *redisRecord {
	return &redisRecord{l: l, rb: array.NewRecordBuilder(memory.DefaultAllocator, l.schema)}
}

func (r *redisRecord) append(cells []cell) {
	for k, c := range cells {
		appendCell(r.rb.Field(k), c)
	}
}

// ordinals numbers a dataset's rows across its parts, from 0 in part
// order: offsets[p] is part p's first.
func ordinals(ds *spec.Dataset) []int64 {
	var n int64
	out := make([]int64, len(ds.Parts))
	for i, p := range ds.Parts {
		out[i] = n
		n += p.Rows
	}
	return out
}

// orderedParts checks, before anything is read, that the parts of a table
// or collection to be read back into a Redis layout hold increasing
// ordinals, part after part (each part's rows are checked as they are
// converted: ordinalOrder). parse reads one key-range bound.
func orderedParts(ds *spec.Dataset, parse func(string) (int64, bool)) error {
	last := int64(-1) << 62
	for i, p := range ds.Parts {
		if p.KeyRange == nil || len(p.KeyRange.First) != 1 || len(p.KeyRange.Last) != 1 {
			if p.Rows == 0 {
				continue
			}
			return fmt.Errorf("part %d has no key range", i)
		}
		first, ok1 := parse(p.KeyRange.First[0])
		end, ok2 := parse(p.KeyRange.Last[0])
		if !ok1 || !ok2 {
			return fmt.Errorf("part %d: key range %v..%v is not of ordinals", i, p.KeyRange.First, p.KeyRange.Last)
		}
		if first <= last || end < first {
			return fmt.Errorf("part %d holds ordinals %d..%d after %d", i, first, end, last)
		}
		last = end
	}
	return nil
}

// ordinalOrder checks that a part's rows come in increasing ordinal order,
// as the forward rule wrote them: each Redis key must arrive as one run.
type ordinalOrder struct {
	last int64
	seen bool
}

func (o *ordinalOrder) next(ord int64) error {
	if o.seen && ord <= o.last {
		return fmt.Errorf("row with ordinal %d comes after %d: the rows are not in the order the conversion wrote them", ord, o.last)
	}
	o.last, o.seen = ord, true
	return nil
}

// redisDataset is the Redis dataset a table or collection converts back
// into: the bundle's name, parts and digest, the layout's columns, the
// database its name carries.
func redisDataset(ds *spec.Dataset, l *redisLayout) *spec.Dataset {
	return &spec.Dataset{Name: ds.Name, Source: ds.Source, Kind: spec.KindKeyspace,
		Namespace: l.dbOfName(ds.Object), Object: l.object,
		Columns: bundle.ColumnsOf(l.schema), Options: map[string]string{"layout": l.name},
		Rows: ds.Rows, Parts: ds.Parts, Digest: ds.Digest}
}

// converting is a Records that converts each batch of in with fn, skipping
// batches left empty (every row rejected).
type converting struct {
	in Records
	fn func(arrow.RecordBatch) (arrow.RecordBatch, error)
}

func (c *converting) Next() (arrow.RecordBatch, error) {
	for {
		rec, err := c.in.Next()
		if err != nil {
			return nil, err
		}
		out, err := c.fn(rec)
		if err != nil {
			return nil, err
		}
		if out.NumRows() > 0 {
			return out, nil
		}
		out.Release()
	}
}

// schemaKeyOnly lets the conversion of a table or collection without
// stored parts (no rows) still write its schema key (§11.7, §11.8): it
// becomes one converted part that reads nothing, so that the way back
// gives the object back, empty.
func schemaKeyOnly(c *Conversion, ds *spec.Dataset) {
	if len(ds.Parts) > 0 || c.Dataset == nil {
		return
	}
	c.Whole = true
	c.Dataset.Parts = []spec.Part{{Path: "(no stored part: the schema key only)"}}
}
