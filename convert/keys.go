package convert

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/internal/mysqltype"
	"github.com/imbundle/imbundle/internal/redistype"
	"github.com/imbundle/imbundle/spec"
)

// A mapping entry with keys (SPEC.md §11.7) turns the string keys of a
// Redis keyspace whose names match its patterns into records: a pattern's
// captures and the key's value parsed by its declared type are the
// record's fields. With merge_by, the keys whose captures agree on those
// fields are one record (MAX_SEQ:{conversation_id} and
// MIN_SEQ:{conversation_id} -> one seq document per conversation); since
// SCAN order scatters them over the dataset's parts, such a conversion
// reads the whole dataset as one input and groups it with an external
// sort (keys_merge.go). This file holds what the two targets share: the
// record's fields and how a key row becomes a contribution to a record.

const (
	ruleKeysMongo = "redis-keys to mongodb-collection v1"
	ruleKeysMySQL = "redis-keys into existing mysql-table v1"
)

// keysMap is an entry's keys, resolved to record fields.
type keysMap struct {
	d        *DatasetRule
	fields   []string // the record's fields in order: merge_by, then by first appearance (captures, then the value)
	capField [][]int  // per pattern, the field of each capture
	valField []int    // per pattern, the field of its value
	valType  []string // per pattern
	captured []bool   // per field: a capture (else a value)
	merge    []int    // the merge_by fields
	jsonText bool     // json values stay their text (MySQL), else BSON (keyValue)
}

func newKeysMap(d *DatasetRule, jsonText bool) *keysMap {
	m := &keysMap{d: d, jsonText: jsonText}
	idx := map[string]int{}
	add := func(name string, capture bool) int {
		if i, ok := idx[name]; ok {
			return i
		}
		idx[name] = len(m.fields)
		m.fields = append(m.fields, name)
		m.captured = append(m.captured, capture)
		return idx[name]
	}
	for _, f := range d.MergeBy {
		m.merge = append(m.merge, add(f, true))
	}
	for i, kp := range d.patterns {
		var caps []int
		for _, c := range kp.caps {
			caps = append(caps, add(c, true))
		}
		m.capField = append(m.capField, caps)
		m.valField = append(m.valField, add(d.Keys[i].Value.Field, false))
		m.valType = append(m.valType, d.Keys[i].Value.Type)
	}
	return m
}

// keysRule starts the conversion of a keyspace dataset by an entry's keys
// (SPEC.md §11.7) for a target engine, which sets its dataset and
// records; a dataset the entry cannot apply to is refused in it.
func keysRule(ds *spec.Dataset, src *spec.Source, d *DatasetRule, rule, engine string) (*Conversion, *keysMap, *keyRows) {
	m := newKeysMap(d, engine == mysqltype.Engine)
	c := &Conversion{Rule: rule, Source: convertedSource(src, engine), keys: true, Whole: len(d.MergeBy) > 0}
	kr, err := newKeyRows(ds)
	if layoutOfDataset(ds) != keyspaceLayout || err != nil {
		c.Refused = append(c.Refused, fmt.Sprintf("%s: keys apply to the keyspace of a Redis database (SPEC.md §8.3), not to %s", d.position("keys"), ds.Name))
		kr = &keyRows{}
	}
	c.Notes = append(c.Notes, fmt.Sprintf("string keys whose names match %d pattern(s) are records (%s): captures are String fields, values parsed by their declared type; a key no pattern matches is counted as filtered", len(d.Keys), d.position("keys")))
	if c.Whole {
		c.Notes = append(c.Notes, fmt.Sprintf("keys with the same %v are one record: the whole dataset is read as one part and sorted by them (on disk past the sort's memory)", d.MergeBy))
	}
	return c, m, kr
}

// wholeParts is the converted dataset's parts: the bundle's, or for a Whole
// conversion one part standing for all of them.
func wholeParts(ds *spec.Dataset, whole bool) []spec.Part {
	if !whole || len(ds.Parts) == 0 {
		return ds.Parts
	}
	p := spec.Part{Path: ds.Parts[0].Path}
	if n := len(ds.Parts); n > 1 {
		p.Path += " .. " + ds.Parts[n-1].Path
	}
	for _, q := range ds.Parts {
		p.Rows += q.Rows
		p.Bytes += q.Bytes
	}
	return []spec.Part{p}
}

// recordsOf is the records function of a keys conversion.
func recordsOf(c *Conversion, m *keysMap, kr *keyRows, newSink func() recordSink) func(Records, int, func(Reject) error) Records {
	return func(in Records, part int, reject func(Reject) error) Records {
		if c.Whole {
			return &mergedRecords{m: m, kr: kr, in: in, reject: reject, sink: newSink(), spill: c.Spill, rec: newRecord(m)}
		}
		return &keyRecords{m: m, kr: kr, in: in, reject: reject, sink: newSink(), rec: newRecord(m)}
	}
}

// keyRows reads the key rows of a keyspace layout batch (SPEC.md §8.3):
// the row that closes each key's run, and for a string key its only row.
type keyRows struct {
	key, typ, value, elements, expire int
}

func newKeyRows(ds *spec.Dataset) (*keyRows, error) {
	at := map[string]int{}
	for i, c := range ds.Columns {
		at[c.Name] = i
	}
	k := &keyRows{}
	for _, c := range []struct {
		name string
		to   *int
	}{{"key", &k.key}, {"type", &k.typ}, {"value", &k.value}, {"elements", &k.elements}, {"expire_at_ms", &k.expire}} {
		i, ok := at[c.name]
		if !ok {
			return nil, fmt.Errorf("the keyspace dataset has no column %s (SPEC.md §8.2)", c.name)
		}
		*c.to = i
	}
	return k, nil
}

// contribution is one matched string key: what it gives its record.
type contribution struct {
	pattern int
	row     int64 // the key row's number (in the part, or in the dataset for a Whole conversion)
	key     []byte
	value   []byte
	caps    [][]byte
}

// keyOutcome is what becomes of one key row.
type keyOutcome int

const (
	keyNotRow   keyOutcome = iota // an element row: nothing to do
	keyMatched                    // c is filled
	keyFiltered                   // no pattern matches: counted, left out
	keyRejected                   // matched, but cannot be a record: why says
)

// read classifies row i of rec. c's slices alias rec's buffers.
func (m *keysMap) read(kr *keyRows, rec arrow.RecordBatch, i int, c *contribution) (keyOutcome, string) {
	if rec.Column(kr.elements).IsNull(i) {
		return keyNotRow, ""
	}
	key := bytesAt(rec.Column(kr.key), i)
	pat := -1
	for p, kp := range m.d.patterns {
		if caps := kp.match(key, c.caps); caps != nil {
			pat, c.caps = p, caps
			break
		}
	}
	if pat < 0 {
		return keyFiltered, ""
	}
	typ := string(bytesAt(rec.Column(kr.typ), i))
	if typ != string(redistype.String) {
		return keyRejected, fmt.Sprintf("key %s matches pattern %q but is a %s: keys patterns take string keys", quoteValue(key), m.d.Keys[pat].Pattern, typ)
	}
	if !rec.Column(kr.expire).IsNull(i) {
		return keyRejected, fmt.Sprintf("key %s has an expiry (expire_at_ms %s), which a record does not carry", quoteValue(key), strings.TrimSpace(rec.Column(kr.expire).ValueStr(i)))
	}
	for k, capture := range c.caps {
		if !utf8.Valid(capture) {
			return keyRejected, fmt.Sprintf("key %s: capture {%s} is not UTF-8 text", quoteValue(key), m.d.patterns[pat].caps[k])
		}
	}
	c.pattern, c.key, c.value = pat, key, bytesAt(rec.Column(kr.value), i)
	if _, why := keyValue(m.valType[pat], c.value, m.jsonText); why != "" {
		return keyRejected, fmt.Sprintf("key %s (field %s, %s): %s", quoteValue(key), m.d.Keys[pat].Value.Field, m.valType[pat], why)
	}
	return keyMatched, ""
}

// record gathers the contributions of one record, field by field.
type record struct {
	m    *keysMap
	vals []bson.RawValue
	set  []bool
	from []int // the contribution that set each field
	keys [][]byte
	rows []int64
	why  string // a merge conflict
}

func newRecord(m *keysMap) *record {
	return &record{m: m, vals: make([]bson.RawValue, len(m.fields)), set: make([]bool, len(m.fields)), from: make([]int, len(m.fields))}
}

func (r *record) reset() {
	for k := range r.set {
		r.set[k] = false
	}
	r.keys, r.rows, r.why = r.keys[:0], r.rows[:0], ""
}

// add merges one contribution; a field two keys give (a value twice, or a
// capture with two texts) is a conflict that rejects the record.
func (r *record) add(c *contribution) {
	n := len(r.keys)
	r.keys = append(r.keys, append([]byte(nil), c.key...))
	r.rows = append(r.rows, c.row)
	put := func(f int, v bson.RawValue) {
		if r.set[f] {
			if r.m.captured[f] && bytes.Equal(r.vals[f].Value, v.Value) {
				return
			}
			if r.why == "" {
				r.why = fmt.Sprintf("merge conflict: keys %s and %s both give field %s", quoteValue(r.keys[r.from[f]]), quoteValue(c.key), r.m.fields[f])
			}
			return
		}
		r.vals[f], r.set[f], r.from[f] = v, true, n
	}
	for k, f := range r.m.capField[c.pattern] {
		put(f, stringValue(c.caps[k]))
	}
	v, _ := keyValue(r.m.valType[c.pattern], c.value, r.m.jsonText) // checked when read
	put(r.m.valField[c.pattern], v)
}

// rejectOf is the reject of a whole record.
func (r *record) rejectOf(why string) Reject {
	vals := map[string]any{}
	var names []string
	for _, k := range r.keys {
		names = append(names, string(k))
	}
	vals["keys"] = strings.Join(names, ", ")
	for f, name := range r.m.fields {
		if r.set[f] && r.m.captured[f] {
			vals[name] = r.vals[f].StringValue()
		}
	}
	return Reject{Row: r.rows[0], Key: r.mergeKeyText(), Reason: why, Values: vals}
}

// mergeKeyText is the record's key as text: its merge_by captures, or its
// one key's name.
func (r *record) mergeKeyText() []string {
	if len(r.m.merge) == 0 {
		return []string{string(r.keys[0])}
	}
	var out []string
	for _, f := range r.m.merge {
		out = append(out, r.vals[f].StringValue())
	}
	return out
}

// mergeKey encodes the merge_by captures of c so that byte order is the
// order of the texts, field by field (0x00 is escaped as 0x00 0xff, each
// field ends with 0x00 0x01).
func (m *keysMap) mergeKey(dst []byte, c *contribution) []byte {
	for _, f := range m.merge {
		for k, cf := range m.capField[c.pattern] {
			if cf != f {
				continue
			}
			for _, b := range c.caps[k] {
				dst = append(dst, b)
				if b == 0 {
					dst = append(dst, 0xff)
				}
			}
			dst = append(dst, 0, 1)
		}
	}
	return dst
}

// bytesAt is row i of a bytes or text column.
func bytesAt(a arrow.Array, i int) []byte {
	switch a := a.(type) {
	case *array.LargeBinary:
		return a.Value(i)
	case *array.Binary:
		return a.Value(i)
	case *array.LargeString:
		return []byte(a.Value(i))
	case *array.String:
		return []byte(a.Value(i))
	}
	return nil
}
