package verify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/bundletest"
	"github.com/imbundle/imbundle/spec"
)

// offlineBundle writes two datasets of a few parts each and returns the
// file's bytes.
func offlineBundle(t *testing.T) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "b.imb")
	w, err := bundle.Create(path, bundle.Options{PartBytes: 8 << 10})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddSource(spec.Source{ID: "s0", Engine: "mysql", URL: "mysql://db/im"}); err != nil {
		t.Fatal(err)
	}
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "v", Type: arrow.BinaryTypes.String, Nullable: true}}, nil)
	for _, name := range []string{"im.a", "im.b"} {
		dw, err := w.CreateDataset(spec.Dataset{Name: name, Source: "s0", Kind: spec.KindTable, PrimaryKey: []string{"id"}}, schema)
		if err != nil {
			t.Fatal(err)
		}
		b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		for i := 0; i < 2000; i++ {
			b.Field(0).(*array.Int64Builder).Append(int64(i))
			b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("%s value %d", name, i*i))
			if i%400 == 399 {
				rec := b.NewRecordBatch()
				if err := dw.Write(rec); err != nil {
					t.Fatal(err)
				}
				rec.Release()
			}
		}
		b.Release()
		if err := dw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func openRaw(t *testing.T, raw []byte) *bundle.Reader {
	t.Helper()
	r, err := bundle.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// rewriteManifest changes the manifest (keeping its length) and its
// checksum entry consistently: a bundle that lies, not a damaged one.
func rewriteManifest(t *testing.T, raw []byte, edit func([]byte) []byte) {
	t.Helper()
	off, n := bundletest.EntryAt(t, raw, bundle.ManifestEntry)
	body := edit(append([]byte(nil), raw[off:off+n]...))
	bundletest.ReplaceEntry(t, raw, bundle.ManifestEntry, body)
	sum := sha256.Sum256(body)
	bundletest.ReplaceEntry(t, raw, bundle.ManifestSumEntry, []byte(hex.EncodeToString(sum[:])+"\n"))
}

func TestOfflineWholeBundle(t *testing.T) {
	r := openRaw(t, offlineBundle(t))
	var reported []string
	for _, deep := range []bool{false, true} {
		reported = reported[:0]
		err := Offline(context.Background(), r, 2, deep, func(pr PartResult) {
			if pr.Err != nil {
				t.Errorf("%s: %v", pr.Part.Path, pr.Err)
			}
			reported = append(reported, pr.Part.Path)
		})
		if err != nil {
			t.Fatalf("deep=%v: %v", deep, err)
		}
		if len(reported) != 10 {
			t.Fatalf("deep=%v: %d parts reported, want 10", deep, len(reported))
		}
	}
}

func TestOfflineNamesDamagedParts(t *testing.T) {
	raw := offlineBundle(t)
	for _, name := range []string{"data/00000/000002.arrow", "data/00001/000004.arrow"} {
		off, n := bundletest.EntryAt(t, raw, name)
		raw[off+n/2] ^= 0x10
	}
	r := openRaw(t, raw)
	bad := map[string]bool{}
	err := Offline(context.Background(), r, 2, true, func(pr PartResult) {
		if pr.Err != nil {
			bad[fmt.Sprintf("%s #%d %s", pr.Dataset, pr.Index, pr.Part.Path)] = true
		}
	})
	if !errors.Is(err, bundle.ErrChecksum) || !errors.Is(err, bundle.ErrCorrupt) {
		t.Fatalf("Offline: %v", err)
	}
	for _, want := range []string{"im.a #2 data/00000/000002.arrow", "im.b #4 data/00001/000004.arrow"} {
		if !bad[want] || !strings.Contains(err.Error(), strings.Fields(want)[2]) {
			t.Fatalf("%s not reported (reported %v; error %v)", want, bad, err)
		}
	}
	if len(bad) != 2 {
		t.Fatalf("reported %v", bad)
	}
}

// A manifest whose digest was changed along with its checksum passes the
// SHA-256 level; only decoding the parts finds it.
func TestOfflineDeepFindsADigestTheRowsDoNotHave(t *testing.T) {
	raw := offlineBundle(t)
	r := openRaw(t, raw)
	want := r.Manifest().Datasets[1].Digest.Sum
	forged := strings.Repeat("0", 63) + "1"
	rewriteManifest(t, raw, func(b []byte) []byte { return bytes.Replace(b, []byte(want), []byte(forged), 1) })
	r = openRaw(t, raw)
	if err := Offline(context.Background(), r, 2, false, nil); err != nil {
		t.Fatalf("shallow: %v", err)
	}
	err := Offline(context.Background(), r, 2, true, nil)
	if err == nil || !strings.Contains(err.Error(), `dataset "im.b": decoded rows digest to `+want) || errors.Is(err, bundle.ErrCorrupt) {
		t.Fatalf("deep: %v", err)
	}
}

// An unknown digest algorithm is refused when the bundle is opened (SPEC.md
// §3), so no level of verify, and no import, gets to run on it.
func TestUnknownDigestAlgorithmIsRefusedAtOpen(t *testing.T) {
	raw := offlineBundle(t)
	rewriteManifest(t, raw, func(b []byte) []byte {
		return bytes.Replace(b, []byte(spec.DigestAlgorithm), []byte("sha256-sum256-v9"), 1)
	})
	_, err := bundle.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if !errors.Is(err, bundle.ErrCorrupt) || !strings.Contains(err.Error(), `digest algorithm "sha256-sum256-v9" is not "sha256-sum256-v1"`) {
		t.Fatalf("open: %v", err)
	}
}
