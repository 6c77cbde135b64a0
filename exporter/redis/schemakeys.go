package redis

import (
	"bytes"
	"unicode/utf8"

	"github.com/imbundle/imbundle/convert"
	"github.com/imbundle/imbundle/spec"
)

// The schema keys of tables and collections kept in Redis (SPEC.md §8.1,
// §11.7, §11.8) are listed in the keyspace dataset's manifest entry, so
// that an import of the bundle into MySQL or MongoDB knows the tables and
// collections before it reads a row. The exporter reads their values
// anyway (MGET): listing them costs nothing.

// noteSchemaKey records a string key that is a schema key: its name starts
// with a schema key prefix, and name and value are UTF-8 (a manifest
// string) of at most convert.MaxSchemaKey bytes.
func (c *counters) noteSchemaKey(key, value []byte) {
	if !bytes.HasPrefix(key, []byte(convert.SchemaKeyTable)) && !bytes.HasPrefix(key, []byte(convert.SchemaKeyCollection)) {
		return
	}
	if len(value) > convert.MaxSchemaKey || !utf8.Valid(key) || !utf8.Valid(value) {
		return
	}
	c.add(func(c *counters) {
		if c.schemaKeys == nil {
			c.schemaKeys = map[string]string{}
		}
		c.schemaKeys[string(key)] = string(value)
	})
}

// SchemaKeys reports the schema keys the read of ds found
// (exporter.SchemaKeysReporter).
func (s *Source) SchemaKeys(ds *spec.Dataset) map[string]string {
	s.mu.Lock()
	c := s.counters[ds.Name]
	s.mu.Unlock()
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.schemaKeys
}
