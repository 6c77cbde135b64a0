package convert

import (
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// IndexRule is an index a mapping entry declares on the collection it
// makes (SPEC.md §11.6 indexes): an application's own unique indexes
// (OpenIM 3.5+'s user_id on user), which no source index gives.
type IndexRule struct {
	// Name is the index's name; "" is MongoDB's default name
	// (field_1_other_-1).
	Name string `yaml:"name"`
	// Fields are the key's fields in order, ascending, or descending with
	// a leading "-".
	Fields []string `yaml:"fields"`
	Unique bool     `yaml:"unique"`
	// ExpireAfterSeconds makes a TTL index: MongoDB deletes a document
	// once its date field is that many seconds old (WildfireChat's
	// mongodb.data_expire_days). Built last by the MongoDB target (§9.5).
	ExpireAfterSeconds *int64 `yaml:"expire_after_seconds"`
}

// checkIDAndIndexes checks id and indexes when the file is read.
func (d *DatasetRule) checkIDAndIndexes() error {
	if d.ID != "" && d.ID != "objectid" {
		return d.errorAt("id", "id %q: want objectid (or no id: the rule's own _id)", d.ID)
	}
	names := map[string]bool{}
	for i, ix := range d.Indexes {
		at := fmt.Sprintf("indexes[%d]", i)
		if len(ix.Fields) == 0 {
			return d.errorAt(at, "an index needs fields")
		}
		for _, f := range ix.Fields {
			if strings.TrimPrefix(f, "-") == "" {
				return d.errorAt(at+".fields", "an index field needs a name")
			}
		}
		if ix.ExpireAfterSeconds != nil && (*ix.ExpireAfterSeconds < 0 || *ix.ExpireAfterSeconds > 1<<31-1 || len(ix.Fields) != 1) {
			return d.errorAt(at+".expire_after_seconds", "a TTL index has one field and 0 to 2147483647 seconds")
		}
		n := ix.name()
		if names[n] || n == "_id_" {
			return d.errorAt(at, "two indexes named %s", n)
		}
		names[n] = true
	}
	return nil
}

// name is the index's name, MongoDB's default when none is given.
func (ix IndexRule) name() string {
	if ix.Name != "" {
		return ix.Name
	}
	var parts []string
	for _, f := range ix.Fields {
		if n, ok := strings.CutPrefix(f, "-"); ok {
			parts = append(parts, n, "-1")
		} else {
			parts = append(parts, f, "1")
		}
	}
	return strings.Join(parts, "_")
}

// declaredIndexes are the entry's indexes as index specs, in listIndexes'
// form ({key, name, unique}). has says whether the documents have a field
// of a name (dotted: nested); an index on another field, or one named as
// an index the rule made (taken), is refused at its line.
func declaredIndexes(d *DatasetRule, has func(field string) bool, taken []bson.Raw) (specs []bson.Raw, notes, refused []string) {
	if d == nil {
		return nil, nil, nil
	}
	names := map[string]bool{}
	for _, t := range taken {
		if n, ok := t.Lookup("name").StringValueOK(); ok {
			names[n] = true
		}
	}
	for i, ix := range d.Indexes {
		at := d.position(fmt.Sprintf("indexes[%d]", i))
		if names[ix.name()] {
			refused = append(refused, fmt.Sprintf("%s: index %s: the rule already makes an index of that name", at, ix.name()))
			continue
		}
		key := bsoncore.NewDocumentBuilder()
		for _, f := range ix.Fields {
			dir := int32(1)
			if n, ok := strings.CutPrefix(f, "-"); ok {
				f, dir = n, -1
			}
			if !has(f) {
				refused = append(refused, fmt.Sprintf("%s: index %s on %s: the documents have no such field", at, ix.name(), f))
			}
			key.AppendInt32(f, dir)
		}
		b := bsoncore.NewDocumentBuilder().AppendDocument("key", key.Build()).AppendString("name", ix.name())
		if ix.Unique {
			b.AppendBoolean("unique", true)
		}
		ttl := ""
		if ix.ExpireAfterSeconds != nil {
			b.AppendInt32("expireAfterSeconds", int32(*ix.ExpireAfterSeconds))
			ttl = fmt.Sprintf(", TTL %d s (documents older are deleted by MongoDB)", *ix.ExpireAfterSeconds)
		}
		specs = append(specs, bson.Raw(b.Build()))
		notes = append(notes, fmt.Sprintf("index %s on %v%s%s (%s)", ix.name(), ix.Fields, map[bool]string{true: ", unique"}[ix.Unique], ttl, at))
	}
	return specs, notes, refused
}

// refuseIDAndIndexes refuses c when d declares id or indexes and c's rule
// does not take them: ignoring them would make another collection than
// the entry says.
func refuseIDAndIndexes(c *Conversion, d *DatasetRule) {
	if c == nil || d == nil {
		return
	}
	if d.ID != "" && !c.takesID {
		c.Refused = append(c.Refused, fmt.Sprintf("%s: id applies to a MySQL table going into MongoDB (the %s rule takes none)", d.position("id"), c.Rule))
	}
	if len(d.Indexes) > 0 && !c.takesIndexes {
		c.Refused = append(c.Refused, fmt.Sprintf("%s: indexes apply to the collections of a MySQL table or of Redis keys (the %s rule takes none)", d.position("indexes"), c.Rule))
	}
}
