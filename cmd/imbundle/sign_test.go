package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imbundle/imbundle/internal/testenv"
)

// keygen writes a 0600 secret key and its public key, refuses to overwrite
// either, and export --sign refuses a key others may read.
func TestKeygen(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "site.key")
	out, err := runCLI(t, "keygen", "-o", key)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	st, err := os.Stat(key)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("secret key: %v, mode %v", err, st.Mode())
	}
	pub, err := os.ReadFile(key + ".pub")
	if err != nil || !strings.HasPrefix(string(pub), "untrusted comment: minisign public key ") {
		t.Fatalf("public key: %v\n%s", err, pub)
	}
	before, _ := os.ReadFile(key)
	if _, err := runCLI(t, "keygen", "-o", key); exitCodeOf(err) != exitUsage {
		t.Fatalf("keygen over an existing key: %v", err)
	}
	if after, _ := os.ReadFile(key); !bytes.Equal(before, after) {
		t.Fatal("keygen changed an existing key")
	}
	os.Chmod(key, 0o640)
	bundlePath := filepath.Join(dir, "b.imb")
	_, err = runCLI(t, "-q", "export", "--source", redisURL(1), "-o", bundlePath, "--sign", key)
	if exitCodeOf(err) != exitUsage || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("export --sign with a group-readable key: %v", err)
	}
	if _, err := os.Stat(bundlePath); err == nil {
		t.Fatal("a bundle was written with a refused key")
	}
}

// A signed export verifies and imports with its public key; every
// tampering (a part byte, a manifest byte, a signature byte, another
// bundle's signature, no signature, another key) makes verify exit 5 and
// import refuse before it touches the target.
func TestSignedBundle(t *testing.T) {
	srcURL, src := testenv.MySQLDatabase(t, "sig_src")
	for _, q := range []string{
		"CREATE TABLE users (id BIGINT PRIMARY KEY, name VARCHAR(64))",
		"INSERT INTO users VALUES (1, 'ann'), (2, 'bob'), (3, 'cy')",
	} {
		if _, err := src.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	key, otherKey := filepath.Join(dir, "k"), filepath.Join(dir, "other")
	for _, k := range []string{key, otherKey} {
		if out, err := runCLI(t, "keygen", "-o", k); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
	}
	export := func(name string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		out, err := runCLI(t, "-q", "export", "--source", srcURL, "-o", p, "--param", "lock-wait=2", "--sign", key)
		if err != nil || !strings.Contains(out, "signed by key") {
			t.Fatalf("export: %v\n%s", err, out)
		}
		return p
	}
	good := export("good.imb")
	if _, err := src.Exec("INSERT INTO users VALUES (4, 'dee')"); err != nil {
		t.Fatal(err)
	}
	newer := export("newer.imb")

	out, err := runCLI(t, "verify", good, "--pubkey", key+".pub")
	if err != nil || !strings.Contains(out, "signature: good") || !strings.Contains(out, "OK: bundle") {
		t.Fatalf("verify --pubkey: %v\n%s", err, out)
	}
	dstURL, dst := testenv.MySQLDatabase(t, "sig_dst")
	tables := func() int {
		t.Helper()
		var n int
		if err := dst.QueryRow("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE()").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	copyTo := func(name string, from string) string {
		t.Helper()
		raw, _ := os.ReadFile(from)
		sig, _ := os.ReadFile(from + ".minisig")
		p := filepath.Join(dir, name)
		os.WriteFile(p, raw, 0o644)
		os.WriteFile(p+".minisig", sig, 0o644)
		return p
	}
	flip := func(path string, at func(raw []byte) int) {
		t.Helper()
		raw, _ := os.ReadFile(path)
		raw[at(raw)] ^= 0x01
		os.WriteFile(path, raw, 0o644)
	}
	cases := []struct {
		name, want string
		make       func() string
		pub        string
	}{
		{"part byte", "SHA-256 mismatch", func() string { p := copyTo("part.imb", good); damage(t, p, 0); return p }, key},
		{"manifest byte", "damaged", func() string {
			p := copyTo("manifest.imb", good)
			flip(p, func(raw []byte) int { return bytes.Index(raw, []byte(`"created_at"`)) + 2 })
			return p
		}, key},
		{"signature byte", "not a good signature", func() string {
			p := copyTo("sigbyte.imb", good)
			flip(p+".minisig", func(raw []byte) int { return bytes.IndexByte(raw, '\n') + 20 })
			return p
		}, key},
		{"another bundle's signature", "not a good signature", func() string {
			p := copyTo("swapped.imb", good)
			sig, _ := os.ReadFile(newer + ".minisig")
			os.WriteFile(p+".minisig", sig, 0o644)
			return p
		}, key},
		{"unsigned", "is not signed", func() string { p := copyTo("unsigned.imb", good); os.Remove(p + ".minisig"); return p }, key},
		{"another key", "not by the given public key", func() string { return good }, otherKey},
	}
	for _, c := range cases {
		p := c.make()
		out, err := runCLI(t, "verify", p, "--pubkey", c.pub+".pub")
		if exitCodeOf(err) != exitBadInput || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("%s: verify exit %d, want 5 with %q: %v\n%s", c.name, exitCodeOf(err), c.want, err, out)
		}
		rejects := filepath.Join(dir, "rejects.jsonl")
		out, err = runCLI(t, "-q", "import", p, "--target", dstURL, "--pubkey", c.pub+".pub", "--rejects", rejects)
		if exitCodeOf(err) != exitBadInput || !strings.Contains(err.Error(), "nothing was written") {
			t.Fatalf("%s: import exit %d, want 5: %v\n%s", c.name, exitCodeOf(err), err, out)
		}
		if n := tables(); n != 0 {
			t.Fatalf("%s: the refused import created %d table(s)", c.name, n)
		}
		if _, err := os.Stat(rejects); err == nil {
			t.Fatalf("%s: the refused import wrote a reject file", c.name)
		}
	}

	out, err = runCLI(t, "-q", "import", good, "--target", dstURL, "--pubkey", key+".pub")
	if err != nil || !strings.Contains(out, "signature: good") {
		t.Fatalf("import --pubkey: %v\n%s", err, out)
	}
	var n int
	if err := dst.QueryRow("SELECT COUNT(*) FROM users").Scan(&n); err != nil || n != 3 {
		t.Fatalf("imported %d rows (%v), want 3", n, err)
	}
	if _, err := runCLI(t, "verify", good, "--signature", newer+".minisig"); exitCodeOf(err) != exitUsage {
		t.Fatalf("--signature without --pubkey: %v", err)
	}
}
