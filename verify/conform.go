package verify

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/spec"
)

// conform brings rows read back from a target to the representation of an
// older bundle's columns, so that their digests compare: a format 1 bundle
// holds every MySQL time as microseconds where an exporter now reads
// seconds or milliseconds for a column of lower precision. Coarser units
// scale up exactly; nothing else is converted (text and bytes of either
// offset width digest alike, bundle.SameValues). The result must be
// released; it is rec, retained, when nothing changed.
func conform(rec arrow.RecordBatch, cols []spec.Column) (arrow.RecordBatch, error) {
	if int(rec.NumCols()) != len(cols) {
		rec.Retain()
		return rec, nil // CheckComparable names the difference
	}
	var arrs []arrow.Array
	var fields []arrow.Field
	for i, f := range rec.Schema().Fields() {
		scaled, err := rescale(rec.Column(i), cols[i].Type)
		if err != nil {
			for _, a := range arrs {
				a.Release()
			}
			return nil, fmt.Errorf("column %s: %w", f.Name, err)
		}
		if scaled == nil {
			continue
		}
		if arrs == nil {
			arrs = make([]arrow.Array, rec.NumCols())
			fields = append([]arrow.Field(nil), rec.Schema().Fields()...)
		}
		arrs[i] = scaled
		fields[i].Type = scaled.DataType()
	}
	if arrs == nil {
		rec.Retain()
		return rec, nil
	}
	for i := range arrs {
		if arrs[i] == nil {
			arrs[i] = rec.Column(i)
			arrs[i].Retain()
		}
	}
	md := rec.Schema().Metadata()
	out := array.NewRecordBatch(arrow.NewSchema(fields, &md), arrs, rec.NumRows())
	for _, a := range arrs {
		a.Release()
	}
	return out, nil
}

// rescale returns a converted to the temporal type spelled want, when a is
// the same type in a coarser unit; nil when a needs no conversion.
func rescale(a arrow.Array, want string) (arrow.Array, error) {
	var to arrow.DataType
	var from arrow.TimeUnit
	switch t := a.DataType().(type) {
	case *arrow.TimestampType:
		from = t.Unit
		for _, u := range units {
			if c := (&arrow.TimestampType{Unit: u, TimeZone: t.TimeZone}); c.String() == want {
				to = c
			}
		}
	case *arrow.DurationType:
		from = t.Unit
		for _, u := range units {
			if c := (&arrow.DurationType{Unit: u}); c.String() == want {
				to = c
			}
		}
	}
	if to == nil || a.DataType().String() == want {
		return nil, nil
	}
	toUnit := to.(arrow.TemporalWithUnit).TimeUnit()
	if toUnit < from {
		return nil, fmt.Errorf("the target reads %s, finer than the bundle's %s", a.DataType(), want)
	}
	mul := int64(1)
	for u := from; u < toUnit; u++ {
		mul *= 1000
	}
	vals := arrow.Int64Traits.CastFromBytes(a.Data().Buffers()[1].Bytes())[a.Data().Offset():][:a.Len()]
	b := array.NewBuilder(memory.DefaultAllocator, to)
	defer b.Release()
	b.Reserve(a.Len())
	for i, v := range vals {
		switch {
		case a.IsNull(i):
			b.AppendNull()
		case to.ID() == arrow.TIMESTAMP:
			b.(*array.TimestampBuilder).Append(arrow.Timestamp(v * mul))
		default:
			b.(*array.DurationBuilder).Append(arrow.Duration(v * mul))
		}
	}
	return b.NewArray(), nil
}

var units = []arrow.TimeUnit{arrow.Second, arrow.Millisecond, arrow.Microsecond, arrow.Nanosecond}

// conformed wraps a reader of target rows with conform.
func conformed(cols []spec.Column, fn func(arrow.RecordBatch) error) func(arrow.RecordBatch) error {
	return func(rec arrow.RecordBatch) error {
		c, err := conform(rec, cols)
		if err != nil {
			return err
		}
		defer c.Release()
		if err := bundle.CheckComparable(c.Schema(), cols); err != nil {
			return fmt.Errorf("target schema differs: %w", err)
		}
		return fn(c)
	}
}
