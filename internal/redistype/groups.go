package redistype

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/imbundle/imbundle/bundle"
)

// The stream-state dataset (SPEC.md §8.7) carries what a stream holds
// beside its entries: entries-added and max-deleted-entry-id, consumer
// groups, their consumers and pending entries. It is a dataset of its own,
// beside the keyspace dataset of the same database, so that the keyspace
// layout (and every bundle written before) stays as it was: a reader that
// does not know this layout leaves the dataset out and says so, rather than
// misreading rows of a new kind as stream entries.
const GroupsLayoutName = "redis-stream-state-v1"

// GroupsObject is the dataset's object name; its dataset is named
// DatasetName(db) + "." + GroupsObject.
const GroupsObject = "stream-state"

// Row kinds of the stream-state dataset.
const (
	RowStream   = "stream"   // id = last-generated-id, count = entries-added, max_deleted_id
	RowGroup    = "group"    // group, id = last-delivered-id, count = entries-read (NULL: unknown)
	RowConsumer = "consumer" // group, consumer
	RowPending  = "pending"  // group, consumer, id = entry ID, count = delivery count
)

// Columns of the stream-state layout.
const (
	GColKey = iota
	GColRow
	GColGroup
	GColConsumer
	GColID
	GColCount
	GColMaxDeleted
	GNumCols
)

// GroupsSchema is the Arrow schema of a stream-state dataset. Every column
// is digested: idle times and delivery times, which move with the clock,
// are not carried.
var GroupsSchema = arrow.NewSchema([]arrow.Field{
	{Name: "key", Type: bundle.Bytes},
	{Name: "row", Type: bundle.Text},
	{Name: "group", Type: bundle.Bytes, Nullable: true},
	{Name: "consumer", Type: bundle.Bytes, Nullable: true},
	{Name: "id", Type: bundle.Text, Nullable: true},
	{Name: "count", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "max_deleted_id", Type: bundle.Text, Nullable: true},
}, nil)

// NoCount marks a NULL count (entries-read unknown to the server).
const NoCount int64 = -1

// GroupsBuilder appends stream-state rows.
type GroupsBuilder struct {
	Target  int64
	MaxRows int

	rb         *array.RecordBuilder
	key        *array.BinaryBuilder
	row        *array.BinaryBuilder
	group      *array.BinaryBuilder
	consumer   *array.BinaryBuilder
	id         *array.BinaryBuilder
	count      *array.Int64Builder
	maxDeleted *array.BinaryBuilder
	bytes      int64
	rows       int
}

// NewGroupsBuilder returns a builder cutting batches at target bytes.
func NewGroupsBuilder(target int64) *GroupsBuilder {
	rb := array.NewRecordBuilder(memory.DefaultAllocator, GroupsSchema)
	return &GroupsBuilder{
		Target:     target,
		rb:         rb,
		key:        rb.Field(GColKey).(*array.BinaryBuilder),
		row:        rb.Field(GColRow).(*array.LargeStringBuilder).BinaryBuilder,
		group:      rb.Field(GColGroup).(*array.BinaryBuilder),
		consumer:   rb.Field(GColConsumer).(*array.BinaryBuilder),
		id:         rb.Field(GColID).(*array.LargeStringBuilder).BinaryBuilder,
		count:      rb.Field(GColCount).(*array.Int64Builder),
		maxDeleted: rb.Field(GColMaxDeleted).(*array.LargeStringBuilder).BinaryBuilder,
	}
}

// Full reports whether the pending rows have reached Target bytes.
func (b *GroupsBuilder) Full() bool {
	return b.bytes >= b.Target || (b.MaxRows > 0 && b.rows >= b.MaxRows)
}

// Flush returns the pending rows as a record batch (nil when there are
// none). The caller releases it.
func (b *GroupsBuilder) Flush() arrow.RecordBatch {
	if b.rows == 0 {
		return nil
	}
	b.bytes, b.rows = 0, 0
	return b.rb.NewRecordBatch()
}

// Release frees the builder's memory.
func (b *GroupsBuilder) Release() { b.rb.Release() }

// nonNil keeps an empty name (Redis allows "" as a group or consumer)
// apart from NULL.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func appendOpt(a *array.BinaryBuilder, v []byte) {
	if v == nil {
		a.AppendNull()
	} else {
		a.Append(v)
	}
}

func (b *GroupsBuilder) add(key []byte, kind string, group, consumer []byte, id string, count int64, maxDeleted string) {
	b.key.Append(key)
	b.row.AppendString(kind)
	appendOpt(b.group, group)
	appendOpt(b.consumer, consumer)
	if id == "" {
		b.id.AppendNull()
	} else {
		b.id.AppendString(id)
	}
	if count == NoCount {
		b.count.AppendNull()
	} else {
		b.count.Append(count)
	}
	if maxDeleted == "" {
		b.maxDeleted.AppendNull()
	} else {
		b.maxDeleted.AppendString(maxDeleted)
	}
	b.rows++
	b.bytes += int64(len(key)+len(group)+len(consumer)+len(id)+len(maxDeleted)) + 64
}

// Stream appends a stream's row: its last generated ID, entries-added and
// max-deleted-entry-id (NoCount and "" where the server has none: < 7.0).
func (b *GroupsBuilder) Stream(key []byte, lastID string, entriesAdded int64, maxDeleted string) {
	b.add(key, RowStream, nil, nil, lastID, entriesAdded, maxDeleted)
}

// Group appends a consumer group.
func (b *GroupsBuilder) Group(key, group []byte, lastDelivered string, entriesRead int64) {
	b.add(key, RowGroup, nonNil(group), nil, lastDelivered, entriesRead, "")
}

// Consumer appends a consumer of a group.
func (b *GroupsBuilder) Consumer(key, group, consumer []byte) {
	b.add(key, RowConsumer, nonNil(group), nonNil(consumer), "", NoCount, "")
}

// Pending appends a pending entry of a group.
func (b *GroupsBuilder) Pending(key, group, consumer []byte, id string, deliveries int64) {
	b.add(key, RowPending, nonNil(group), nonNil(consumer), id, deliveries, "")
}

// GroupRows gives typed access to a stream-state record batch.
type GroupRows struct {
	N          int
	key        bundle.VarLen
	row        bundle.VarLen
	group      bundle.VarLen
	consumer   bundle.VarLen
	id         bundle.VarLen
	count      *array.Int64
	maxDeleted bundle.VarLen
}

// CheckGroupsSchema reports whether s is the stream-state layout.
func CheckGroupsSchema(s *arrow.Schema) error {
	if s.NumFields() != GNumCols {
		return fmt.Errorf("stream-state layout has %d columns, this dataset %d (a newer imbundle wrote it?)", GNumCols, s.NumFields())
	}
	for i, f := range GroupsSchema.Fields() {
		g := s.Field(i)
		if g.Name != f.Name || !bundle.SameValues(g.Type.String(), f.Type.String()) {
			return fmt.Errorf("stream-state column %d is %s %s, expected %s %s", i, g.Name, g.Type, f.Name, f.Type)
		}
	}
	return nil
}

// NewGroupRows checks rec's schema and wraps it.
func NewGroupRows(rec arrow.RecordBatch) (*GroupRows, error) {
	if err := CheckGroupsSchema(rec.Schema()); err != nil {
		return nil, err
	}
	r := &GroupRows{N: int(rec.NumRows())}
	var ok [GNumCols]bool
	r.key, ok[0] = bundle.AsVarLen(rec.Column(GColKey))
	r.row, ok[1] = bundle.AsVarLen(rec.Column(GColRow))
	r.group, ok[2] = bundle.AsVarLen(rec.Column(GColGroup))
	r.consumer, ok[3] = bundle.AsVarLen(rec.Column(GColConsumer))
	r.id, ok[4] = bundle.AsVarLen(rec.Column(GColID))
	r.count, ok[5] = rec.Column(GColCount).(*array.Int64)
	r.maxDeleted, ok[6] = bundle.AsVarLen(rec.Column(GColMaxDeleted))
	for i, b := range ok {
		if !b {
			return nil, fmt.Errorf("stream-state column %d has an unexpected array type", i)
		}
	}
	return r, nil
}

func (r *GroupRows) Key(i int) []byte      { return r.key.Value(i) }
func (r *GroupRows) Row(i int) string      { return string(r.row.Value(i)) }
func (r *GroupRows) Group(i int) []byte    { return r.group.Value(i) }
func (r *GroupRows) Consumer(i int) []byte { return r.consumer.Value(i) }
func (r *GroupRows) ID(i int) string {
	if r.id.IsNull(i) {
		return ""
	}
	return string(r.id.Value(i))
}
func (r *GroupRows) MaxDeleted(i int) string {
	if r.maxDeleted.IsNull(i) {
		return ""
	}
	return string(r.maxDeleted.Value(i))
}

// Count is the row's count, NoCount when NULL.
func (r *GroupRows) Count(i int) int64 {
	if r.count.IsNull(i) {
		return NoCount
	}
	return r.count.Value(i)
}

// Check reports a row that the stream-state layout cannot hold.
func (r *GroupRows) Check(i int) error {
	need := func(ok bool, what string) error {
		if !ok {
			return fmt.Errorf("stream-state row of kind %q for key %q lacks %s (damaged or hand-made bundle?)", r.Row(i), r.Key(i), what)
		}
		return nil
	}
	switch r.Row(i) {
	case RowStream:
		return need(r.ID(i) != "", "the last generated ID")
	case RowGroup:
		return need(!r.group.IsNull(i) && r.ID(i) != "", "the group name or last-delivered ID")
	case RowConsumer:
		return need(!r.group.IsNull(i) && !r.consumer.IsNull(i), "the group or consumer name")
	case RowPending:
		return need(!r.group.IsNull(i) && !r.consumer.IsNull(i) && r.ID(i) != "" && r.Count(i) != NoCount, "the group, consumer, entry ID or delivery count")
	}
	return fmt.Errorf("stream-state row kind %q for key %q is not stream, group, consumer or pending", r.Row(i), r.Key(i))
}
