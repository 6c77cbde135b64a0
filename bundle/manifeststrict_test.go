package bundle

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/imbundle/imbundle/spec"
)

// Each rule of SPEC.md §3 that encoding/json alone does not hold: the
// manifest of a valid bundle is edited in its bytes (checksum recomputed,
// so only the manifest rules can object) and must be refused at open.
func TestOpenRefusesLenientManifests(t *testing.T) {
	base := entriesOf(t, writeTestBundle(t, 3000, 16<<10))
	body := indentedManifest(t, base)
	edit := func(t *testing.T, old, new string) []byte {
		t.Helper()
		if !bytes.Contains(body, []byte(old)) {
			t.Fatalf("manifest has no %q", old)
		}
		return bytes.Replace(body, []byte(old), []byte(new), 1)
	}
	cases := []struct {
		name     string
		old, new string
		want     string
	}{
		{"member name in another case", `"kind": "table"`, `"Kind": "keyspace"`, `manifest.datasets[0]: member "Kind" (at byte `},
		{"case-folded name beside the real one", `"kind": "table"`, `"kind": "table", "KIND": "keyspace"`, `member "KIND"`},
		{"duplicate member", `"url": "mysql://127.0.0.1:3306/db"`, `"url": "mysql://root:secret@127.0.0.1:3306/db", "url": "mysql://127.0.0.1:3306/db"`, `manifest.sources[0]: member "url" appears twice`},
		{"duplicate top-level member", `"format": "imbundle",`, `"format": "imbundle", "format": "imbundle",`, `manifest: member "format" appears twice`},
		{"duplicate key in an unknown member", `"format": "imbundle",`, `"format": "imbundle", "later": {"a": 1, "a": 2},`, `manifest.later: member "a" appears twice`},
		{"required dataset member missing", `"kind": "table",`, ``, `manifest.datasets[0]: required member "kind" is missing`},
		{"required digest missing", `"algorithm": "sha256-sum256-v1",`, ``, `manifest.datasets[0].digest: required member "algorithm" is missing`},
		{"required top-level member missing", `"format_version": "` + spec.FormatVersion + `",`, ``, `manifest: required member "format_version" is missing`},
		{"required string null", `"kind": "table"`, `"kind": null`, `manifest.datasets[0].kind is null`},
		{"lone high surrogate", `"kind": "table"`, `"kind": "ta\ud800ble"`, `\ud800 at byte`},
		{"high surrogate before a non-surrogate escape", `"kind": "table"`, `"kind": "\ud83d\u0041"`, `\ud83d at byte`},
		{"lone low surrogate", `"kind": "table"`, `"kind": "\udc00"`, `\udc00 at byte`},
		{"unknown digest algorithm", `"algorithm": "sha256-sum256-v1"`, `"algorithm": "blake3-sum-v9"`, `digest algorithm "blake3-sum-v9" is not "sha256-sum256-v1"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := openBytes(encodeContainer(t, withManifestBytes(base, edit(t, tc.old, tc.new))))
			if err == nil {
				r.Close()
				t.Fatal("opened; want an error")
			}
			if !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %q (corrupt %v)\ndoes not contain %q", err, errors.Is(err, ErrCorrupt), tc.want)
			}
		})
	}
}

// What the rules must not refuse: an escaped surrogate pair, escaped
// quotes and backslashes before a \u, null for an optional or a list
// member, and unknown members (a later minor version's).
func TestOpenAcceptsStrictManifests(t *testing.T) {
	base := entriesOf(t, writeTestBundle(t, 3000, 16<<10))
	body := indentedManifest(t, base)
	for _, tc := range []struct{ old, new string }{
		{`"format": "imbundle",`, `"format": "imbundle", "notes": ["\ud83d\ude00 \\ud800 \" \u00e9"],`},
		{`"format": "imbundle",`, `"format": "imbundle", "relations": null, "later": {"Kind": 1, "kind": [1, 1]},`},
		{`"kind": "table",`, `"kind": "table", "ddl": null, "future_member": "x",`},
	} {
		if !bytes.Contains(body, []byte(tc.old)) {
			t.Fatalf("manifest has no %q", tc.old)
		}
		r, err := openBytes(encodeContainer(t, withManifestBytes(base, bytes.Replace(body, []byte(tc.old), []byte(tc.new), 1))))
		if err != nil {
			t.Fatalf("%s: %v", tc.new, err)
		}
		r.Close()
	}
}

// The rules come from struct tags, so a member another change adds to a
// spec type is held to them without a change to the checker.
func TestStrictJSONFollowsStructTags(t *testing.T) {
	type inner struct {
		Need string `json:"need"`
		Opt  string `json:"opt,omitempty"`
	}
	type Embedded struct {
		Deep string `json:"deep"`
	}
	type outer struct {
		Embedded
		Items []inner         `json:"items"`
		Map   map[string]bool `json:"map,omitempty"`
		Zero  int             `json:"zero,omitzero"`
	}
	typ := reflect.TypeOf(outer{})
	for doc, want := range map[string]string{
		`{"deep": "", "items": [{"need": "a"}]}`:                   "",
		`{"deep": "", "items": null, "zero": 1}`:                   "",
		`{"items": null}`:                                          `required member "deep" is missing`,
		`{"deep": "", "Zero": 1, "items": null}`:                   `member "Zero"`,
		`{"deep": "", "items": [{"opt": "a"}]}`:                    `manifest.items[0]: required member "need" is missing`,
		`{"deep": "", "items": [], "Map": {}}`:                     `member "Map"`,
		`{"deep": "", "items": [], "map": {"x": true, "x": true}}`: `manifest.map: member "x" appears twice`,
		`{"deep": ""}`: `required member "items" is missing`,
	} {
		err := strictJSON([]byte(doc), typ)
		if (err == nil) != (want == "") || err != nil && !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", doc, err, want)
		}
	}
}
