package convert

import (
	"fmt"
	"sync"
	"time"
	"unicode/utf16"

	"github.com/expr-lang/expr"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// The expressions of a mapping entry over documents (filter, compute on
// SPEC.md §11.3) see a document's top-level fields by name, as Go values:
// Int32 and Int64 as int, Double as float64, String as string, Boolean as
// bool, Date as a time (UTC), Null and a missing field as nil,
// sub-documents as map[string]any and arrays as []any (their values by
// the same rules), an ObjectId as its 24 lower-case hex digits (as the
// text columns take it), any other type as its canonical Extended JSON
// text ({"$numberDecimal": "1.5"}): a filter can test them, never mistake
// them for numbers. With unnest, the array field's name is the element
// the row comes from, and the index column's name its position.

// docFunctions are the functions document expressions have beyond expr's
// builtins: OpenIM and others keep times as Unix milliseconds, which a
// DATETIME column takes only as a time.
var docFunctions = []expr.Option{
	expr.Function("fromUnixMilli", func(args ...any) (any, error) {
		switch n := args[0].(type) {
		case int:
			return time.UnixMilli(int64(n)).UTC(), nil
		case int64:
			return time.UnixMilli(n).UTC(), nil
		}
		return nil, fmt.Errorf("fromUnixMilli(%v): want an integer", args[0])
	}, new(func(int) time.Time)),
	// javaHash is Java's String.hashCode (a 32-bit sum over the UTF-16
	// code units, s[0]*31^(n-1) + ...): WildfireChat picks a user's
	// t_user_messages shard by abs(hashCode(uid)) % 128.
	expr.Function("javaHash", func(args ...any) (any, error) {
		s, ok := args[0].(string)
		if !ok {
			return nil, fmt.Errorf("javaHash(%v): want a string", args[0])
		}
		return javaHash(s), nil
	}, new(func(string) int)),
	// timezone is expr's builtin with each zone loaded once: the
	// builtin reads the zone's file on every call, which a route
	// evaluated on every row of a million-row dataset cannot afford.
	expr.Function("timezone", func(args ...any) (any, error) {
		name, ok := args[0].(string)
		if !ok {
			return nil, fmt.Errorf("timezone(%v): want a zone name", args[0])
		}
		return loadZone(name)
	}, new(func(string) *time.Location)),
}

var zones sync.Map // name -> *time.Location

// loadZone is time.LoadLocation, remembered.
func loadZone(name string) (*time.Location, error) {
	if z, ok := zones.Load(name); ok {
		return z.(*time.Location), nil
	}
	z, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	zones.Store(name, z)
	return z, nil
}

// docFunctionNames are docFunctions' names, which are no field names.
var docFunctionNames = map[string]bool{"fromUnixMilli": true, "javaHash": true}

// javaHash is Java's String.hashCode of s, as an int in int32's range.
func javaHash(s string) int {
	var h int32
	for _, u := range utf16.Encode([]rune(s)) {
		h = 31*h + int32(u)
	}
	return int(h)
}

// bsonAny is v as document expressions see it.
func bsonAny(v bson.RawValue) any {
	switch v.Type {
	case bson.TypeInt32:
		return int(v.Int32())
	case bson.TypeInt64:
		return int(v.Int64())
	case bson.TypeDouble:
		return v.Double()
	case bson.TypeString:
		return v.StringValue()
	case bson.TypeBoolean:
		return v.Boolean()
	case bson.TypeDateTime:
		return time.UnixMilli(v.DateTime()).UTC()
	case bson.TypeNull:
		return nil
	case bson.TypeObjectID:
		return v.ObjectID().Hex()
	case bson.TypeEmbeddedDocument:
		els, err := v.Document().Elements()
		if err != nil {
			return extJSON(v)
		}
		m := make(map[string]any, len(els))
		for _, e := range els {
			if _, dup := m[e.Key()]; !dup { // the first, as a lookup finds it
				m[e.Key()] = bsonAny(e.Value())
			}
		}
		return m
	case bson.TypeArray:
		vals, err := v.Array().Values()
		if err != nil {
			return extJSON(v)
		}
		out := make([]any, len(vals))
		for i, e := range vals {
			out[i] = bsonAny(e)
		}
		return out
	}
	return extJSON(v)
}

// extJSON is v's canonical Extended JSON text.
func extJSON(v bson.RawValue) string {
	doc := bsoncore.NewDocumentBuilder().AppendValue("v", bsoncore.Value{Type: bsoncore.Type(v.Type), Data: v.Value}).Build()
	js, err := bson.MarshalExtJSON(bson.Raw(doc), true, false)
	if err != nil {
		return fmt.Sprintf("0x%x", v.Value)
	}
	return string(js[len(`{"v":`) : len(js)-1])
}

// anyBSON is an expression's result as the BSON value a column's rule
// takes (nil Null, bool Boolean, an integer Int64, a float Double, a
// string String, a time a Date), or why it has none.
func anyBSON(v any) (bson.RawValue, string) {
	switch v := v.(type) {
	case nil:
		return bson.RawValue{Type: bson.TypeNull}, ""
	case bool:
		return bson.RawValue{Type: bson.TypeBoolean, Value: bsoncore.AppendBoolean(nil, v)}, ""
	case int:
		return bson.RawValue{Type: bson.TypeInt64, Value: bsoncore.AppendInt64(nil, int64(v))}, ""
	case int64:
		return bson.RawValue{Type: bson.TypeInt64, Value: bsoncore.AppendInt64(nil, v)}, ""
	case float64:
		return bson.RawValue{Type: bson.TypeDouble, Value: bsoncore.AppendDouble(nil, v)}, ""
	case string:
		return bson.RawValue{Type: bson.TypeString, Value: bsoncore.AppendString(nil, v)}, ""
	case time.Time:
		if v.Nanosecond()%int(time.Millisecond) != 0 {
			return bson.RawValue{}, fmt.Sprintf("%s is finer than a BSON date's milliseconds", v.Format(time.RFC3339Nano))
		}
		return bson.RawValue{Type: bson.TypeDateTime, Value: bsoncore.AppendDateTime(nil, v.UnixMilli())}, ""
	}
	return bson.RawValue{}, fmt.Sprintf("a %T, which this mapping does not turn into a column's value", v)
}

// yamlBSON is a mapping's YAML scalar (a default) as a BSON value, by
// §11.1's rule for defaults (defaultValue): an integer Int64, a float
// Double, a string String, a boolean Boolean.
func yamlBSON(v any) (bson.RawValue, error) {
	el, err := defaultValue(nil, "v", v)
	if err != nil {
		return bson.RawValue{}, err
	}
	val := bsoncore.Element(el).Value()
	return bson.RawValue{Type: bson.Type(val.Type), Value: val.Data}, nil
}
