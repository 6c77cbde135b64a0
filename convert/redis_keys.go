package convert

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/internal/redistype"
	"github.com/imbundle/imbundle/spec"
)

// Tables and collections kept in Redis (SPEC.md §11.7, §11.8): one key per
// row or document, named after its table or collection and its key, plus
// one schema key per table or collection holding its description, so that
// the way back rebuilds it exactly. This file names those keys once for
// the four rules (mysql_redis_hashes.go, mongo_redis_strings.go and their
// ways back).

const (
	// SchemaKeyTable and SchemaKeyCollection start the name of a schema
	// key; the Redis exporter lists such keys in the manifest (§8.1).
	SchemaKeyTable      = "imbundle:table:"
	SchemaKeyCollection = "imbundle:collection:"
	// MaxSchemaKey is the longest schema key value the exporter lists.
	MaxSchemaKey = 1 << 20

	// Options of a converted keyspace dataset that holds one table's or
	// collection's keys in a database it may share with others: verify
	// reads only the keys under the prefix, and the schema key.
	OptRowsPrefix = "rows-prefix"
	OptSchemaKey  = "schema-key"

	descriptionFormat = "imbundle-description-v1"
)

// reservedObject is the one table or collection name whose keys would
// share the schema keys' prefix imbundle: (a composite key ('table', 'x')
// of a table imbundle would be the key imbundle:table:x, another table's
// schema key): such a table or collection is refused.
const reservedObject = "imbundle"

// namesOwnKeys reports a conversion of §11.7 or §11.8, whose keys (to
// Redis) or datasets (back) are named by the source's own table and
// collection names: a mapping's target cannot rename them.
func namesOwnKeys(c *Conversion) bool {
	return len(c.Split) > 0 && !c.keys || (c.Dataset != nil && c.Dataset.Options[OptRowsPrefix] != "")
}

// escapeKeyPart appends p to b with `\` and `:` escaped by a `\`, so that
// the parts joined by `:` split back in one way only.
func escapeKeyPart(b, p []byte) []byte {
	for _, c := range p {
		if c == '\\' || c == ':' {
			b = append(b, '\\')
		}
		b = append(b, c)
	}
	return b
}

// rowsPrefix is the prefix of every row key of object: its escaped name
// and a colon.
func rowsPrefix(object string) []byte {
	return append(escapeKeyPart(nil, []byte(object)), ':')
}

// description is the value of a schema key: the dataset as the bundle
// describes it, without its parts, rows and digest (those are the keys').
type description struct {
	Format     string            `json:"format"`
	Kind       string            `json:"kind"`
	Name       string            `json:"name"`
	Namespace  string            `json:"namespace,omitempty"`
	Object     string            `json:"object"`
	Columns    []spec.Column     `json:"columns"`
	PrimaryKey []string          `json:"primary_key,omitempty"`
	DDL        string            `json:"ddl,omitempty"`
	Options    map[string]string `json:"options,omitempty"`
}

func describe(ds *spec.Dataset) []byte {
	b, err := json.Marshal(description{Format: descriptionFormat, Kind: ds.Kind, Name: ds.Name, Namespace: ds.Namespace, Object: ds.Object,
		Columns: ds.Columns, PrimaryKey: ds.PrimaryKey, DDL: ds.DDL, Options: ds.Options})
	if err != nil {
		panic(err) // strings and maps of strings always marshal
	}
	return b
}

// parseDescription reads a schema key's value back.
func parseDescription(key, value string) (*description, error) {
	var d description
	dec := json.NewDecoder(bytes.NewReader([]byte(value)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("schema key %q does not hold a description: %v", key, err)
	}
	if d.Format != descriptionFormat {
		return nil, fmt.Errorf("schema key %q holds format %q, want %q", key, d.Format, descriptionFormat)
	}
	if d.Object == "" || len(d.Columns) == 0 {
		return nil, fmt.Errorf("schema key %q describes no object or no columns", key)
	}
	return &d, nil
}

// dataset is the description as a dataset of the bundle would be.
func (d *description) dataset() *spec.Dataset {
	return &spec.Dataset{Name: d.Name, Kind: d.Kind, Namespace: d.Namespace, Object: d.Object,
		Columns: d.Columns, PrimaryKey: d.PrimaryKey, DDL: d.DDL, Options: d.Options}
}

// keyRun is one key's rows of a keyspace part, gathered: a table row's
// hash or a document's string.
type keyRun struct {
	key    []byte
	typ    redistype.Type
	fields [][]byte // a hash's field, value, field, value, ...; a string's value
	row    int64    // the key's first row in the part
	cont   bool     // the key began in an earlier part
	open   bool     // the part ends before the key does
}

// keyRuns is the Records of a conversion that reads a keyspace part key by
// key: each key's rows are one contiguous run (§8.3), handed to onKey
// whole. The output is what onKey appended, cut by ready.
type keyRuns struct {
	in    Records
	onKey func(*keyRun) error
	// ready returns a batch when enough rows are pending, or, at the end
	// (last), whatever is pending; nil when there is nothing to hand on.
	ready func(last bool) arrow.RecordBatch
	// collect says whether a key's fields are gathered (those of the
	// output's own keys): another output's keys are only walked past.
	collect func(key []byte, typ redistype.Type) bool
	keep    bool // collect's answer for the current key
	run     keyRun
	has     bool
	row     int64
	done    bool
}

func (k *keyRuns) Next() (arrow.RecordBatch, error) {
	for {
		if out := k.ready(k.done); out != nil {
			return out, nil
		}
		if k.done {
			return nil, io.EOF
		}
		rec, err := k.in.Next()
		if err == io.EOF {
			k.done = true
			if k.has {
				k.run.open, k.has = true, false
				if err := k.onKey(&k.run); err != nil {
					return nil, err
				}
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := k.add(rec); err != nil {
			return nil, err
		}
	}
}

func (k *keyRuns) add(rec arrow.RecordBatch) error {
	rows, err := redistype.NewRows(rec)
	if err != nil {
		return err
	}
	for i := 0; i < rows.N; i++ {
		key := rows.Key(i)
		if !k.has || !bytes.Equal(key, k.run.key) {
			if k.has {
				// A key run that stops without its key row: the bundle is
				// not in the layout.
				return fmt.Errorf("key %q: its rows stop without a key row (SPEC.md §8.3)", k.run.key)
			}
			k.run = keyRun{key: append(k.run.key[:0], key...), typ: rows.Type(i), fields: k.run.fields[:0], row: k.row, cont: rows.Seq(i) > 0}
			k.has, k.keep = true, k.collect(key, rows.Type(i))
		}
		k.row++
		switch {
		case !k.keep:
		case rows.Type(i) == redistype.String:
			k.run.fields = append(k.run.fields, bytes.Clone(rows.Value(i)))
		case !rows.IsKeyRow(i) && rows.Type(i) == redistype.Hash:
			k.run.fields = append(k.run.fields, bytes.Clone(rows.Field(i)), bytes.Clone(rows.Value(i)))
		}
		if rows.IsKeyRow(i) {
			k.has = false
			if err := k.onKey(&k.run); err != nil {
				return err
			}
		}
	}
	return nil
}

// keyOwners tells, for the tables or collections a keyspace lists, whose
// a key is: a key's prefix is its escaped name up to the first unescaped
// colon (a ':' in a name is always escaped), so a key has one owner at
// most, found by one look-up.
type keyOwners struct {
	prefixes [][]byte
	byPrefix map[string]int
	// others are the prefixes of the listed objects of the other kind (a
	// keyspace may hold tables and collections): their keys are skipped,
	// to be taken by an import into the other engine.
	others map[string]bool
}

func (o *keyOwners) add(prefix []byte) {
	if o.byPrefix == nil {
		o.byPrefix = map[string]int{}
	}
	o.byPrefix[string(prefix)] = len(o.prefixes)
	o.prefixes = append(o.prefixes, prefix)
}

// otherKind records the objects of the keyspace's schema keys of prefix
// kind (the kind the conversion does not take).
func (o *keyOwners) otherKind(ds *spec.Dataset, kind string) {
	for k := range ds.SchemaKeys {
		if name, ok := strings.CutPrefix(k, kind); ok {
			if o.others == nil {
				o.others = map[string]bool{}
			}
			o.others[name+":"] = true
		}
	}
}

// ownerPrefix is key up to and with its first unescaped colon, or nil.
func ownerPrefix(key []byte) []byte {
	for i := 0; i < len(key); i++ {
		switch key[i] {
		case '\\':
			i++ // the escaped byte
		case ':':
			return key[:i+1]
		}
	}
	return nil
}

// owner is the index of the owning table or collection, -1 for none, or
// len(prefixes) for an object of the other kind; schema reports a schema
// key (of a table or a collection).
func (o *keyOwners) owner(key []byte, typ redistype.Type) (idx int, schema bool) {
	if typ == redistype.String && (bytes.HasPrefix(key, []byte(SchemaKeyTable)) || bytes.HasPrefix(key, []byte(SchemaKeyCollection))) {
		return -1, true
	}
	p := ownerPrefix(key)
	if i, ok := o.byPrefix[string(p)]; ok && p != nil {
		return i, false
	}
	if o.others[string(p)] && p != nil {
		return len(o.prefixes), false // no output's, and no reject
	}
	return -1, false
}

// mine says what output self of a keyspace's conversion does with a key
// run: take it (the key is its table's or collection's, whole, of type
// want), skip it (a schema key, another output's key, the rest of a key
// the part it began in refused), or refuse it with why. The first output
// (owns) refuses the keys no listed table or collection owns, so that each
// is one reject.
func (o *keyOwners) mine(r *keyRun, self int, owns bool, want redistype.Type, what string) (take bool, why string) {
	who, schema := o.owner(r.key, r.typ)
	switch {
	case schema:
		return false, ""
	case who < 0:
		if owns && !r.cont {
			return false, fmt.Sprintf("key %q belongs to no %s the keyspace lists: import such a keyspace into Redis, or leave the key out", r.key, what)
		}
		return false, ""
	case who != self || r.cont:
		return false, ""
	case r.open:
		return false, fmt.Sprintf("key %q goes on in the next part: a %s's key must be in one part (export with a larger --param page)", r.key, what)
	case r.typ != want:
		return false, fmt.Sprintf("key %q is a %s, not a %s", r.key, r.typ, want)
	}
	return true, ""
}

// mineOnly reports whether key may be output self's (its prefix is), so
// that the other outputs' keys are walked past without gathering them.
func (o *keyOwners) mineOnly(key []byte, self int) bool {
	return bytes.HasPrefix(key, o.prefixes[self])
}

// schemaKeysOf lists the keyspace's schema keys of one prefix, sorted, with
// their descriptions; a key whose value does not parse is an error of its
// own (the conversion is refused naming it).
func schemaKeysOf(ds *spec.Dataset, prefix string) (keys []string, descs []*description, errs []string) {
	for k := range ds.SchemaKeys {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		d, err := parseDescription(k, ds.SchemaKeys[k])
		if err != nil {
			errs = append(errs, err.Error())
		}
		descs = append(descs, d)
	}
	return keys, descs, errs
}
