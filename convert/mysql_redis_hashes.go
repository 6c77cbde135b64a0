package convert

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/mysqltype"
	"github.com/imbundle/imbundle/internal/redistype"
	"github.com/imbundle/imbundle/spec"
)

// The default mapping from a MySQL table to Redis (SPEC.md §11.7): one hash
// per row, named <table>:<primary key>, whose fields are the row's
// non-NULL columns as exact text, and one schema key
// imbundle:table:<table> holding the table's description. Why text: a
// hash field is a byte string, and the text of §11.6's string cast is
// exact for every column type (the way back parses it into the column's
// Arrow type, redis_hashes_mysql.go); bytes stay bytes.

const ruleTableToHashes = "mysql-table to redis-hashes v1"

// rowBatchBytes is where the conversion cuts its record batches (between
// keys, as the Redis exporter does).
const rowBatchBytes = 4 << 20

// hashColumn is one column of the table as a hash field.
type hashColumn struct {
	name string
	col  int // index in the record
	raw  int // its #raw companion, -1 if none
}

// textable reports whether castSource renders the Arrow type as text.
func textable(t string) bool {
	switch t {
	case "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float32", "float64",
		"large_utf8", "utf8", "large_binary", "binary", "date32":
		return true
	}
	for _, p := range []string{"decimal(", "decimal128(", "decimal256(", "timestamp[", "duration["} {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return false
}

func tableToHashes(ds *spec.Dataset, src *spec.Source, d *DatasetRule) (*Conversion, error) {
	if ds.Object == "" {
		return nil, nil // no table name to name its keys after
	}
	prefix := rowsPrefix(ds.Object)
	schemaKey := string(escapeKeyPart([]byte(SchemaKeyTable), []byte(ds.Object)))
	c := &Conversion{Rule: ruleTableToHashes, Source: convertedSource(src, redisEngine),
		Dataset: &spec.Dataset{Name: ds.Name, Source: ds.Source, Kind: spec.KindKeyspace, Namespace: "0", Object: ds.Object,
			Columns: bundle.ColumnsOf(redistype.Schema),
			Options: map[string]string{"layout": redistype.LayoutName, OptRowsPrefix: string(prefix), OptSchemaKey: schemaKey},
			Rows:    ds.Rows, Parts: ds.Parts, Digest: ds.Digest},
	}
	// A mapping's filter leaves rows out; an entry that would change the
	// fields is refused: the way back rebuilds the table its schema key
	// describes, the source's.
	var filter *rowFilter
	env := newRowEnv(ds)
	if d != nil {
		other := *d
		other.Filter = ""
		if other.changesFields() {
			c.Refused = append(c.Refused, fmt.Sprintf("%s: the %s rule takes a filter only: no rename, drop, compute, cast, defaults or unnest (the way back rebuilds the table as the source has it)", d.Where(), ruleTableToHashes))
		}
	}
	if d != nil && d.Filter != "" {
		f, err := newRowFilter(d, env)
		if err != nil {
			c.Refused = append(c.Refused, err.Error())
		}
		filter = f
	}
	var cols []hashColumn
	byName := map[string]int{}
	for i, col := range ds.Columns {
		byName[col.Name] = i
	}
	for i, col := range ds.Columns {
		if col.Metadata[mysqltype.MetaRawOf] != "" {
			continue
		}
		if !textable(col.Type) {
			c.Refused = append(c.Refused, fmt.Sprintf("column %s (%s): no exact text for Arrow type %s", col.Name, nativeOf(col), col.Type))
			continue
		}
		hc := hashColumn{name: col.Name, col: i, raw: -1}
		if rc := col.Metadata[mysqltype.MetaRawColumn]; rc != "" {
			if j, ok := byName[rc]; ok {
				hc.raw = j
			}
		}
		cols = append(cols, hc)
	}
	var key []hashColumn
	for _, k := range ds.PrimaryKey {
		for _, hc := range cols {
			if hc.name == k {
				key = append(key, hc)
			}
		}
	}
	keyNote := "the primary key's values"
	if len(ds.PrimaryKey) == 0 {
		keyNote = "the row's ordinal in the dataset (the table has no primary key)"
	}
	c.Notes = []string{
		fmt.Sprintf("a hash per row, key %s<%s, each escaped (\\ and : by a \\), joined by :>; into Redis database 0 unless --db-map moves it", prefix, keyNote),
		"fields: every non-NULL column by name, its value as exact text (integers and decimals exact, floats the shortest text of their bits, dates and times as MySQL prints them, a zero date its own text, JSON as stored, bytes as they are); a row of NULLs only is a reject",
		fmt.Sprintf("the string %s holds the table's description (columns, primary key, DDL) for the way back", schemaKey),
		"schema objects (views, triggers, routines) are not carried; a table without rows writes its schema key only, so that the way back creates it empty",
	}
	if filter != nil {
		c.Notes = append(c.Notes, fmt.Sprintf("rows where %q is false are left out (%s)", d.Filter, d.position("filter")))
	}
	offsets := ordinals(ds)
	desc := describe(ds)
	if ds.Object == reservedObject {
		c.Refused = append(c.Refused, fmt.Sprintf("a table named %s: its keys would share the prefix %s: of the schema keys; leave it out (--datasets, or skip: true in a mapping)", reservedObject, reservedObject))
	}
	if len(desc) > MaxSchemaKey {
		c.Refused = append(c.Refused, fmt.Sprintf("the table's description is %d bytes, more than the %d a schema key the Redis exporter lists may hold", len(desc), MaxSchemaKey))
	}
	c.records = func(in Records, part int, reject func(Reject) error) Records {
		b := redistype.NewBuilder(rowBatchBytes)
		var row int64
		if part == 0 { // before any row, so that a table without rows writes it too
			b.StringKey([]byte(schemaKey), desc, redistype.NoExpiry)
		}
		var k, scratch []byte
		texts := make([][]byte, len(cols))
		var vals rowVals // the filter's binding of this part's rows
		return &flushing{in: in, b: b, row: func(rec arrow.RecordBatch) (func(int) error, error) {
			return func(i int) error {
				ord := offsets[part] + row
				row++
				if filter != nil {
					keep, err := filter.keep(&vals, rec, i, ord)
					if err != nil {
						return reject(Reject{Row: row - 1, Reason: fmt.Sprintf("the filter at %s fails on this row: %v", d.position("filter"), err), Values: rowValues(rec, i)})
					}
					if !keep {
						return reject(Reject{Row: row - 1, Filtered: true, Reason: "left out by the filter at " + d.position("filter")})
					}
				}
				n := 0
				var why string
				scratch = scratch[:0]
				for j, hc := range cols {
					var t []byte
					var null bool
					var w string
					t, scratch, null, w = columnText(rec, hc, i, scratch)
					if w != "" && why == "" {
						why = fmt.Sprintf("column %s: %s", hc.name, w)
					}
					texts[j] = nil
					if !null {
						texts[j] = t
						n++
					}
				}
				if why == "" && n == 0 {
					why = "every column is NULL: a hash needs a field"
				}
				k = append(k[:0], prefix...)
				if len(key) == 0 {
					k = strconv.AppendInt(k, ord, 10)
				}
				for j, hc := range key {
					if j > 0 {
						k = append(k, ':')
					}
					var t []byte
					t, scratch, _, _ = columnText(rec, hc, i, scratch)
					k = escapeKeyPart(k, t)
				}
				if why != "" {
					return reject(Reject{Row: row - 1, Key: []string{string(k)}, Reason: why, Values: rowValues(rec, i)})
				}
				var seq int64
				for j, hc := range cols {
					if texts[j] != nil {
						b.HashField(k, []byte(hc.name), texts[j], redistype.NoExpiry, seq)
						seq++
					}
				}
				b.KeyRow(k, redistype.Hash, seq, "", redistype.NoExpiry)
				return nil
			}, nil
		}}
	}
	schemaKeyOnly(c, ds)
	return c, nil
}

// columnText is row i of a column as hash field text, appended to buf
// where it is not the column's own bytes: NULL when both the column and
// its #raw companion are; a zero date is its raw text. The common types
// are formatted here without allocating; the others as castSource does.
func columnText(rec arrow.RecordBatch, hc hashColumn, i int, buf []byte) (text, out []byte, null bool, why string) {
	a := rec.Column(hc.col)
	if a.IsNull(i) {
		if hc.raw >= 0 && !rec.Column(hc.raw).IsNull(i) {
			if v, ok := bundle.AsVarLen(rec.Column(hc.raw)); ok {
				return v.Value(i), buf, false, ""
			}
		}
		return nil, buf, true, ""
	}
	start := len(buf)
	switch v := a.(type) {
	case *array.LargeBinary, *array.Binary, *array.LargeString, *array.String:
		vl, _ := bundle.AsVarLen(v)
		return vl.Value(i), buf, false, ""
	case *array.Int8, *array.Int16, *array.Int32, *array.Int64:
		buf = strconv.AppendInt(buf, intOf(v, i), 10)
	case *array.Uint8, *array.Uint16, *array.Uint32, *array.Uint64:
		buf = strconv.AppendUint(buf, uintOf(v, i), 10)
	default:
		s, _, _, why := castSource(a, i)
		buf = append(buf, s...)
		return buf[start:], buf, false, why
	}
	return buf[start:], buf, false, ""
}
