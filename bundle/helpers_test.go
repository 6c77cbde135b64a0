package bundle

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"hash/crc32"
	"os"
	"testing"
	"time"

	"github.com/imbundle/imbundle/spec"
)

// rawEntry is one container entry, for building bundles the Writer would
// refuse to write.
type rawEntry struct {
	name string
	data []byte
}

// encodeContainer lays entries out in the canonical container encoding.
func encodeContainer(t testing.TB, entries []rawEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	z := newZipWriter(&buf, toDOSTime(time.Date(2024, 5, 6, 7, 8, 10, 0, time.UTC)))
	for _, e := range entries {
		if err := z.add(e.name, uint64(len(e.data)), crc32.ChecksumIEEE(e.data), bytes.NewReader(e.data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := z.close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// entriesOf reads every entry of a valid bundle file.
func entriesOf(t testing.TB, path string) []rawEntry {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := readZipDir(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]rawEntry, len(dir))
	for i, e := range dir {
		out[i] = rawEntry{e.name, raw[e.dataOffset() : e.dataOffset()+e.size]}
	}
	return out
}

// withManifest returns entries with the manifest replaced by edit's result
// and manifest.sha256 recomputed: a consistent liar, not a damaged file.
func withManifest(t testing.TB, entries []rawEntry, edit func(m *spec.Manifest)) []rawEntry {
	t.Helper()
	out := append([]rawEntry(nil), entries...)
	for i, e := range out {
		if e.name != ManifestEntry {
			continue
		}
		var m spec.Manifest
		if err := json.Unmarshal(e.data, &m); err != nil {
			t.Fatal(err)
		}
		edit(&m)
		body, err := MarshalManifest(&m)
		if err != nil {
			t.Fatal(err)
		}
		out[i].data = body
		return withManifestBytes(out, body)
	}
	t.Fatal("no manifest entry")
	return nil
}

// withManifestBytes sets the manifest's bytes and a matching checksum entry.
func withManifestBytes(entries []rawEntry, body []byte) []rawEntry {
	out := append([]rawEntry(nil), entries...)
	sum := sha256.Sum256(body)
	for i, e := range out {
		switch e.name {
		case ManifestEntry:
			out[i].data = body
		case ManifestSumEntry:
			out[i].data = []byte(hex.EncodeToString(sum[:]) + "\n")
		}
	}
	return out
}

func openBytes(b []byte) (*Reader, error) { return NewReader(bytes.NewReader(b), int64(len(b))) }

// indentedManifest returns the manifest of entries indented by two spaces
// (the writer's is compact), so that tests edit it member by member in
// readable strings; the manifest rules do not depend on whitespace.
func indentedManifest(t *testing.T, entries []rawEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, entries[len(entries)-2].data, "", "  "); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
