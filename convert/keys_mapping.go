package convert

import "fmt"

// KeyPattern is one entry of a mapping entry's keys list (SPEC.md §11.7):
// the Redis keys whose names match Pattern become records (or parts of
// records, with merge_by) whose fields are the pattern's captures and the
// key's value.
type KeyPattern struct {
	Pattern string    `yaml:"pattern"`
	Value   *KeyValue `yaml:"value"`
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
	if d.Skip {
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
	valued := map[string]int{}
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
		if k.Value == nil {
			return d.errorAt(at, "pattern %q needs value: {field: NAME, type: integer|float|json|bytes|string}", k.Pattern)
		}
		switch f := k.Value.Field; {
		case !isFieldName(f):
			return d.errorAt(at+".value", "value field %q: want a field name (letters, digits, _)", f)
		case f == "_id":
			return d.errorAt(at+".value.field", "a value field named _id: the record's _id is made by the rule")
		case captured[f]:
			return d.errorAt(at+".value.field", "value field %s is also a capture", f)
		}
		if !valueTypes[k.Value.Type] {
			return d.errorAt(at+".value.type", "value type %q: want integer, float, json, bytes or string", k.Value.Type)
		}
		if j, ok := valued[k.Value.Field]; ok && d.Keys[j].Value.Type != k.Value.Type {
			return d.errorAt(at+".value.type", "field %s is %s here and %s in keys[%d]", k.Value.Field, k.Value.Type, d.Keys[j].Value.Type, j)
		}
		valued[k.Value.Field] = i
		d.patterns = append(d.patterns, kp)
	}
	return nil
}
