package bundle

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"testing"

	"filippo.io/age"
)

func x25519(t *testing.T) *age.X25519Identity {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// readAll verifies every part and decodes every row, returning the
// recomputed digest sum and row count.
func readAll(t *testing.T, r *Reader) (string, int64) {
	t.Helper()
	ds := &r.Manifest().Datasets[0]
	if err := VerifyAll(context.Background(), r, ds.Parts, 2, nil); err != nil {
		t.Fatal(err)
	}
	var d Digest
	for i := range ds.Parts {
		pr, err := r.OpenPart(ds, i)
		if err != nil {
			t.Fatal(err)
		}
		for {
			rec, err := pr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			d.AddRecord(rec)
		}
		pr.Close()
	}
	if got := d.Spec(); got != ds.Digest {
		t.Fatalf("recomputed digest %+v, manifest %+v", got, ds.Digest)
	}
	return d.Spec().Sum, d.Spec().Rows
}

// An encrypted bundle round-trips with any of its recipients' identities,
// shows only sizes and counts without one, refuses the wrong one, holds
// none of its names or values in clear, and a changed part byte fails.
func TestEncryptedBundle(t *testing.T) {
	alice, bob, eve := x25519(t), x25519(t), x25519(t)
	path := writeTestBundleWith(t, 5000, Options{PartBytes: 16 << 10, EncryptTo: []age.Recipient{alice.Recipient(), bob.Recipient()}})
	clear := writeTestBundle(t, 5000, 16<<10)

	for _, id := range []age.Identity{alice, bob} {
		r, err := OpenWith(path, ReadOptions{Identities: []age.Identity{id}})
		if err != nil {
			t.Fatal(err)
		}
		if !r.Encrypted() || r.Manifest().Version != EncryptedVersion || len(r.Manifest().Datasets[0].Parts) < 2 {
			t.Fatalf("encrypted %v, version %s, %d parts", r.Encrypted(), r.Manifest().Version, len(r.Manifest().Datasets[0].Parts))
		}
		sum, rows := readAll(t, r)
		cr := openT(t, clear)
		if cs, crows := readAll(t, cr); cs != sum || crows != rows || rows != 5000 {
			t.Fatalf("encrypted rows digest %s (%d), clear %s (%d)", sum, rows, cs, crows)
		}
		r.Close()
	}

	_, err := Open(path)
	var ee *EncryptedError
	if !errors.As(err, &ee) || ee.Err != nil || errors.Is(err, ErrCorrupt) {
		t.Fatalf("open without identity: %v", err)
	}
	if s := ee.Summary; len(s.Recipients) != 2 || s.Recipients[0] != "X25519" || len(s.Datasets) != 1 || s.Datasets[0].Parts < 2 || s.Datasets[0].Bytes <= 0 || s.Version != EncryptedVersion {
		t.Fatalf("summary %+v", s)
	}
	_, err = OpenWith(path, ReadOptions{Identities: []age.Identity{eve}})
	if !errors.As(err, &ee) || ee.Err == nil || !errors.Is(err, ErrIdentity) {
		t.Fatalf("open with the wrong identity: %v", err)
	}

	raw, _ := os.ReadFile(path)
	for _, secret := range []string{"db.users", "user😀", "mysql://", "127.0.0.1", "ARROW1", `"rows"`} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Fatalf("the encrypted bundle holds %q in clear", secret)
		}
	}

	// A part byte changed: its SHA-256 fails, and so does age's chunk
	// authentication when it is read anyway.
	r, err := OpenWith(path, ReadOptions{Identities: []age.Identity{alice}})
	if err != nil {
		t.Fatal(err)
	}
	p := r.Manifest().Datasets[0].Parts[1]
	at, _ := entryOffset(t, raw, p.Path)
	r.Close()
	raw[at+int(p.Bytes)/2] ^= 0x01
	bad := t.TempDir() + "/bad.imb"
	os.WriteFile(bad, raw, 0o644)
	br, err := OpenWith(bad, ReadOptions{Identities: []age.Identity{alice}})
	if err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	if err := br.VerifyPart(p); !errors.Is(err, ErrChecksum) {
		t.Fatalf("changed encrypted part: %v", err)
	}
	pr, err := br.OpenPart(&br.Manifest().Datasets[0], 1)
	if err == nil {
		for err == nil {
			_, err = pr.Next()
		}
		pr.Close()
	}
	if err == nil || err == io.EOF {
		t.Fatal("a changed encrypted part decoded")
	}
}

// A passphrase bundle (age's scrypt recipient) opens with the passphrase
// alone, and not with another.
func TestPassphraseBundle(t *testing.T) {
	rc, err := age.NewScryptRecipient("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	rc.SetWorkFactor(10) // the test's speed; the CLI keeps age's default
	path := writeTestBundleWith(t, 2000, Options{PartBytes: 16 << 10, EncryptTo: []age.Recipient{rc}})
	id, _ := age.NewScryptIdentity("correct horse")
	r, err := OpenWith(path, ReadOptions{Identities: []age.Identity{id}})
	if err != nil {
		t.Fatal(err)
	}
	if _, rows := readAll(t, r); rows != 2000 {
		t.Fatalf("%d rows", rows)
	}
	r.Close()
	wrong, _ := age.NewScryptIdentity("wrong horse")
	if _, err := OpenWith(path, ReadOptions{Identities: []age.Identity{wrong}}); !errors.Is(err, ErrIdentity) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	_, err = Open(path)
	var ee *EncryptedError
	if !errors.As(err, &ee) || len(ee.Summary.Recipients) != 1 || ee.Summary.Recipients[0] != "scrypt" {
		t.Fatalf("summary: %v", err)
	}
}

// entryOffset is the data offset and size of the named entry in raw.
func entryOffset(t *testing.T, raw []byte, name string) (int, int) {
	t.Helper()
	dir, err := readZipDir(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range dir {
		if e.name == name {
			return int(e.dataOffset()), int(e.size)
		}
	}
	t.Fatalf("no entry %s", name)
	return 0, 0
}
