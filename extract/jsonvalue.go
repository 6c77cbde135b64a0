package extract

import (
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// appendJSON appends value i of arr as JSON: integers as numbers with
// every digit (beyond 2^53 too), finite floats as numbers in their shortest
// exact form, NaN and infinities and decimals as strings, NULL as null,
// lists as arrays, structs as objects and maps as arrays of
// {"key":…,"value":…}; everything else as the string text.go spells.
func appendJSON(b []byte, arr arrow.Array, i int) []byte {
	if arr.IsNull(i) {
		return append(b, "null"...)
	}
	switch a := arr.(type) {
	case *array.Int8, *array.Int16, *array.Int32, *array.Int64,
		*array.Uint8, *array.Uint16, *array.Uint32, *array.Uint64, *array.Boolean:
		s, _ := scalarText(arr, i)
		return append(b, s...)
	case *array.Float32:
		return appendJSONFloat(b, float64(a.Value(i)), 32)
	case *array.Float64:
		return appendJSONFloat(b, a.Value(i), 64)
	case array.ListLike:
		if _, ok := a.(*array.Map); ok {
			return appendJSONMap(b, a.(*array.Map), i)
		}
		start, end := a.ValueOffsets(i)
		b = append(b, '[')
		for j := start; j < end; j++ {
			if j > start {
				b = append(b, ',')
			}
			b = appendJSON(b, a.ListValues(), int(j))
		}
		return append(b, ']')
	case *array.Struct:
		st := a.DataType().(*arrow.StructType)
		b = append(b, '{')
		for f := 0; f < a.NumField(); f++ {
			if f > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, st.Field(f).Name)
			b = append(b, ':')
			b = appendJSON(b, a.Field(f), i)
		}
		return append(b, '}')
	}
	s, ok := scalarText(arr, i)
	if !ok {
		// checkTypes refuses such a column before the first row.
		panic(fmt.Sprintf("extract: no JSON form for %s", arr.DataType()))
	}
	return appendJSONString(b, s)
}

func appendJSONMap(b []byte, m *array.Map, i int) []byte {
	start, end := m.ValueOffsets(i)
	b = append(b, '[')
	for j := start; j < end; j++ {
		if j > start {
			b = append(b, ',')
		}
		b = append(b, `{"key":`...)
		b = appendJSON(b, m.Keys(), int(j))
		b = append(b, `,"value":`...)
		b = appendJSON(b, m.Items(), int(j))
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendJSONFloat(b []byte, f float64, bits int) []byte {
	s := floatText(f, bits)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return appendJSONString(b, s)
	}
	return append(b, s...)
}

// appendJSONString appends s (valid UTF-8: Arrow strings are) as a JSON
// string, escaping only what JSON requires.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
