package convert

import "strings"

// Unnest is a mapping entry's unnest key (SPEC.md §11.6): each document
// yields one row per element of its array field Field, in array order,
// with the document's other fields repeated on each; the element's
// position (from 0) goes into the column Index when one is named. OpenIM
// 3.5+ keeps up to 100 messages in one document's msgs array, and a
// chat_logs table wants a row per message.
type Unnest struct {
	Field string `yaml:"field"` // a top-level array field of the documents
	Index string `yaml:"index"` // a column for the element's position, or ""
}

// checkUnnest checks the unnest key on its own; whether its names are the
// collection's fields and the table's columns is the rule's to check.
func (d *DatasetRule) checkUnnest() error {
	u := d.Unnest
	if u == nil {
		return nil
	}
	switch {
	case u.Field == "":
		return d.errorAt("unnest", "unnest needs field: the array field whose elements become rows")
	case strings.Contains(u.Field, "."):
		return d.errorAt("unnest.field", "unnest %s: only a top-level array field is unnested", u.Field)
	case u.Field == "_id":
		return d.errorAt("unnest.field", "unnest _id: _id is never an array")
	case strings.Contains(u.Index, "."):
		return d.errorAt("unnest.index", "unnest index %s: the index is a column of the table, a plain name", u.Index)
	}
	return nil
}
