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

// A mapping entry with keys (SPEC.md §11.9) turns the string keys of a
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
	fields   []string         // the record's fields in order: merge_by, then by first appearance (captures, then the value)
	capField [][]int          // per pattern, the field of each capture
	valField []int            // per pattern, the field of its value (-1: a hash pattern)
	valType  []string         // per pattern
	hash     []map[string]int // per hash pattern, the field of each hash field taken (nil: a string pattern)
	captured []bool           // per field: a capture (else a value)
	typ      []string         // per value field, its type
	merge    []int            // the merge_by fields
	jsonText bool             // json values stay their text (MySQL), else BSON (keyValue)
}

func newKeysMap(d *DatasetRule, jsonText bool) *keysMap {
	m := &keysMap{d: d, jsonText: jsonText}
	idx := map[string]int{}
	add := func(name string, capture bool, typ string) int {
		if i, ok := idx[name]; ok {
			return i
		}
		idx[name] = len(m.fields)
		m.fields = append(m.fields, name)
		m.captured = append(m.captured, capture)
		m.typ = append(m.typ, typ)
		return idx[name]
	}
	for _, f := range d.MergeBy {
		m.merge = append(m.merge, add(f, true, ""))
	}
	for i, kp := range d.patterns {
		var caps []int
		for _, c := range kp.caps {
			caps = append(caps, add(c, true, ""))
		}
		m.capField = append(m.capField, caps)
		if v := d.Keys[i].Value; v != nil {
			m.valField = append(m.valField, add(v.Field, false, v.Type))
			m.valType = append(m.valType, v.Type)
			m.hash = append(m.hash, nil)
			continue
		}
		hf := map[string]int{}
		for _, f := range sortedKeys(d.Keys[i].Fields) {
			hf[f] = add(f, false, d.Keys[i].Fields[f])
		}
		m.valField = append(m.valField, -1)
		m.valType = append(m.valType, "")
		m.hash = append(m.hash, hf)
	}
	return m
}

// hasHash reports whether a pattern takes hash keys: their rows may span
// parts, so the conversion reads the dataset whole.
func (m *keysMap) hasHash() bool {
	for _, h := range m.hash {
		if h != nil {
			return true
		}
	}
	return false
}

// keysRule starts the conversion of a keyspace dataset by an entry's keys
// (SPEC.md §11.9) for a target engine, which sets its dataset and
// records; a dataset the entry cannot apply to is refused in it.
func keysRule(ds *spec.Dataset, src *spec.Source, d *DatasetRule, rule, engine string) (*Conversion, *keysMap, *keyRows) {
	m := newKeysMap(d, engine == mysqltype.Engine)
	c := &Conversion{Rule: rule, Source: convertedSource(src, engine), keys: true, Whole: len(d.MergeBy) > 0 || m.hasHash()}
	kr, err := newKeyRows(ds)
	if layoutOfDataset(ds) != keyspaceLayout || err != nil {
		c.Refused = append(c.Refused, fmt.Sprintf("%s: keys apply to the keyspace of a Redis database (SPEC.md §8.3), not to %s", d.position("keys"), ds.Name))
		kr = &keyRows{}
	}
	c.Notes = append(c.Notes, fmt.Sprintf("string and hash keys whose names match %d pattern(s) are records (%s): captures are String fields, values parsed by their declared type; a key no pattern matches is counted as filtered", len(d.Keys), d.position("keys")))
	switch {
	case len(d.MergeBy) > 0:
		c.Notes = append(c.Notes, fmt.Sprintf("keys with the same %v are one record: the whole dataset is read as one part and sorted by them (on disk past the sort's memory)", d.MergeBy))
	case c.Whole:
		c.Notes = append(c.Notes, "a hash key's rows may span parts: the whole dataset is read as one part")
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
		if len(m.merge) > 0 {
			return &mergedRecords{m: m, rd: newKeyReader(m, kr), in: in, reject: reject, sink: newSink(), spill: c.Spill, rec: newRecord(m)}
		}
		return &keyRecords{m: m, rd: newKeyReader(m, kr), in: in, reject: reject, sink: newSink(), rec: newRecord(m)}
	}
}

// keyRows are the columns of a keyspace layout batch a keys conversion
// reads (SPEC.md §8.2).
type keyRows struct {
	key, typ, field, value, elements, expire int
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
	}{{"key", &k.key}, {"type", &k.typ}, {"field", &k.field}, {"value", &k.value}, {"elements", &k.elements}, {"expire_at_ms", &k.expire}} {
		i, ok := at[c.name]
		if !ok {
			return nil, fmt.Errorf("the keyspace dataset has no column %s (SPEC.md §8.2)", c.name)
		}
		*c.to = i
	}
	return k, nil
}

// contribution is one matched key: what it gives its record.
type contribution struct {
	pattern int
	row     int64 // the key row's number (in the part, or in the dataset for a Whole conversion)
	key     []byte
	caps    [][]byte
	pairs   []valuePair // a string key's value, or a hash key's fields taken
}

// valuePair is one value of a key for record field `field`, as stored.
type valuePair struct {
	field int
	raw   []byte
}

// keyOutcome is what becomes of one row.
type keyOutcome int

const (
	keyNotRow   keyOutcome = iota // an element row: nothing to do yet
	keyMatched                    // c is filled
	keyFiltered                   // no pattern matches: counted, left out
	keyRejected                   // matched, but cannot be a record: why says
)

// maxHashRecord bounds the fields one hash key gathers (MongoDB's document
// limit): a bigger one is a reject, and memory stays bounded.
const maxHashRecord = 16 << 20

// keyReader reads the keys of a keyspace layout row by row. A string key
// is its key row alone; a hash key's element rows come before its key row
// (in earlier batches or parts, SPEC.md §8.3), so the fields a hash pattern
// takes are gathered, copied, until the key row.
type keyReader struct {
	m     *keysMap
	kr    *keyRows
	run   []byte // the key whose rows are being read
	inRun bool
	pat   int // the run's pattern, -1 for none
	pairs []valuePair
	arena []byte
	why   string // why the hash being gathered is a reject
}

func newKeyReader(m *keysMap, kr *keyRows) *keyReader { return &keyReader{m: m, kr: kr} }

// read classifies row i of rec. c's slices alias rec's buffers and the
// reader's, until the next call.
func (r *keyReader) read(rec arrow.RecordBatch, i int, c *contribution) (keyOutcome, string) {
	m, kr := r.m, r.kr
	key := bytesAt(rec.Column(kr.key), i)
	if !r.inRun || !bytes.Equal(key, r.run) {
		r.start(key)
	}
	if rec.Column(kr.elements).IsNull(i) {
		r.element(rec, i)
		return keyNotRow, ""
	}
	r.inRun = false // the key row ends the run
	pat := r.pat
	if pat < 0 {
		return keyFiltered, ""
	}
	typ := string(bytesAt(rec.Column(kr.typ), i))
	want := string(redistype.String)
	if m.hash[pat] != nil {
		want = string(redistype.Hash)
	}
	if typ != want {
		return keyRejected, fmt.Sprintf("key %s matches pattern %q but is a %s: the pattern takes %s keys", quoteValue(key), m.d.Keys[pat].Pattern, typ, want)
	}
	if !rec.Column(kr.expire).IsNull(i) {
		return keyRejected, fmt.Sprintf("key %s has an expiry (expire_at_ms %s), which a record does not carry", quoteValue(key), strings.TrimSpace(rec.Column(kr.expire).ValueStr(i)))
	}
	c.caps = m.d.patterns[pat].match(key, c.caps)
	for k, capture := range c.caps {
		if !utf8.Valid(capture) {
			return keyRejected, fmt.Sprintf("key %s: capture {%s} is not UTF-8 text", quoteValue(key), m.d.patterns[pat].caps[k])
		}
	}
	if r.why != "" {
		return keyRejected, r.why
	}
	c.pattern, c.key = pat, key
	if m.hash[pat] != nil {
		c.pairs = append(c.pairs[:0], r.pairs...)
		return keyMatched, ""
	}
	value := bytesAt(rec.Column(kr.value), i)
	if _, why := keyValue(m.valType[pat], value, m.jsonText); why != "" {
		return keyRejected, fmt.Sprintf("key %s (field %s, %s): %s", quoteValue(key), m.d.Keys[pat].Value.Field, m.valType[pat], why)
	}
	c.pairs = append(c.pairs[:0], valuePair{m.valField[pat], value})
	return keyMatched, ""
}

// start begins the run of a key: which pattern it takes.
func (r *keyReader) start(key []byte) {
	r.run, r.inRun, r.pat = append(r.run[:0], key...), true, -1
	r.pairs, r.arena, r.why = r.pairs[:0], r.arena[:0], ""
	for p, kp := range r.m.d.patterns {
		if kp.match(key, nil) != nil {
			r.pat = p
			return
		}
	}
}

// element gathers one hash field for a hash pattern; other element rows
// wait for their key row, which says what becomes of them.
func (r *keyReader) element(rec arrow.RecordBatch, i int) {
	if r.pat < 0 || r.m.hash[r.pat] == nil || r.why != "" || string(bytesAt(rec.Column(r.kr.typ), i)) != string(redistype.Hash) {
		return
	}
	field, value := bytesAt(rec.Column(r.kr.field), i), bytesAt(rec.Column(r.kr.value), i)
	f, ok := r.m.hash[r.pat][string(field)]
	if !ok {
		r.why = fmt.Sprintf("key %s: hash field %s is not among the fields of pattern %q", quoteValue(r.run), quoteValue(field), r.m.d.Keys[r.pat].Pattern)
		return
	}
	if _, why := keyValue(r.m.typ[f], value, r.m.jsonText); why != "" {
		r.why = fmt.Sprintf("key %s (field %s, %s): %s", quoteValue(r.run), r.m.fields[f], r.m.typ[f], why)
		return
	}
	if len(r.arena)+len(value) > maxHashRecord {
		r.why = fmt.Sprintf("key %s: its fields pass 16 MiB, more than one record holds", quoteValue(r.run))
		return
	}
	start := len(r.arena)
	r.arena = append(r.arena, value...)
	r.pairs = append(r.pairs, valuePair{f, r.arena[start:len(r.arena):len(r.arena)]})
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
	for _, p := range c.pairs {
		v, _ := keyValue(r.m.typ[p.field], p.raw, r.m.jsonText) // checked when read
		put(p.field, v)
	}
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
