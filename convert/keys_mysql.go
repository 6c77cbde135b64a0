package convert

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/mysqltype"
	"github.com/imbundle/imbundle/spec"
)

// Keys into MySQL (SPEC.md §11.9) go into a table that exists on the
// target, as the application created it: its columns are read as §11.3
// reads them, each record field into the column of its name, converted by
// §11.3's value rules. There is no table of the rule's own: a record's
// fields are whatever the patterns say, and a table that does not exist
// stops the import before anything is written.

func keysToMySQL(ds *spec.Dataset, src *spec.Source, d *DatasetRule) (*Conversion, error) {
	c, m, kr := keysRule(ds, src, d, ruleKeysMySQL, mysqltype.Engine)
	// The dataset as plan shows it before the table is read: the fields
	// as columns of their own types.
	var cols []spec.Column
	for f, name := range m.fields {
		t := map[string]string{valueInteger: "int64", valueFloat: "float64", valueBytes: "large_binary"}[m.typ[f]]
		if t == "" {
			t = "large_utf8" // captures, string, json
		}
		cols = append(cols, spec.Column{Name: name, Type: t, Nullable: true})
	}
	c.Dataset = &spec.Dataset{Name: ds.Name, Source: ds.Source, Kind: spec.KindTable,
		Namespace: ds.Namespace, Object: keyspaceLayout.objectName(ds.Namespace), Columns: cols,
		Rows: ds.Rows, Parts: wholeParts(ds, c.Whole), Digest: ds.Digest}
	c.Notes = append(c.Notes, "into the existing table of the target's name: each field into the column of its name by §11.3's value rules; the table must exist")
	c.onto = func(into *spec.Dataset) (*Conversion, error) {
		if into == nil || into.Kind != spec.KindTable {
			return nil, fmt.Errorf("%s: keys go into an existing MySQL table, and the target has no table %s: create it first (the application's schema)", d.position("keys"), c.Dataset.Object)
		}
		oc := &Conversion{Rule: ruleKeysMySQL, Source: c.Source, keys: true, Whole: c.Whole, Notes: c.Notes, Refused: c.Refused}
		f := newFieldsInto(into, oc)
		checkKeysColumns(d, m, f, oc)
		oc.Dataset = &spec.Dataset{Name: ds.Name, Source: ds.Source, Kind: spec.KindTable, Namespace: ds.Namespace, Object: into.Object,
			Columns: into.Columns, PrimaryKey: into.PrimaryKey, DDL: into.DDL, Options: into.Options,
			Rows: ds.Rows, Parts: wholeParts(ds, c.Whole), Digest: ds.Digest}
		oc.records = recordsOf(oc, m, kr, func() recordSink {
			return &mysqlSink{m: m, f: f, cells: make([]cell, len(f.cols)), set: make([]bool, len(f.cols))}
		})
		return oc, nil
	}
	return c, nil
}

// checkKeysColumns refuses, at the entry's lines, fields the table has no
// column for or whose column cannot take the field's type, and NOT NULL
// columns no field fills.
func checkKeysColumns(d *DatasetRule, m *keysMap, f *fieldsInto, c *Conversion) {
	where := func(field int) string {
		for p, kp := range d.patterns {
			if m.valField[p] == field {
				return d.position(fmt.Sprintf("keys[%d].value.field", p))
			}
			if _, ok := m.hash[p][m.fields[field]]; ok {
				return d.position(fmt.Sprintf("keys[%d].fields.%s", p, m.fields[field]))
			}
			if kp.names[m.fields[field]] {
				return d.position(fmt.Sprintf("keys[%d].pattern", p))
			}
		}
		return d.position("merge_by")
	}
	given := map[int]bool{}
	for field, name := range m.fields {
		k, ok := f.byName[name]
		if !ok {
			c.Refused = append(c.Refused, fmt.Sprintf("%s: field %s: the table has no column %s", where(field), name, name))
			continue
		}
		given[k] = true
		col := f.cols[k]
		if col.Metadata[mysqltype.MetaGenerated] != "" {
			c.Refused = append(c.Refused, fmt.Sprintf("%s: field %s: column %s is generated, never loaded", where(field), name, name))
			continue
		}
		kind := m.typ[field]
		if kind == "" {
			kind = valueString // a capture
		}
		t := f.schema.Field(k).Type
		if !columnTakes(kind, t) {
			c.Refused = append(c.Refused, fmt.Sprintf("%s: field %s is %s, column %s (%s) does not take it", where(field), name, kind, name, nativeOf(col)))
		}
	}
	for k, col := range f.cols {
		if given[k] || f.rules[k] == nil || col.Metadata[mysqltype.MetaGenerated] != "" {
			continue
		}
		if !col.Nullable || col.Metadata[mysqltype.MetaNotNull] == "true" {
			c.Refused = append(c.Refused, fmt.Sprintf("%s: column %s is NOT NULL and no pattern gives a field %s", d.position("keys"), col.Name, col.Name))
		}
	}
}

// columnTakes says whether a column of Arrow type t takes a field of
// kind: §11.3's rules then check each value.
func columnTakes(kind string, t arrow.DataType) bool {
	switch kind {
	case valueInteger:
		return arrow.IsInteger(t.ID()) || arrow.IsFloating(t.ID()) || arrow.IsDecimal(t.ID())
	case valueFloat:
		return arrow.IsFloating(t.ID()) || arrow.IsDecimal(t.ID())
	case valueBytes:
		return arrow.TypeEqual(t, bundle.Bytes)
	}
	return arrow.TypeEqual(t, bundle.Text) || arrow.TypeEqual(t, bundle.Bytes) // string, json, captures
}

// mysqlSink makes one row of the table per record.
type mysqlSink struct {
	m     *keysMap
	f     *fieldsInto
	rb    *array.RecordBuilder
	cells []cell
	set   []bool
	n     int
	size  int64
}

func (s *mysqlSink) add(r *record) string {
	for k := range s.cells {
		s.cells[k], s.set[k] = cell{null: true}, false
	}
	for field, name := range s.m.fields {
		if !r.set[field] {
			continue
		}
		k := s.f.byName[name]
		c, why := s.f.rules[k](r.vals[field])
		if why != "" {
			return fmt.Sprintf("field %s (%s): %s", name, r.vals[field].Type, why)
		}
		s.cells[k], s.set[k] = c, true
	}
	for k, col := range s.f.cols {
		if s.set[k] || s.f.rules[k] == nil || col.Metadata[mysqltype.MetaGenerated] != "" {
			continue
		}
		if !col.Nullable || col.Metadata[mysqltype.MetaNotNull] == "true" {
			return fmt.Sprintf("no key gives field %s, and column %s is NOT NULL", col.Name, col.Name)
		}
	}
	if s.rb == nil {
		s.rb = array.NewRecordBuilder(memory.DefaultAllocator, s.f.schema)
	}
	for k := range s.cells {
		appendCell(s.rb.Field(k), s.cells[k])
		s.size += int64(len(s.cells[k].b)) + 8
	}
	s.n++
	return ""
}

func (s *mysqlSink) len() int     { return s.n }
func (s *mysqlSink) bytes() int64 { return s.size }
func (s *mysqlSink) flush() arrow.RecordBatch {
	s.n, s.size = 0, 0
	return s.rb.NewRecordBatch()
}

func (s *mysqlSink) release() {
	if s.rb != nil {
		s.rb.Release()
		s.rb = nil
	}
}
