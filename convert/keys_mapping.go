package convert

import "fmt"

// KeyPattern is one entry of a mapping entry's keys list (SPEC.md §11.9):
// the Redis keys whose names match Pattern become records (or parts of
// records, with merge_by) whose fields are the pattern's captures and the
// key's value.
type KeyPattern struct {
	Pattern string    `yaml:"pattern"`
	Value   *KeyValue `yaml:"value"` // a string key's value
	// Fields are a hash key's fields taken, by name, with their types:
	// each becomes the record field of its name.
	Fields map[string]string `yaml:"fields"`
}

// KeyValue says which field a string key's value goes to, parsed as which
// type.
type KeyValue struct {
	Field string `yaml:"field"`
	Type  string `yaml:"type"`
}

// The value types of a key pattern.
const (
	valueInteger = "integer"
	valueFloat   = "float"
	valueJSON    = "json"
	valueBytes   = "bytes"
	valueString  = "string"
)

var valueTypes = map[string]bool{valueInteger: true, valueFloat: true, valueJSON: true, valueBytes: true, valueString: true}

// HasKeys reports whether the entry maps Redis keys by pattern.
func (d *DatasetRule) HasKeys() bool { return d != nil && len(d.Keys) > 0 }

// checkKeys validates an entry's keys and merge_by, alone (the dataset and
// the target are checked by the rule): every error names the line.
func (d *DatasetRule) checkKeys() error {
	if len(d.Keys) == 0 {
		if len(d.MergeBy) > 0 {
			return d.errorAt("merge_by", "merge_by needs keys: it merges the records of key patterns")
		}
		return nil
	}
	if d.Skip != "" {
		return d.errorAt("keys", "an entry that skips its datasets takes nothing else")
	}
	if d.Target == "" {
		return d.errorAt("keys", "keys need target: the collection or table the records go to")
	}
	if len(d.Rename) > 0 || len(d.Drop) > 0 || d.Filter != "" || len(d.Compute) > 0 || len(d.Cast) > 0 || len(d.Defaults) > 0 || d.Unnest != nil {
		return d.errorAt("keys", "keys take no rename, drop, filter, compute, cast, defaults or unnest yet")
	}
	merge := map[string]bool{}
	for i, f := range d.MergeBy {
		if merge[f] {
			return d.errorAt(fmt.Sprintf("merge_by[%d]", i), "merge_by names %s twice", f)
		}
		merge[f] = true
	}
	captured := map[string]bool{}
	type fieldGiven struct {
		pattern int
		typ     string
	}
	valued := map[string]fieldGiven{}
	d.patterns = nil
	for i := range d.Keys {
		k := &d.Keys[i]
		at := fmt.Sprintf("keys[%d]", i)
		kp, err := parseKeyPattern(k.Pattern)
		if err != nil {
			return d.errorAt(at+".pattern", "%v", err)
		}
		for _, f := range d.MergeBy {
			if !kp.names[f] {
				return d.errorAt(at+".pattern", "pattern %q captures no {%s}: every pattern must capture the merge_by fields", k.Pattern, f)
			}
		}
		for _, c := range kp.caps {
			if c == "_id" {
				return d.errorAt(at+".pattern", "a capture named _id: the record's _id is made by the rule")
			}
			if _, ok := valued[c]; ok {
				return d.errorAt(at+".pattern", "{%s} is a value field of another pattern: a field is either captured or a value", c)
			}
			captured[c] = true
		}
		if (k.Value == nil) == (len(k.Fields) == 0) {
			return d.errorAt(at, "pattern %q needs value: {field: NAME, type: integer|float|json|bytes|string} (a string key) or fields: {NAME: TYPE, ...} (a hash key), one of them", k.Pattern)
		}
		type given struct{ field, typ, at string }
		var gives []given
		if k.Value != nil {
			gives = append(gives, given{k.Value.Field, k.Value.Type, at + ".value"})
		}
		for _, f := range sortedKeys(k.Fields) {
			gives = append(gives, given{f, k.Fields[f], at + ".fields." + f})
		}
		for _, g := range gives {
			switch {
			case !isFieldName(g.field):
				return d.errorAt(g.at, "value field %q: want a field name (letters, digits, _)", g.field)
			case g.field == "_id":
				return d.errorAt(g.at, "a value field named _id: the record's _id is made by the rule")
			case captured[g.field]:
				return d.errorAt(g.at, "value field %s is also a capture", g.field)
			case !valueTypes[g.typ]:
				return d.errorAt(g.at, "value type %q: want integer, float, json, bytes or string", g.typ)
			}
			if t, ok := valued[g.field]; ok && t.typ != g.typ {
				return d.errorAt(g.at, "field %s is %s here and %s in keys[%d]", g.field, g.typ, t.typ, t.pattern)
			}
			valued[g.field] = fieldGiven{i, g.typ}
		}
		d.patterns = append(d.patterns, kp)
	}
	return nil
}
