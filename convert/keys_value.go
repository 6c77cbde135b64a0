package convert

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// keyValue parses a string key's value by its pattern's declared type
// into the BSON value the record holds (SPEC.md §11.9), or says why the
// value is not one of that type exactly. jsonText keeps a json value as
// its text (a String: MySQL's JSON and text columns) instead of turning
// it into BSON (MongoDB).
func keyValue(typ string, raw []byte, jsonText bool) (bson.RawValue, string) {
	switch typ {
	case valueInteger:
		n, ok := exactInt(raw)
		if !ok {
			return bson.RawValue{}, fmt.Sprintf("value %s is not an integer as Redis writes one (decimal digits, optional '-', no leading zero, in int64)", quoteValue(raw))
		}
		return bson.RawValue{Type: bson.TypeInt64, Value: bsoncore.AppendInt64(nil, n)}, ""
	case valueFloat:
		f, ok := shortestFloat(raw)
		if !ok {
			return bson.RawValue{}, fmt.Sprintf("value %s is not the shortest text of a double (as Redis INCRBYFLOAT writes: 10.5, 1e+21)", quoteValue(raw))
		}
		return bson.RawValue{Type: bson.TypeDouble, Value: bsoncore.AppendDouble(nil, f)}, ""
	case valueJSON:
		if jsonText {
			if !utf8.Valid(raw) || !json.Valid(raw) {
				return bson.RawValue{}, fmt.Sprintf("value %s is not JSON", quoteValue(raw))
			}
			return stringValue(raw), ""
		}
		return jsonValue(raw)
	case valueBytes:
		return bson.RawValue{Type: bson.TypeBinary, Value: bsoncore.AppendBinary(nil, 0, raw)}, ""
	case valueString:
		if !utf8.Valid(raw) {
			return bson.RawValue{}, fmt.Sprintf("value %s is not UTF-8 text (type bytes takes any value)", quoteValue(raw))
		}
		return stringValue(raw), ""
	}
	return bson.RawValue{}, "unknown value type " + typ
}

func stringValue(b []byte) bson.RawValue {
	return bson.RawValue{Type: bson.TypeString, Value: bsoncore.AppendString(nil, string(b))}
}

// quoteValue shows a value in a reason, cut to 64 bytes.
func quoteValue(b []byte) string {
	if len(b) > 64 {
		return strconv.Quote(string(b[:64])) + "..."
	}
	return strconv.Quote(string(b))
}

// exactInt reads the decimal integers Redis's INCR family writes and
// reads: no sign but '-', no leading zero, no -0, within int64. Any other
// spelling would not come back the same from an Int64.
func exactInt(b []byte) (int64, bool) {
	s := string(b)
	digits := s
	if len(s) > 0 && s[0] == '-' {
		digits = s[1:]
	}
	if digits == "" || len(digits) > 1 && digits[0] == '0' || s == "-0" {
		return 0, false
	}
	for _, c := range []byte(digits) {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// shortestFloat reads a double written in its shortest round-trip text, in
// plain or exponent form (Go's 'f' or 'g' with the shortest precision):
// text that a Double gives back byte for byte. inf and nan are not taken.
func shortestFloat(b []byte) (float64, bool) {
	s := string(b)
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, false
	}
	if s == strconv.FormatFloat(f, 'f', -1, 64) || s == strconv.FormatFloat(f, 'g', -1, 64) {
		return f, s != "+Inf" && s != "-Inf" && s != "NaN"
	}
	return 0, false
}

// jsonValue turns JSON text into the BSON value of the same shape: an
// object a document (its keys in order), an array an array, a string a
// String, true/false a Boolean, null Null, an integer an Int64 when in
// range, another number a Double when the double holds it exactly.
// Anything else (a duplicate key, a number no Int64 or Double holds
// exactly, text after the value) is a reason.
func jsonValue(raw []byte) (bson.RawValue, string) {
	if !utf8.Valid(raw) {
		return bson.RawValue{}, "the value is not UTF-8 JSON"
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	t, v, why := jsonRead(dec)
	if why != "" {
		return bson.RawValue{}, "value is not JSON that BSON holds exactly: " + why
	}
	if _, err := dec.Token(); err != io.EOF {
		return bson.RawValue{}, "value is not JSON: text after the JSON value"
	}
	return bson.RawValue{Type: t, Value: v}, ""
}

func jsonRead(dec *json.Decoder) (bson.Type, []byte, string) {
	tok, err := dec.Token()
	if err != nil {
		return 0, nil, err.Error()
	}
	switch tok := tok.(type) {
	case json.Delim:
		switch tok {
		case '{':
			idx, doc := bsoncore.ReserveLength(nil)
			seen := map[string]bool{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return 0, nil, err.Error()
				}
				k := kt.(string)
				if seen[k] {
					return 0, nil, fmt.Sprintf("key %q appears twice in an object", k)
				}
				seen[k] = true
				t, v, why := jsonRead(dec)
				if why != "" {
					return 0, nil, why
				}
				doc = bsoncore.AppendHeader(doc, bsoncore.Type(t), k)
				doc = append(doc, v...)
			}
			if _, err := dec.Token(); err != nil {
				return 0, nil, err.Error()
			}
			doc = append(doc, 0)
			return bson.TypeEmbeddedDocument, bsoncore.UpdateLength(doc, idx, int32(len(doc)-int(idx))), ""
		case '[':
			idx, arr := bsoncore.ReserveLength(nil)
			for i := 0; dec.More(); i++ {
				t, v, why := jsonRead(dec)
				if why != "" {
					return 0, nil, why
				}
				arr = bsoncore.AppendHeader(arr, bsoncore.Type(t), strconv.Itoa(i))
				arr = append(arr, v...)
			}
			if _, err := dec.Token(); err != nil {
				return 0, nil, err.Error()
			}
			arr = append(arr, 0)
			return bson.TypeArray, bsoncore.UpdateLength(arr, idx, int32(len(arr)-int(idx))), ""
		}
		return 0, nil, fmt.Sprintf("unexpected %v", tok)
	case string:
		return bson.TypeString, bsoncore.AppendString(nil, tok), ""
	case bool:
		return bson.TypeBoolean, bsoncore.AppendBoolean(nil, tok), ""
	case nil:
		return bson.TypeNull, nil, ""
	case json.Number:
		if n, err := strconv.ParseInt(string(tok), 10, 64); err == nil {
			return bson.TypeInt64, bsoncore.AppendInt64(nil, n), ""
		}
		r, ok := new(big.Rat).SetString(string(tok))
		if !ok {
			return 0, nil, fmt.Sprintf("number %s", tok)
		}
		f, exact := r.Float64()
		if !exact {
			return 0, nil, fmt.Sprintf("number %s: no Int64 or Double holds it exactly", tok)
		}
		return bson.TypeDouble, bsoncore.AppendDouble(nil, f), ""
	}
	return 0, nil, fmt.Sprintf("unexpected token %v", tok)
}

// The way back (keys_back.go): a record's values as the key text and
// value text that keyValue reads back to them.

// captureText is a field's text in a key name: a String as it is, an
// integer in decimal.
func captureText(v bson.RawValue) ([]byte, string) {
	switch v.Type {
	case bson.TypeString:
		s := v.StringValue()
		if s == "" {
			return nil, "an empty text makes no capture"
		}
		return []byte(s), ""
	case bson.TypeInt32:
		return []byte(strconv.FormatInt(int64(v.Int32()), 10)), ""
	case bson.TypeInt64:
		return []byte(strconv.FormatInt(v.Int64(), 10)), ""
	}
	return nil, fmt.Sprintf("a %s makes no capture (String or an integer)", v.Type)
}

// backValue renders a value as the forward rule reads it back to the same
// value (keyValue).
func backValue(typ string, v bson.RawValue) ([]byte, string) {
	switch typ {
	case valueInteger:
		switch v.Type {
		case bson.TypeInt64:
			return []byte(strconv.FormatInt(v.Int64(), 10)), ""
		case bson.TypeInt32:
			return []byte(strconv.FormatInt(int64(v.Int32()), 10)), ""
		}
	case valueFloat:
		if v.Type == bson.TypeDouble {
			f := v.Double()
			if math.IsInf(f, 0) || math.IsNaN(f) {
				return nil, "no Redis float text for " + strconv.FormatFloat(f, 'g', -1, 64)
			}
			return []byte(strconv.FormatFloat(f, 'f', -1, 64)), ""
		}
	case valueString:
		if v.Type == bson.TypeString {
			return []byte(v.StringValue()), ""
		}
	case valueBytes:
		if v.Type == bson.TypeBinary {
			if st, data := v.Binary(); st == 0 {
				return data, ""
			}
		}
	case valueJSON:
		switch v.Type {
		case bson.TypeString: // a JSON column's text
			s := v.StringValue()
			if !json.Valid([]byte(s)) {
				return nil, "the text is not JSON"
			}
			return []byte(s), ""
		case bson.TypeEmbeddedDocument, bson.TypeArray:
			var sb strings.Builder
			if why := writeJSON(&sb, v); why != "" {
				return nil, why
			}
			return []byte(sb.String()), ""
		}
	}
	return nil, fmt.Sprintf("a %s is no %s value", v.Type, typ)
}

// writeJSON renders a BSON value as the JSON that jsonValue reads back to
// it: Int64 as an integer, a Double always with a fraction or exponent.
func writeJSON(sb *strings.Builder, v bson.RawValue) string {
	switch v.Type {
	case bson.TypeEmbeddedDocument, bson.TypeArray:
		doc := bson.Raw(v.Value)
		els, err := doc.Elements()
		if err != nil {
			return err.Error()
		}
		open, end := byte('{'), byte('}')
		if v.Type == bson.TypeArray {
			open, end = '[', ']'
		}
		sb.WriteByte(open)
		for i, e := range els {
			if i > 0 {
				sb.WriteByte(',')
			}
			if v.Type == bson.TypeEmbeddedDocument {
				k, _ := json.Marshal(e.Key())
				sb.Write(k)
				sb.WriteByte(':')
			}
			if why := writeJSON(sb, e.Value()); why != "" {
				return why
			}
		}
		sb.WriteByte(end)
	case bson.TypeString:
		if !utf8.ValidString(v.StringValue()) {
			return "a String that is not UTF-8"
		}
		s, _ := json.Marshal(v.StringValue())
		sb.Write(s)
	case bson.TypeBoolean:
		sb.WriteString(strconv.FormatBool(v.Boolean()))
	case bson.TypeNull:
		sb.WriteString("null")
	case bson.TypeInt64:
		sb.WriteString(strconv.FormatInt(v.Int64(), 10))
	case bson.TypeDouble:
		// JSON has no inf or NaN, big.Rat (the way in) no -0, and an
		// integral Double written as an integer would come back an Int64.
		f := v.Double()
		if math.IsInf(f, 0) || math.IsNaN(f) || f == 0 && math.Signbit(f) {
			return "a Double JSON does not give back: " + strconv.FormatFloat(f, 'g', -1, 64)
		}
		t := strconv.FormatFloat(f, 'g', -1, 64)
		if !strings.ContainsAny(t, ".e") {
			t += ".0"
		}
		sb.WriteString(t)
	default:
		return fmt.Sprintf("a %s inside json: JSON holds documents, arrays, strings, booleans, null, Int64 and Double", v.Type)
	}
	return ""
}
