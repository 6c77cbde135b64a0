package convert

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/mongotype"
	"github.com/imbundle/imbundle/internal/mysqltype"
	"github.com/imbundle/imbundle/internal/redistype"
	"github.com/imbundle/imbundle/spec"
)

// The way back of §11.9: a MongoDB collection or a MySQL table whose
// mapping entry has keys becomes Redis string keys, each pattern filled
// with a record's fields (MAX_SEQ:{conversation_id} with the value of
// max_seq), so that the forward rule gives the record back. KeysToRedis is
// the rule; keysOr wires it in front of the default rule of the pair.

const ruleKeysRedis = "records to redis-keys v1"

// KeysToRedis builds the conversion of a collection (from MongoDB) or a
// table (from MySQL) into Redis string keys by the entry's keys: for each
// record, one key per pattern whose fields the record has, its value the
// value field rendered by the pattern's type. The entry's target is the
// Redis database number.
func KeysToRedis(ds *spec.Dataset, src *spec.Source, d *DatasetRule) (*Conversion, error) {
	c := &Conversion{Rule: ruleKeysRedis, Source: convertedSource(src, redisEngine), keys: true, Whole: true}
	c.Dataset = redisDataset(ds, keyspaceLayout)
	c.Dataset.Namespace = d.Target
	if _, err := strconv.ParseUint(d.Target, 10, 31); err != nil {
		c.Refused = append(c.Refused, fmt.Sprintf("%s: into Redis, target is the database number (%q is not one)", d.position("target"), d.Target))
	}
	c.Dataset.Parts = wholeParts(ds, true)
	m := newKeysMap(d, true)
	for p, h := range m.hash {
		if h != nil {
			c.Refused = append(c.Refused, fmt.Sprintf("%s: a hash pattern has no way back into Redis yet", d.position(fmt.Sprintf("keys[%d].fields", p))))
		}
	}
	var read func(rec arrow.RecordBatch) (recordRows, error)
	switch {
	case src.Engine == mongoEngine && ds.Kind == spec.KindCollection && mongotype.CheckColumns(ds.Columns) == nil:
		read = func(rec arrow.RecordBatch) (recordRows, error) {
			rows, err := mongotype.RowsOf(rec)
			return docRows{rows}, err
		}
		c.Notes = append(c.Notes, "a key per pattern whose fields a document has (top-level fields; _id is not used)")
	case src.Engine == mysqltype.Engine && ds.Kind == spec.KindTable:
		used := map[string]bool{}
		for _, f := range m.fields {
			used[f] = true
		}
		for _, col := range ds.Columns {
			if !used[col.Name] || col.Metadata[mysqltype.MetaRawOf] != "" {
				continue
			}
			if t, err := arrowType(col.Type); err != nil || !backType(t) {
				c.Refused = append(c.Refused, fmt.Sprintf("%s: column %s (%s) has no text a key or value is made of here (integers, floats, text, bytes)", d.position("keys"), col.Name, nativeOf(col)))
			}
		}
		read = func(rec arrow.RecordBatch) (recordRows, error) { return tableRows{rec}, nil }
		c.Notes = append(c.Notes, "a key per pattern whose columns a row has (not NULL)")
	default:
		c.Refused = append(c.Refused, fmt.Sprintf("%s: keys into Redis take a MongoDB collection or a MySQL table, not %s", d.position("keys"), ds.Name))
		return c, nil
	}
	c.Notes = append(c.Notes, fmt.Sprintf("into Redis database %s as string keys without expiry; of several patterns of one value field the first builds its key; a record with a field no pattern uses, a value not of its type, or a key built twice is a reject", d.Target))
	c.records = func(in Records, part int, reject func(Reject) error) Records {
		b := &backRecords{m: m, in: in, read: read, reject: reject, seen: &redistype.KeySet{}, used: map[string]bool{}}
		for _, f := range m.fields {
			b.used[f] = true
		}
		seen := map[int]bool{}
		for p := range d.patterns {
			b.first = append(b.first, !seen[m.valField[p]])
			seen[m.valField[p]] = true
		}
		return b
	}
	return c, nil
}

// backType says whether a column of type t can fill a key or a value.
func backType(t arrow.DataType) bool {
	return arrow.IsInteger(t.ID()) || arrow.IsFloating(t.ID()) || arrow.TypeEqual(t, bundle.Text) || arrow.TypeEqual(t, bundle.Bytes)
}

// recordRows reads the records of one input batch as BSON values by field
// name.
type recordRows interface {
	len() int
	fields(i int, into map[string]bson.RawValue) string // "" or why the record cannot be read
	values(i int) (key []string, vals map[string]any)   // for a reject
}

type docRows struct{ r *mongotype.Rows }

func (d docRows) len() int { return d.r.Len() }
func (d docRows) fields(i int, into map[string]bson.RawValue) string {
	if err := d.r.Check(i); err != nil {
		return err.Error()
	}
	els, err := d.r.Doc(i).Elements()
	if err != nil {
		return err.Error()
	}
	for _, e := range els {
		if e.Key() == "_id" {
			continue
		}
		if _, dup := into[e.Key()]; dup {
			return fmt.Sprintf("field %s appears twice", e.Key())
		}
		into[e.Key()] = e.Value()
	}
	return ""
}
func (d docRows) values(i int) ([]string, map[string]any) {
	return []string{d.r.IDJSON(i)}, documentValues(d.r.Doc(i))
}

type tableRows struct{ rec arrow.RecordBatch }

func (t tableRows) len() int { return int(t.rec.NumRows()) }
func (t tableRows) fields(i int, into map[string]bson.RawValue) string {
	for c := 0; c < int(t.rec.NumCols()); c++ {
		a := t.rec.Column(c)
		if a.IsNull(i) {
			continue
		}
		var v bson.RawValue
		if n, big, fits, ok := integerAt(a, i); ok {
			if !fits {
				return fmt.Sprintf("column %s: %d is past int64", t.rec.ColumnName(c), big)
			}
			into[t.rec.ColumnName(c)] = int64Value(n)
			continue
		}
		switch a := a.(type) {
		case *array.Float32:
			v = bson.RawValue{Type: bson.TypeDouble, Value: bsoncore.AppendDouble(nil, float64(a.Value(i)))}
		case *array.Float64:
			v = bson.RawValue{Type: bson.TypeDouble, Value: bsoncore.AppendDouble(nil, a.Value(i))}
		case *array.LargeString, *array.String:
			v = stringValue(bytesAt(a, i))
		case *array.LargeBinary, *array.Binary:
			v = bson.RawValue{Type: bson.TypeBinary, Value: bsoncore.AppendBinary(nil, 0, bytesAt(a, i))}
		default:
			v = bson.RawValue{Type: bson.TypeUndefined} // refused at build if a pattern uses it; else unused
		}
		into[t.rec.ColumnName(c)] = v
	}
	return ""
}
func (t tableRows) values(i int) ([]string, map[string]any) {
	return nil, rowValues(t.rec, i)
}

func int64Value(n int64) bson.RawValue {
	return bson.RawValue{Type: bson.TypeInt64, Value: bsoncore.AppendInt64(nil, n)}
}

// backRecords turns each input record into its keys.
type backRecords struct {
	m      *keysMap
	in     Records
	read   func(arrow.RecordBatch) (recordRows, error)
	reject func(Reject) error
	seen   *redistype.KeySet
	used   map[string]bool // the fields the patterns use
	first  []bool          // the pattern is the first of its value field: the one that builds its key
	row    int64
	fields map[string]bson.RawValue
	keys   [][]byte
	vals   [][]byte
	caps   [][]byte
}

func (b *backRecords) Next() (arrow.RecordBatch, error) {
	for {
		rec, err := b.in.Next()
		if err != nil {
			return nil, err
		}
		rows, err := b.read(rec)
		if err != nil {
			return nil, err
		}
		out := redistype.NewBuilder(1 << 62)
		for i := 0; i < rows.len(); i++ {
			row := b.row
			b.row++
			why := b.record(rows, i)
			if why == "" {
				for k := range b.keys {
					if !b.seen.Add(b.keys[k]) {
						why = fmt.Sprintf("key %s is built by an earlier record too", quoteValue(b.keys[k]))
						break
					}
				}
			}
			if why != "" {
				key, vals := rows.values(i)
				if err := b.reject(Reject{Row: row, Key: key, Reason: why, Values: vals}); err != nil {
					out.Release()
					return nil, err
				}
				continue
			}
			for k := range b.keys {
				out.StringKey(b.keys[k], b.vals[k], redistype.NoExpiry)
			}
		}
		batch := out.Flush()
		out.Release()
		if batch != nil {
			return batch, nil
		}
	}
}

// record builds the keys of record i into b.keys and b.vals, or says why
// it cannot.
func (b *backRecords) record(rows recordRows, i int) string {
	if b.fields == nil {
		b.fields = map[string]bson.RawValue{}
	}
	clear(b.fields)
	if why := rows.fields(i, b.fields); why != "" {
		return why
	}
	for name, v := range b.fields {
		if !b.used[name] && v.Type != bson.TypeNull {
			return fmt.Sprintf("field %s: no pattern uses it, and a key would leave it behind", name)
		}
	}
	b.keys, b.vals = b.keys[:0], b.vals[:0]
	for p, kp := range b.m.d.patterns {
		if b.m.hash[p] != nil { // refused when the conversion is built
			continue
		}
		v, ok := b.fields[b.m.d.Keys[p].Value.Field]
		if !ok || v.Type == bson.TypeNull || !b.first[p] {
			continue
		}
		var key []byte
		complete := true
		key = append(key, kp.lits[0]...)
		for k, capName := range kp.caps {
			cv, ok := b.fields[capName]
			if !ok || cv.Type == bson.TypeNull {
				complete = false
				break
			}
			text, why := captureText(cv)
			if why != "" {
				return fmt.Sprintf("field %s: %s", capName, why)
			}
			key = append(key, text...)
			key = append(key, kp.lits[k+1]...)
		}
		if !complete {
			return fmt.Sprintf("field %s is set but pattern %q lacks a capture's field", b.m.d.Keys[p].Value.Field, kp.text)
		}
		// The key must read back into the same captures.
		b.caps = kp.match(key, b.caps)
		for k, capName := range kp.caps {
			if text, _ := captureText(b.fields[capName]); b.caps == nil || !bytes.Equal(b.caps[k], text) {
				return fmt.Sprintf("key %s would not read back by pattern %q into the same %s", quoteValue(key), kp.text, capName)
			}
		}
		val, why := backValue(b.m.valType[p], v)
		if why != "" {
			return fmt.Sprintf("field %s (%s): %s", b.m.d.Keys[p].Value.Field, b.m.valType[p], why)
		}
		b.keys = append(b.keys, key)
		b.vals = append(b.vals, val)
	}
	if len(b.keys) == 0 {
		return "no pattern's fields are all in the record"
	}
	return ""
}
