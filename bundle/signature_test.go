package bundle

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imbundle/imbundle/spec"
)

func testKey(t *testing.T) SecretKey {
	t.Helper()
	s, err := GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func openT(t *testing.T, path string) *Reader {
	t.Helper()
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestSignatureRoundTrip(t *testing.T) {
	s := testKey(t)
	// Through the files, as keygen writes and verify reads them.
	s2, err := ParseSecretKey(MarshalSecretKey(s))
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParsePublicKey(MarshalPublicKey(s.Public()))
	if err != nil {
		t.Fatal(err)
	}
	r := openT(t, writeTestBundle(t, 3000, 16<<10))
	sig, err := SignBundle(r, s2)
	if err != nil {
		t.Fatal(err)
	}
	info, err := CheckSignature(r, p, sig)
	if err != nil {
		t.Fatalf("%v\n%s", err, sig)
	}
	if info.ID != r.ID() || !info.Created.Equal(r.Manifest().CreatedAt.UTC().Truncate(time.Second)) ||
		len(info.Sources) != 1 || info.Sources[0] != "mysql://127.0.0.1:3306/db" || info.KeyID != p.IDText() {
		t.Fatalf("info %+v for bundle %s", info, r.ID())
	}
}

// Every way a signature can fail to vouch for a bundle is refused with
// ErrSignature: another bundle's signature, a manifest rewritten with a
// matching id (a consistent liar the checksums cannot catch), another key,
// and any changed byte of the signature file.
func TestSignatureRefused(t *testing.T) {
	s := testKey(t)
	p := s.Public()
	path := writeTestBundle(t, 3000, 16<<10)
	r := openT(t, path)
	sig, err := SignBundle(r, s)
	if err != nil {
		t.Fatal(err)
	}
	refused := func(what string, r *Reader, p PublicKey, sig []byte) {
		t.Helper()
		if _, err := CheckSignature(r, p, sig); !errors.Is(err, ErrSignature) {
			t.Fatalf("%s: got %v, want ErrSignature", what, err)
		}
	}

	other := openT(t, writeTestBundle(t, 3001, 16<<10))
	otherSig, err := SignBundle(other, s)
	if err != nil {
		t.Fatal(err)
	}
	refused("another bundle's signature", r, p, otherSig)

	liar := encodeContainer(t, withManifest(t, entriesOf(t, path), func(m *spec.Manifest) { m.Notes = append(m.Notes, "edited") }))
	lr, err := openBytes(liar)
	if err != nil {
		t.Fatalf("the rewritten bundle should open (its checksums agree): %v", err)
	}
	refused("a rewritten manifest with its id", lr, p, sig)

	refused("another key", r, testKey(t).Public(), sig)

	// Every byte of the file, changed: either it no longer parses or it no
	// longer verifies. A changed comment byte in the untrusted line is not
	// signed (minisign's rule too), so it alone may pass.
	untrusted := bytes.IndexByte(sig, '\n')
	for i := untrusted; i < len(sig); i++ {
		bad := bytes.Clone(sig)
		bad[i] ^= 0x01
		if _, err := CheckSignature(r, p, bad); err == nil {
			t.Fatalf("signature with byte %d (%q) changed passes", i, sig[i])
		}
	}
	// The trusted comment edited to name the other bundle, re-encoded.
	edited := strings.Replace(string(sig), r.ID(), other.ID(), 1)
	refused("trusted comment edited", r, p, []byte(edited))

	if _, err := CheckSignature(r, p, nil); !errors.Is(err, ErrSignature) {
		t.Fatalf("empty signature file: %v", err)
	}
}

func TestSecretKeyRefused(t *testing.T) {
	s := testKey(t)
	raw := MarshalSecretKey(s)
	if _, err := ParsePublicKey(raw); !errors.Is(err, ErrSignature) {
		t.Fatalf("a secret key read as a public key: %v", err)
	}
	if _, err := ParseSecretKey(MarshalPublicKey(s.Public())); !errors.Is(err, ErrSignature) {
		t.Fatalf("a public key read as a secret key: %v", err)
	}
}

// minisign itself checks imbundle's signature of a bundle (its id line,
// extracted as unzip -p would), signs with a key imbundle keygen wrote, and
// makes keys imbundle signs with.
func TestMinisignInterop(t *testing.T) {
	bin, err := exec.LookPath("minisign")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("minisign not installed (apt-get install minisign)")
		}
		t.Skip("minisign not installed (apt-get install minisign)")
	}
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("minisign %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	r := openT(t, writeTestBundle(t, 1000, 16<<10))
	s := testKey(t)
	sig, err := SignBundle(r, s)
	if err != nil {
		t.Fatal(err)
	}
	msg := write("id", SignedMessage(r.ID()))
	pub := write("k.pub", MarshalPublicKey(s.Public()))
	out := run("-V", "-p", pub, "-m", msg, "-x", write("id.minisig", sig))
	if !strings.Contains(out, "Signature and comment signature verified") || !strings.Contains(out, "imbundle id="+r.ID()) {
		t.Fatalf("minisign -V said:\n%s", out)
	}
	// A changed message fails minisign too.
	write("id2", []byte(strings.Repeat("0", 64)+"\n"))
	if out, err := exec.Command(bin, "-V", "-p", pub, "-m", filepath.Join(dir, "id2"), "-x", filepath.Join(dir, "id.minisig")).CombinedOutput(); err == nil {
		t.Fatalf("minisign -V passed another message:\n%s", out)
	}

	// minisign -S with imbundle's secret key file.
	key := write("k.key", MarshalSecretKey(s))
	run("-S", "-W", "-s", key, "-m", msg, "-x", filepath.Join(dir, "m.minisig"), "-t", trustedComment(r.Manifest(), r.ID(), false))
	msig, _ := os.ReadFile(filepath.Join(dir, "m.minisig"))
	if _, err := CheckSignature(r, s.Public(), msig); err != nil {
		t.Fatalf("minisign's signature with imbundle's key: %v\n%s", err, msig)
	}

	// A key pair made by minisign -G -W.
	run("-G", "-W", "-p", filepath.Join(dir, "g.pub"), "-s", filepath.Join(dir, "g.key"))
	gkey, _ := os.ReadFile(filepath.Join(dir, "g.key"))
	gs, err := ParseSecretKey(gkey)
	if err != nil {
		t.Fatalf("minisign's secret key: %v", err)
	}
	gpubRaw, _ := os.ReadFile(filepath.Join(dir, "g.pub"))
	gpub, err := ParsePublicKey(gpubRaw)
	if err != nil || gpub.ID != gs.ID || !gpub.Key.Equal(gs.Public().Key) {
		t.Fatalf("minisign's public key %v: %+v, secret key's %+v", err, gpub, gs.Public())
	}
	gsig, err := SignBundle(r, gs)
	if err != nil {
		t.Fatal(err)
	}
	run("-V", "-p", filepath.Join(dir, "g.pub"), "-m", msg, "-x", write("g.minisig", gsig))
}

// FuzzSignature feeds arbitrary bytes to the signature and key parsers and
// checks a parsed signature against a bundle: never a panic, every error
// an ErrSignature.
//
//	go test -run '^$' -fuzz FuzzSignature -fuzztime 60s -fuzzminimizetime 20x ./bundle/
func FuzzSignature(f *testing.F) {
	s, err := GenerateKey(rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	path := writeTestBundle(f, 100, 16<<10)
	r, err := Open(path)
	if err != nil {
		f.Fatal(err)
	}
	defer r.Close()
	sig, err := SignBundle(r, s)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sig)
	f.Add(MarshalPublicKey(s.Public()))
	f.Add(MarshalSecretKey(s))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, err := range []error{
			func() error { _, err := ParsePublicKey(data); return err }(),
			func() error { _, err := ParseSecretKey(data); return err }(),
		} {
			if err != nil && !errors.Is(err, ErrSignature) {
				t.Fatalf("unclassified error: %v", err)
			}
		}
		if _, err := CheckSignature(r, s.Public(), data); err != nil && !errors.Is(err, ErrSignature) {
			t.Fatalf("unclassified error: %v", err)
		}
	})
}
