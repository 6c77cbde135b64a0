package bundle

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// encoding/json is lenient where SPEC.md §3 is strict: it matches member
// names case-insensitively ("Kind" sets kind), keeps the last of duplicate
// members (a clean url after one holding a password hides the password from
// whoever reads the decoded value), treats a missing member as zero, and
// turns a lone UTF-16 surrogate escape into U+FFFD. strictJSON walks the raw
// manifest's tokens beside the Go type it decodes into, so the rules follow
// the struct tags of spec/manifest.go: members other helpers add to those
// types are checked without changes here.
//
// The rules, per JSON object that maps to a struct:
//   - a member name that is not a tag but equals one but for case is refused;
//   - a member that appears twice is refused (in every object, maps and
//     unknown members' values included);
//   - a member whose tag has no omitempty is required, and null only where
//     Go itself writes null (an absent slice or map);
//   - unknown members are skipped (SPEC.md §1: a later minor may add them).

var timeType = reflect.TypeOf(time.Time{})

// jsonField is one member a struct type declares.
type jsonField struct {
	typ      reflect.Type
	required bool
}

// jsonFields lists the members of struct type t by their JSON names. A
// member is optional if its tag says omitempty or omitzero (a writer may
// leave it out); an untagged embedded struct's members are t's own, as
// encoding/json has them.
func jsonFields(t reflect.Type) map[string]jsonField {
	out := map[string]jsonField{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			for n, ef := range jsonFields(f.Type) {
				out[n] = ef
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		opts = "," + opts + ","
		out[name] = jsonField{typ: f.Type, required: !strings.Contains(opts, ",omitempty,") && !strings.Contains(opts, ",omitzero,")}
	}
	return out
}

// strictJSON checks body, one JSON value, against Go type t by the rules
// above. It does not check types (the decode does); errors name the member
// path and the byte offset.
func strictJSON(body []byte, t reflect.Type) error {
	if err := checkSurrogates(body); err != nil {
		return err
	}
	s := strictReader{body: body, dec: json.NewDecoder(bytes.NewReader(body))}
	s.dec.UseNumber()
	return s.value(t, "manifest")
}

type strictReader struct {
	body []byte
	dec  *json.Decoder
}

// value reads one value; t is the Go type it decodes into, nil for a
// member this reader does not know.
func (s *strictReader) value(t reflect.Type, where string) error {
	dec := s.dec
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil // a scalar: the decode checks its type
	}
	switch d {
	case '[':
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for i := 0; dec.More(); i++ {
			if err := s.value(elem, fmt.Sprintf("%s[%d]", where, i)); err != nil {
				return err
			}
		}
	case '{':
		var fields map[string]jsonField
		var elem reflect.Type
		switch {
		case t == nil:
		case t.Kind() == reflect.Struct && t != timeType:
			fields = jsonFields(t)
		case t.Kind() == reflect.Map:
			elem = t.Elem()
		}
		seen := map[string]bool{}
		for dec.More() {
			at := s.skipSpace(dec.InputOffset())
			tok, err := dec.Token()
			if err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
			name, _ := tok.(string)
			if seen[name] {
				return fmt.Errorf("%s: member %q appears twice (at byte %d); a manifest has each member once", where, name, at)
			}
			seen[name] = true
			vt := elem
			if fields != nil {
				f, known := fields[name]
				if !known {
					for n := range fields {
						if strings.EqualFold(n, name) {
							return fmt.Errorf("%s: member %q (at byte %d) is not %q: member names are case-sensitive", where, name, at, n)
						}
					}
				}
				vt = f.typ
				if known && f.required && s.nextIsNull() && !nullable(f.typ) {
					return fmt.Errorf("%s.%s is null (at byte %d); it must hold a value", where, name, at)
				}
			}
			if err := s.value(vt, where+"."+name); err != nil {
				return err
			}
		}
		for n, f := range fields {
			if f.required && !seen[n] {
				return fmt.Errorf("%s: required member %q is missing (SPEC.md §3)", where, n)
			}
		}
	}
	if _, err := dec.Token(); err != nil { // the closing delimiter
		return fmt.Errorf("%s: %w", where, err)
	}
	return nil
}

// nullable reports whether Go writes null for an empty value of t.
func nullable(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Slice, reflect.Map, reflect.Pointer, reflect.Interface:
		return true
	}
	return false
}

// skipSpace returns the offset of the first byte at or after off that is
// not whitespace or a comma: where the next member name starts.
func (s *strictReader) skipSpace(off int64) int64 {
	for off < int64(len(s.body)) && strings.IndexByte(" \t\r\n,", s.body[off]) >= 0 {
		off++
	}
	return off
}

// nextIsNull reports whether the value after the member name just read is
// the literal null (only whitespace and the colon come between).
func (s *strictReader) nextIsNull() bool {
	rest := bytes.TrimLeft(s.body[s.dec.InputOffset():], " \t\r\n:")
	return bytes.HasPrefix(rest, []byte("null"))
}

// checkSurrogates refuses a \u escape of a UTF-16 surrogate that is not
// half of a pair: encoding/json would read it as U+FFFD, so the string
// would not round-trip. Only escapes inside strings are looked at.
func checkSurrogates(b []byte) error {
	inString := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !inString {
			if c == '"' {
				inString = true
			}
			continue
		}
		switch c {
		case '"':
			inString = false
		case '\\':
			if i+1 < len(b) && b[i+1] == 'u' {
				r, ok := hex4(b, i+2)
				switch {
				case !ok:
					// the decoder reports a malformed escape
				case r >= 0xD800 && r < 0xDC00:
					lo, ok := -1, i+7 < len(b) && b[i+6] == '\\' && b[i+7] == 'u'
					if ok {
						lo, ok = hex4(b, i+8)
					}
					if !ok || lo < 0xDC00 || lo >= 0xE000 {
						return fmt.Errorf("manifest: \\u%04x at byte %d is a lone UTF-16 surrogate, which is no character; a manifest's strings are valid Unicode", r, i)
					}
					i += 11
					continue
				case r >= 0xDC00 && r < 0xE000:
					return fmt.Errorf("manifest: \\u%04x at byte %d is a lone UTF-16 surrogate, which is no character; a manifest's strings are valid Unicode", r, i)
				}
			}
			i++ // skip the escaped byte
		}
	}
	return nil
}

// hex4 reads four hex digits at b[i:].
func hex4(b []byte, i int) (int, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	v := 0
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | int(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | int(c-'a'+10)
		case c >= 'A' && c <= 'F':
			v = v<<4 | int(c-'A'+10)
		default:
			return 0, false
		}
	}
	return v, true
}
