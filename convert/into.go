package convert

import (
	"context"

	"github.com/imbundle/imbundle/spec"
)

// Shapes reads what already exists on a target: the dataset an existing
// object would export as (its columns in its engine's layout, primary key,
// DDL), or nil when there is no such object. An application that created
// its schema (OpenIM, WildfireChat) expects its rows in those columns, not
// in the default mapping's layout. The MySQL exporter implements it, so
// that an import (importer.Options.Existing) and verify --against read
// the same shape the same way.
type Shapes interface {
	Existing(ctx context.Context, ds *spec.Dataset) (*spec.Dataset, error)
}

// IntoRule builds the conversion of ds (from src) onto into, an object
// that exists on the target: the converted dataset has into's columns,
// key and DDL.
type IntoRule func(ds *spec.Dataset, src *spec.Source, into *spec.Dataset) (*Conversion, error)

var intoRules = map[pair]IntoRule{}

// RegisterInto makes r the mapping from one engine onto existing objects
// of another. It panics on a duplicate.
func RegisterInto(from, to string, r IntoRule) {
	p := pair{from, to}
	if _, dup := intoRules[p]; dup {
		panic("convert: " + from + " into existing " + to + " registered twice")
	}
	intoRules[p] = r
}

// Into returns the conversion of ds (from src) onto the existing object
// into of engine to, or nil when no rule maps onto existing objects of
// that pair (the default mapping then applies).
func Into(ds *spec.Dataset, src *spec.Source, to string, into *spec.Dataset) (*Conversion, error) {
	r := intoRules[pair{src.Engine, to}]
	if r == nil || into == nil {
		return nil, nil
	}
	return r(ds, src, into)
}

// CanInto reports whether a rule maps datasets of engine from onto
// existing objects of engine to: only then is the target asked for its
// objects' shapes.
func CanInto(from, to string) bool { return intoRules[pair{from, to}] != nil }

// WantsExisting reports whether c (of a dataset from engine from) is to be
// converted onto the target's existing object, when there is one: a rule
// maps onto existing objects of that pair, or c itself does (Onto).
func WantsExisting(c *Conversion, from, to string) bool { return c.onto != nil || CanInto(from, to) }

// Onto returns the conversion of ds (from src, converted by c) onto the
// existing object into of engine to, or nil to keep c. A conversion of
// its own onto existing objects (a keys mapping into MySQL, §11.9) may
// refuse a missing object (into nil): its records fit no table of its own.
func Onto(c *Conversion, ds *spec.Dataset, src *spec.Source, to string, into *spec.Dataset) (*Conversion, error) {
	if c.onto != nil {
		return c.onto(into)
	}
	return Into(ds, src, to, into)
}

// NeedsExisting reports whether c converts only onto an existing object
// of the target (Onto), having no layout of its own to create.
func (c *Conversion) NeedsExisting() bool { return c.onto != nil }
