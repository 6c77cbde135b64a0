package bundle

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/imbundle/imbundle/spec"
)

// MarshalManifest gives the manifest bytes a writer stores: compact JSON in
// the field order of the Go types, ending in a newline. Not indented: the
// manifest is a stored entry, and on a schema of hundreds of small tables
// indentation was a third of it (`| jq` reads it). Readers never re-encode:
// the bundle id is the SHA-256 of the stored bytes (SPEC.md §3).
func MarshalManifest(m *spec.Manifest) ([]byte, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	return append(b, '\n'), nil
}

// decodeManifest parses manifest bytes. Unknown fields are ignored (a later
// minor version may add some); anything but whitespace after the object is
// refused, so the bytes that are hashed are the bytes that are read; and
// strictJSON holds the bytes to SPEC.md §3's rules before they are decoded.
func decodeManifest(body []byte) (*spec.Manifest, error) {
	if !utf8.Valid(body) {
		return nil, fmt.Errorf("not valid UTF-8")
	}
	m := new(spec.Manifest)
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(m); err != nil {
		return nil, fmt.Errorf("not a manifest JSON object: %w", err)
	}
	if rest := body[dec.InputOffset():]; len(bytes.TrimSpace(rest)) != 0 {
		return nil, fmt.Errorf("%d bytes after the JSON object, at byte %d", len(rest), dec.InputOffset())
	}
	if err := strictJSON(body, reflect.TypeOf(m)); err != nil {
		return nil, err
	}
	return m, nil
}

// checkUTF8 refuses a manifest holding a string that is not valid UTF-8:
// encoding/json would silently replace the bad bytes with U+FFFD, and a DDL
// or a name would no longer round-trip exactly.
func checkUTF8(where string, v any) error {
	return walkStrings(reflect.ValueOf(v), where)
}

func walkStrings(v reflect.Value, where string) error {
	switch v.Kind() {
	case reflect.String:
		if !utf8.ValidString(v.String()) {
			return fmt.Errorf("%s is not valid UTF-8 (%q); JSON cannot hold it exactly: encode it (hex, base64) before writing", where, v.String())
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return walkStrings(v.Elem(), where)
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < v.NumField(); i++ {
			if t.Field(i).IsExported() {
				if err := walkStrings(v.Field(i), where+"."+t.Field(i).Name); err != nil {
					return err
				}
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			if err := walkStrings(v.Index(i), fmt.Sprintf("%s[%d]", where, i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			k := fmt.Sprint(it.Key().Interface())
			if err := walkStrings(it.Key(), where+" key"); err != nil {
				return err
			}
			if err := walkStrings(it.Value(), where+"["+k+"]"); err != nil {
				return err
			}
		}
	}
	return nil
}

// containsCredentials reports whether a source URL still holds user info or
// a secret query parameter that exporter.Redact would have replaced.
func containsCredentials(raw string) bool {
	if raw == "" {
		return false
	}
	u, err := url.Parse(raw)
	if err != nil {
		return strings.Contains(raw, "@")
	}
	if u.User != nil {
		return true
	}
	for k, vs := range u.Query() {
		lk := strings.ToLower(k)
		if !strings.Contains(lk, "pass") && !strings.Contains(lk, "secret") && !strings.Contains(lk, "token") && !strings.Contains(lk, "key") {
			continue
		}
		for _, v := range vs {
			if v != "" && v != "REDACTED" {
				return true
			}
		}
	}
	return false
}
