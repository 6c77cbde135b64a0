package redis

import (
	"bytes"
	"strings"

	"github.com/imbundle/imbundle/convert"
	"github.com/imbundle/imbundle/spec"
)

// keySelection is the part of a database that one converted dataset holds
// (SPEC.md §11.7, §11.8): the tables of a MySQL database, or the
// collections of a MongoDB one, share Redis database 0, so verify reads
// each one's keys only, the keys under its prefix and its schema key.
type keySelection struct {
	prefix, schemaKey []byte
}

// selectionOf is ds's selection, or nil for a dataset that is a whole
// database (every dataset the exporter writes).
func selectionOf(ds *spec.Dataset) *keySelection {
	p, k := ds.Options[convert.OptRowsPrefix], ds.Options[convert.OptSchemaKey]
	if p == "" && k == "" {
		return nil
	}
	return &keySelection{prefix: []byte(p), schemaKey: []byte(k)}
}

// has reports whether the selection holds key (a nil selection holds all).
func (k *keySelection) has(key []byte) bool {
	return k == nil || (len(k.prefix) > 0 && bytes.HasPrefix(key, k.prefix)) || bytes.Equal(key, k.schemaKey)
}

// pattern is the SCAN MATCH pattern of the keys under the prefix: the
// prefix with its glob characters escaped, then *. The schema key is not
// under it and is read by name; the selection filters the keys again.
func (k *keySelection) pattern() string {
	if len(k.prefix) == 0 {
		return ""
	}
	var b strings.Builder
	for _, c := range k.prefix {
		if strings.IndexByte(`*?[]\`, c) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String() + "*"
}
