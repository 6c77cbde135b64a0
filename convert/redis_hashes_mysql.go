package convert

import (
	"bytes"
	"database/sql/driver"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/mysqltype"
	"github.com/imbundle/imbundle/internal/redistype"
	"github.com/imbundle/imbundle/spec"
)

// The way back of §11.7 (SPEC.md): a Redis keyspace whose manifest entry
// lists schema keys of tables (imbundle:table:<table>, §8.1) becomes those
// tables, exactly as they were described, their rows from the hashes named
// <table>:<key>. Each field's text is parsed by the MySQL exporter's own
// value decoder (internal/mysqltype), as if the server had sent it, so a
// value comes back in the column's Arrow type, with its #raw companion for
// a zero date, exactly as an export of the table would read it.

const ruleHashesToTable = "redis-hashes to mysql-table v1"

// hashTable is one listed table: how its hashes become rows.
type hashTable struct {
	desc    *description
	prefix  []byte
	schema  *arrow.Schema
	cols    []mysqltype.Column // the columns but #raw companions, in table order
	specs   []spec.Column      // the same, as described
	byField map[string]int     // field name -> index in cols
	key     []int              // primary key columns, indexes in cols
}

// hashesToTables is the conversion of a keyspace that lists tables, or nil
// for one that lists none (it keeps §11.5's table redis_dbN).
func hashesToTables(ds *spec.Dataset, src *spec.Source) *Conversion {
	keys, descs, errs := schemaKeysOf(ds, SchemaKeyTable)
	if len(keys) == 0 {
		return nil
	}
	c := &Conversion{Rule: ruleHashesToTable, Source: convertedSource(src, mysqltype.Engine), Refused: errs}
	owners := &keyOwners{}
	owners.otherKind(ds, SchemaKeyCollection)
	var tables []*hashTable
	for i, d := range descs {
		if d == nil {
			continue
		}
		t, err := newHashTable(keys[i], d)
		if err != nil {
			c.Refused = append(c.Refused, err.Error())
			continue
		}
		tables = append(tables, t)
		owners.add(t.prefix)
	}
	if len(tables) == 0 {
		return c
	}
	for i, t := range tables {
		out := &Conversion{Rule: ruleHashesToTable, Source: c.Source,
			Dataset: &spec.Dataset{Name: ds.Name + "/" + t.desc.Object, Source: ds.Source, Kind: spec.KindTable,
				Namespace: t.desc.Namespace, Object: t.desc.Object, Columns: t.desc.Columns, PrimaryKey: t.desc.PrimaryKey,
				DDL: t.desc.DDL, Options: t.desc.Options, Rows: ds.Rows, Parts: ds.Parts, Digest: ds.Digest},
			Notes: []string{fmt.Sprintf("table %s as %s describes it; a row per hash %s..., each field's text parsed into its column's type exactly (a field that is no column, text that does not parse, a missing NOT NULL column: reject)", t.desc.Object, keys[i], t.prefix)},
		}
		owns := i == 0 // the first table's output rejects the keys no table owns
		if owns {
			out.Notes = append(out.Notes, "a key of no listed table is a reject naming it: import such a keyspace into Redis, or leave the key out")
		}
		out.records = t.records(i, owns, owners)
		c.Split = append(c.Split, out)
	}
	c.Dataset = c.Split[0].Dataset
	c.Notes = []string{fmt.Sprintf("the keyspace lists %d table(s): %d dataset(s) of the target", len(tables), len(tables))}
	return c
}

func newHashTable(key string, d *description) (*hashTable, error) {
	if want := string(escapeKeyPart([]byte(SchemaKeyTable), []byte(d.Object))); want != key || d.Kind != spec.KindTable || d.Object == reservedObject {
		return nil, fmt.Errorf("schema key %q describes %s %q, whose schema key is %q", key, d.Kind, d.Object, want)
	}
	t := &hashTable{desc: d, prefix: rowsPrefix(d.Object), byField: map[string]int{}}
	var fields []arrow.Field
	for _, col := range d.Columns {
		at, err := arrowType(col.Type)
		if err != nil {
			return nil, fmt.Errorf("schema key %q: column %s: %v", key, col.Name, err)
		}
		md := map[string]string{}
		for k, v := range col.Metadata {
			md[k] = v
		}
		if col.Native != "" {
			md[bundle.MetaNative] = col.Native
		}
		fields = append(fields, arrow.Field{Name: col.Name, Type: at, Nullable: col.Nullable, Metadata: arrow.MetadataFrom(md)})
	}
	t.schema = arrow.NewSchema(fields, nil)
	targets, err := mysqltype.Targets(t.schema)
	if err != nil {
		return nil, fmt.Errorf("schema key %q: %v", key, err)
	}
	for i, tg := range targets {
		if tg.RawOf != "" {
			continue
		}
		mc := mysqltype.Column{Name: tg.Field.Name, ColumnType: tg.Native, Nullable: tg.Field.Nullable, Kind: tg.Kind}
		switch dt := tg.Field.Type.(type) {
		case *arrow.Decimal128Type:
			mc.Precision, mc.Scale = int(dt.Precision), int(dt.Scale)
		case *arrow.Decimal256Type:
			mc.Precision, mc.Scale = int(dt.Precision), int(dt.Scale)
		}
		t.byField[mc.Name] = len(t.cols)
		t.cols = append(t.cols, mc)
		t.specs = append(t.specs, d.Columns[i])
	}
	if _, err := mysqltype.NewDecoder(t.cols, t.schema, memory.DefaultAllocator); err != nil {
		return nil, fmt.Errorf("schema key %q: %v", key, err)
	}
	for _, k := range d.PrimaryKey {
		i, ok := t.byField[k]
		if !ok {
			return nil, fmt.Errorf("schema key %q: primary key column %s is not a column", key, k)
		}
		t.key = append(t.key, i)
	}
	return t, nil
}

// records converts one part: the hashes of this table become rows; the
// keys of no listed table are rejects when owns is set.
func (t *hashTable) records(self int, owns bool, owners *keyOwners) func(in Records, part int, reject func(Reject) error) Records {
	return func(in Records, part int, reject func(Reject) error) Records {
		dec, _ := mysqltype.NewDecoder(t.cols, t.schema, memory.DefaultAllocator)
		probe, _ := mysqltype.NewDecoder(t.cols, t.schema, memory.DefaultAllocator)
		vals := make([]driver.Value, len(t.cols))
		refuse := func(r *keyRun, why string) error {
			v := map[string]any{}
			for i := 0; i+1 < len(r.fields); i += 2 {
				v[string(r.fields[i])] = string(r.fields[i+1])
			}
			return reject(Reject{Row: r.row, Key: []string{string(r.key)}, Reason: why, Values: v})
		}
		return &keyRuns{in: in,
			collect: func(key []byte, _ redistype.Type) bool { return owners.mineOnly(key, self) },
			ready: func(last bool) arrow.RecordBatch {
				if dec.Rows() > 0 && (last || dec.Bytes() >= rowBatchBytes) {
					return dec.Flush()
				}
				return nil
			},
			onKey: func(r *keyRun) error {
				take, why := owners.mine(r, self, owns, redistype.Hash, "table")
				if !take {
					if why != "" {
						return refuse(r, why)
					}
					return nil
				}
				if why := t.values(r, vals); why != "" {
					return refuse(r, why)
				}
				if err := probe.Append(vals); err != nil {
					probe.Release()
					probe, _ = mysqltype.NewDecoder(t.cols, t.schema, memory.DefaultAllocator)
					return refuse(r, fmt.Sprintf("hash %q: field %s", r.key, strings.TrimPrefix(err.Error(), "column ")))
				}
				if probe.Rows() >= 1024 {
					probe.Flush().Release()
				}
				return dec.Append(vals)
			}}
	}
}

// values parses a hash's fields into the decoder's values, or says why
// it cannot: a field of no column, a missing NOT NULL column, text that is
// no number, a key that is not the one its key fields make.
func (t *hashTable) values(r *keyRun, vals []driver.Value) string {
	clear(vals)
	texts := make([][]byte, len(vals))
	for i := 0; i+1 < len(r.fields); i += 2 {
		name, text := string(r.fields[i]), r.fields[i+1]
		c, ok := t.byField[name]
		if !ok {
			return fmt.Sprintf("hash %q: field %q is no column of table %s", r.key, name, t.desc.Object)
		}
		v, why := fieldValue(&t.cols[c], t.specs[c], text)
		if why != "" {
			return fmt.Sprintf("hash %q: field %s: %s", r.key, name, why)
		}
		vals[c], texts[c] = v, text
	}
	for c, col := range t.specs {
		if vals[c] == nil && (!col.Nullable || col.Metadata[mysqltype.MetaNotNull] == "true") {
			return fmt.Sprintf("hash %q: no field %s, and column %s is NOT NULL", r.key, col.Name, col.Name)
		}
	}
	want := append([]byte(nil), t.prefix...)
	if len(t.key) == 0 {
		rest := r.key[len(t.prefix):]
		if _, err := strconv.ParseUint(string(rest), 10, 63); err != nil {
			return fmt.Sprintf("hash %q: the table has no primary key, and %q is no row ordinal", r.key, rest)
		}
		return ""
	}
	for j, c := range t.key {
		if j > 0 {
			want = append(want, ':')
		}
		want = escapeKeyPart(want, texts[c])
	}
	if !bytes.Equal(want, r.key) {
		return fmt.Sprintf("hash %q: its key fields make the key %q", r.key, want)
	}
	return ""
}

// fieldValue is a field's text as the driver value the MySQL decoder
// takes for the column: bytes for most, the bits of a float, a BIT's
// big-endian bytes.
func fieldValue(c *mysqltype.Column, col spec.Column, text []byte) (driver.Value, string) {
	switch c.Kind {
	case mysqltype.KindFloat32:
		f, err := strconv.ParseFloat(string(text), 32)
		if err != nil {
			return nil, fmt.Sprintf("%q is no FLOAT", text)
		}
		return float32(f), ""
	case mysqltype.KindFloat64:
		f, err := strconv.ParseFloat(string(text), 64)
		if err != nil {
			return nil, fmt.Sprintf("%q is no DOUBLE", text)
		}
		return f, ""
	case mysqltype.KindBit:
		n, err := strconv.ParseUint(string(text), 10, 64)
		if err != nil {
			return nil, fmt.Sprintf("%q is no BIT value", text)
		}
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], n)
		return b[:], ""
	case mysqltype.KindString:
		if !utf8.Valid(text) {
			return nil, "its bytes are not UTF-8, the column's text is"
		}
	}
	return text, ""
}
