package convert

import (
	"bytes"
	"encoding/json"
	"fmt"

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
