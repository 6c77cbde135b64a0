package bundle

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/imbundle/imbundle/spec"
)

// FuzzOpen feeds arbitrary bytes to the reader and, for whatever opens,
// verifies, decodes and digests every part. Any panic or an error that is
// neither ErrCorrupt nor a *VersionError is a bug. The committed corpus in
// testdata/fuzz/FuzzOpen holds small real bundles and damaged variants.
// Run it with a short minimisation budget (the default minimises each new
// input for a minute, which stalls progress on inputs this large):
//
//	go test -run '^$' -fuzz FuzzOpen -fuzztime 10m -fuzzminimizetime 20x ./bundle/
func FuzzOpen(f *testing.F) {
	maxBatchMemory = 64 << 20 // hostile sizes fail fast instead of allocating
	for _, seed := range fuzzSeeds(f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := openBytes(data)
		if err != nil {
			checkClassified(t, err)
			return
		}
		exerciseReader(t, r)
	})
}

// FuzzPart wraps arbitrary bytes as the one part of an otherwise valid
// bundle (manifest sizes and SHA-256 made to match), so that the fuzzer
// spends its time in the Arrow decoding path rather than the container.
func FuzzPart(f *testing.F) {
	maxBatchMemory = 64 << 20
	base := entriesOf(f, writeTestBundle(f, 40, 1<<20))
	f.Add(base[1].data)
	all := entriesOf(f, writeAllTypesBundle(f, 5))
	f.Add(all[1].data)
	f.Fuzz(func(t *testing.T, part []byte) {
		sum := sha256.Sum256(part)
		entries := []rawEntry{base[0], {PartPath(0, 0), part}, base[2], base[3]}
		entries = withManifest(t, entries, func(m *spec.Manifest) {
			p := &m.Datasets[0].Parts[0]
			p.Bytes, p.SHA256, p.KeyRange = int64(len(part)), hex.EncodeToString(sum[:]), nil
		})
		r, err := openBytes(encodeContainer(t, entries))
		if err != nil {
			t.Fatalf("the wrapping bundle does not open: %v", err)
		}
		exerciseReader(t, r)
	})
}

func checkClassified(t *testing.T, err error) {
	var ve *VersionError
	// ErrIdentity: a file whose second entry is key.age is an encrypted
	// bundle, opened here without an identity.
	if !errors.Is(err, ErrCorrupt) && !errors.As(err, &ve) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrIdentity) {
		t.Fatalf("error is neither ErrCorrupt, ErrTooLarge, ErrIdentity nor a VersionError: %v", err)
	}
}

func exerciseReader(t *testing.T, r *Reader) {
	for di := range r.Manifest().Datasets {
		ds := &r.Manifest().Datasets[di]
		for i, p := range ds.Parts {
			if err := r.VerifyPart(p); err != nil {
				checkClassified(t, err)
			}
			pr, err := r.OpenPart(ds, i)
			if err != nil {
				checkClassified(t, err)
				continue
			}
			var d Digest
			for {
				rec, err := pr.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					checkClassified(t, err)
					break
				}
				d.AddRecord(rec) // reads every value of a validated batch
			}
			pr.Close()
		}
	}
}

// fuzzSeeds are small real bundles and damaged copies of them. The files
// in testdata/fuzz/FuzzOpen were written from these (plus a few inputs the
// fuzzer found interesting) and are kept small.
func fuzzSeeds(t testing.TB) [][]byte {
	read := func(path string) []byte {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	b := read(writeTestBundle(t, 40, 1<<10))
	seeds := [][]byte{b, b[:len(b)/2], b[:len(b)-1]}
	for _, at := range []int{len(b) / 3, len(b) / 2, len(b) - 30} {
		c := append([]byte(nil), b...)
		c[at] ^= 0x01
		seeds = append(seeds, c)
	}
	all := read(writeAllTypesBundle(t, 5))
	c := append([]byte(nil), all...)
	c[len(c)/2] ^= 0x01
	return append(seeds, all, c)
}
