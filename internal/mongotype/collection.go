package mongotype

import (
	"encoding/json"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// Keys of spec.Dataset.Options for a collection (SPEC.md §9). Values are
// canonical Extended JSON, so every BSON type in an option (a validator's
// Decimal128, a collation's strength as Int32) comes back as it was.
const (
	OptType    = "mongodb.type"    // "collection" or "timeseries"
	OptOptions = "mongodb.options" // listCollections' options document
	OptIndexes = "mongodb.indexes" // JSON array of listIndexes specs without v and ns
)

// Collection is what the importer needs besides the documents to recreate a
// collection: its type, its creation options and its indexes.
type Collection struct {
	Type    string
	Options bson.Raw   // may be empty
	Indexes []bson.Raw // in listIndexes order, _id_ included
}

// ToOptions encodes c for spec.Dataset.Options.
func (c Collection) ToOptions() (map[string]string, error) {
	m := map[string]string{OptType: c.Type}
	if len(c.Options) > 0 {
		js, err := bson.MarshalExtJSON(c.Options, true, false)
		if err != nil {
			return nil, fmt.Errorf("collection options: %w", err)
		}
		m[OptOptions] = string(js)
	}
	parts := make([]string, 0, len(c.Indexes))
	for _, ix := range c.Indexes {
		js, err := bson.MarshalExtJSON(ix, true, false)
		if err != nil {
			return nil, fmt.Errorf("index %s: %w", IndexName(ix), err)
		}
		parts = append(parts, string(js))
	}
	m[OptIndexes] = "[" + strings.Join(parts, ",") + "]"
	return m, nil
}

// CollectionFromOptions decodes what ToOptions encoded.
func CollectionFromOptions(m map[string]string) (Collection, error) {
	c := Collection{Type: m[OptType]}
	if c.Type == "" {
		c.Type = "collection"
	}
	if js := m[OptOptions]; js != "" {
		if err := bson.UnmarshalExtJSON([]byte(js), true, &c.Options); err != nil {
			return c, fmt.Errorf("option %s: %w", OptOptions, err)
		}
	}
	if js := m[OptIndexes]; js != "" {
		var list []json.RawMessage
		if err := json.Unmarshal([]byte(js), &list); err != nil {
			return c, fmt.Errorf("option %s: %w", OptIndexes, err)
		}
		for i, ix := range list {
			var raw bson.Raw
			if err := bson.UnmarshalExtJSON(ix, true, &raw); err != nil {
				return c, fmt.Errorf("option %s, index #%d: %w", OptIndexes, i, err)
			}
			c.Indexes = append(c.Indexes, raw)
		}
	}
	return c, nil
}

// CleanIndexSpec drops the fields of a listIndexes spec that createIndexes
// refuses or that name the old namespace (v, ns), keeping the others in
// their order.
func CleanIndexSpec(ix bson.Raw) (bson.Raw, error) {
	return without(ix, "v", "ns")
}

// IndexName is an index spec's name.
func IndexName(ix bson.Raw) string {
	s, _ := ix.Lookup("name").StringValueOK()
	return s
}

// IsIDIndex reports the _id index, which every collection has by itself.
func IsIDIndex(ix bson.Raw) bool { return IndexName(ix) == "_id_" }

// IsTTL reports a TTL index: the server deletes documents older than
// expireAfterSeconds as soon as it exists.
func IsTTL(ix bson.Raw) bool {
	_, err := ix.LookupErr("expireAfterSeconds")
	return err == nil
}

// Validation options are applied after the load (collMod), so documents
// that predate a validator on the source still load.
var validationKeys = []string{"validator", "validationLevel", "validationAction"}

// SplitOptions divides collection options into those given to create and
// those applied by collMod once the documents are in; either is nil when
// there are none.
func SplitOptions(opts bson.Raw) (create, validation bson.Raw, err error) {
	if len(opts) == 0 {
		return nil, nil, nil
	}
	create, err = without(opts, validationKeys...)
	if err != nil {
		return nil, nil, err
	}
	validation, err = only(opts, validationKeys...)
	return create, validation, err
}

func without(doc bson.Raw, drop ...string) (bson.Raw, error) {
	return filter(doc, func(k string) bool {
		for _, d := range drop {
			if k == d {
				return false
			}
		}
		return true
	})
}

func only(doc bson.Raw, keep ...string) (bson.Raw, error) {
	return filter(doc, func(k string) bool {
		for _, d := range keep {
			if k == d {
				return true
			}
		}
		return false
	})
}

func filter(doc bson.Raw, keep func(string) bool) (bson.Raw, error) {
	els, err := doc.Elements()
	if err != nil {
		return nil, err
	}
	idx, out := bsoncore.AppendDocumentStart(nil)
	kept := 0
	for _, el := range els {
		if keep(el.Key()) {
			out = append(out, el...)
			kept++
		}
	}
	if kept == 0 {
		return nil, nil // nothing left: no options to send
	}
	out, err = bsoncore.AppendDocumentEnd(out, idx)
	return bson.Raw(out), err
}
