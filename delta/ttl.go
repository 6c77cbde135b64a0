package delta

import (
	"encoding/binary"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/imbundle/imbundle/spec"
)

// ttlSlack is how far a Redis key's or hash field's absolute expiry may
// move between two exports and still count as the same TTL: the exporter
// computes it from PTTL and its own clock (SPEC.md §8.3).
const ttlSlack = 2000 // milliseconds

// ttls are the expiry columns of a Redis keyspace dataset, which the
// digest leaves out (they move with the clock) but a delta must see
// change: a session whose TTL was refreshed is a changed key.
type ttls struct {
	key, field int // column indexes, -1 when absent
}

func ttlColumns(ds *spec.Dataset, schema *arrow.Schema) ttls {
	t := ttls{-1, -1}
	if ds.Kind != spec.KindKeyspace || ds.Options["layout"] != "redis-keyspace-v1" {
		return t
	}
	if idx := schema.FieldIndices("expire_at_ms"); len(idx) == 1 {
		t.key = idx[0]
	}
	if idx := schema.FieldIndices("field_expire_at_ms"); len(idx) == 1 {
		t.field = idx[0]
	}
	return t
}

// expiry is an entity's TTLs: the key's expiry (if it has one) and the
// count and sum of its fields' expiries.
type expiry struct {
	has    bool
	at     int64
	fields int64
	sum    int64
}

const expiryBytes = 1 + 8 + 8 + 8

func (t ttls) of(rec arrow.RecordBatch, i int, e *expiry) {
	if t.key >= 0 {
		if c := rec.Column(t.key).(*array.Int64); c.IsValid(i) {
			e.has, e.at = true, max(e.at, c.Value(i))
		}
	}
	if t.field >= 0 {
		if c := rec.Column(t.field).(*array.Int64); c.IsValid(i) {
			e.fields++
			e.sum += c.Value(i)
		}
	}
}

func (e expiry) append(b []byte) []byte {
	has := byte(0)
	if e.has {
		has = 1
	}
	b = append(b, has)
	b = binary.BigEndian.AppendUint64(b, uint64(e.at))
	b = binary.BigEndian.AppendUint64(b, uint64(e.fields))
	return binary.BigEndian.AppendUint64(b, uint64(e.sum))
}

func readExpiry(b []byte) expiry {
	return expiry{has: b[0] == 1, at: int64(binary.BigEndian.Uint64(b[1:])), fields: int64(binary.BigEndian.Uint64(b[9:])), sum: int64(binary.BigEndian.Uint64(b[17:]))}
}

func (e *expiry) merge(o expiry) {
	if o.has {
		e.has, e.at = true, max(e.at, o.at)
	}
	e.fields += o.fields
	e.sum += o.sum
}

// same reports whether two entities' TTLs agree within ttlSlack.
func (e expiry) same(o expiry) bool {
	if e.has != o.has || e.fields != o.fields {
		return false
	}
	if e.has && abs(e.at-o.at) > ttlSlack {
		return false
	}
	return abs(e.sum-o.sum) <= ttlSlack*max(e.fields, 1)
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
