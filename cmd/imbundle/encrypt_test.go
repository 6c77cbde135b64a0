package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/imbundle/imbundle/internal/testenv"
)

// identityFile writes a new age identity to a 0600 file and returns the
// path and the recipient.
func identityFile(t *testing.T, dir, name string) (string, string) {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("# test identity\n"+id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p, id.Recipient().String()
}

// An export encrypted to two recipients (and signed) shows only sizes and
// counts to inspect without an identity; import, verify, extract and plan
// refuse it without one (exit 2, nothing written) or with the wrong one,
// and round-trip it with either identity; the signature checks without
// naming the sources.
func TestEncryptedExport(t *testing.T) {
	srcURL, src := testenv.MySQLDatabase(t, "enc_src")
	for _, q := range []string{
		"CREATE TABLE secret_users (id BIGINT PRIMARY KEY, name VARCHAR(64))",
		"INSERT INTO secret_users VALUES (1, 'ann-the-secret'), (2, 'bob'), (3, 'cy')",
	} {
		if _, err := src.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	alice, aliceR := identityFile(t, dir, "alice.txt")
	bob, bobR := identityFile(t, dir, "bob.txt")
	eve, _ := identityFile(t, dir, "eve.txt")
	recipients := filepath.Join(dir, "recipients.txt")
	os.WriteFile(recipients, []byte(bobR+"\n"), 0o644)
	key := filepath.Join(dir, "k")
	if out, err := runCLI(t, "keygen", "-o", key); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	path := filepath.Join(dir, "enc.imb")
	out, err := runCLI(t, "-q", "export", "--source", srcURL, "-o", path, "--param", "lock-wait=2", "--encrypt-to", aliceR, "--encrypt-to", recipients, "--sign", key)
	if err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	raw, _ := os.ReadFile(path)
	sig, _ := os.ReadFile(path + ".minisig")
	dbName := srcURL[strings.LastIndex(srcURL, "/")+1:]
	for _, secret := range []string{"secret_users", "ann-the-secret", dbName, "127.0.0.1"} {
		if strings.Contains(string(raw), secret) || strings.Contains(string(sig), secret) {
			t.Fatalf("the encrypted bundle or its signature holds %q in clear", secret)
		}
	}

	out, err = runCLI(t, "inspect", path)
	if err != nil || !strings.Contains(out, "encrypted (age) to: X25519, X25519") || !strings.Contains(out, "#00000  1 part(s)") || strings.Contains(out, "secret_users") {
		t.Fatalf("inspect without identity: %v\n%s", err, out)
	}
	out, err = runCLI(t, "inspect", path, "--identity", bob)
	if err != nil || !strings.Contains(out, dbName+".secret_users") {
		t.Fatalf("inspect --identity: %v\n%s", err, out)
	}

	dstURL, dst := testenv.MySQLDatabase(t, "enc_dst")
	jsonl := filepath.Join(dir, "users.jsonl")
	for _, ids := range [][]string{nil, {"--identity", eve}} {
		for _, args := range [][]string{
			{"import", path, "--target", dstURL, "--rejects", filepath.Join(dir, "rej.jsonl")},
			{"verify", path},
			{"extract", path, "--dataset", dbName + ".secret_users", "-o", jsonl},
			{"plan", path, "--target", dstURL},
		} {
			args = append(append([]string{"-q"}, args...), ids...)
			out, err := runCLI(t, args...)
			if exitCodeOf(err) != exitUsage || !strings.Contains(err.Error(), "encrypted") {
				t.Fatalf("%v: exit %d: %v\n%s", args, exitCodeOf(err), err, out)
			}
		}
	}
	for _, f := range []string{jsonl, filepath.Join(dir, "rej.jsonl")} {
		if _, err := os.Stat(f); err == nil {
			t.Fatalf("%s written by a refused command", f)
		}
	}
	var n int
	dst.QueryRow("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE()").Scan(&n)
	if n != 0 {
		t.Fatalf("a refused import created %d table(s)", n)
	}

	// The signature covers the id, the ciphertext's: checked without an
	// identity, and a changed signature byte still fails it.
	out, err = runCLI(t, "verify", path, "--pubkey", key+".pub")
	if err != nil || !strings.Contains(out, "signature: good") || !strings.Contains(out, "its parts were not checked") {
		t.Fatalf("verify --pubkey without --identity: %v\n%s", err, out)
	}
	bad := filepath.Join(dir, "badsig.imb")
	os.WriteFile(bad, raw, 0o644)
	badSig := append([]byte(nil), sig...)
	badSig[bytes.IndexByte(badSig, '\n')+20] ^= 0x01
	os.WriteFile(bad+".minisig", badSig, 0o644)
	if out, err := runCLI(t, "verify", bad, "--pubkey", key+".pub"); exitCodeOf(err) != exitBadInput {
		t.Fatalf("verify --pubkey of a changed signature without --identity: exit %d: %v\n%s", exitCodeOf(err), err, out)
	}
	// An encrypted export in volumes reads back with the identity.
	vpath := filepath.Join(dir, "vol", "enc.imb")
	os.MkdirAll(filepath.Dir(vpath), 0o755)
	if out, err := runCLI(t, "-q", "export", "--source", srcURL, "-o", vpath, "--param", "lock-wait=2", "--encrypt-to", aliceR, "--volume-size", "8K", "--sign", key); err != nil || !strings.Contains(out, "beside it") {
		t.Fatalf("encrypted volume export: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "verify", vpath, "--identity", alice, "--pubkey", key+".pub"); err != nil || !strings.Contains(out, "OK: bundle") {
		t.Fatalf("verify an encrypted volume set: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "inspect", vpath); err != nil || !strings.Contains(out, "volumes  1 found beside it") || !strings.Contains(out, "#00000  1 part(s)") {
		t.Fatalf("inspect an encrypted volume set without --identity: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "verify", vpath, "--pubkey", key+".pub"); err != nil || !strings.Contains(out, "signature: good") {
		t.Fatalf("verify --pubkey of an encrypted volume set without --identity: %v\n%s", err, out)
	}

	out, err = runCLI(t, "verify", path, "--identity", alice, "--pubkey", key+".pub")
	if err != nil || !strings.Contains(out, "signature: good") || !strings.Contains(out, "encrypted bundle") || !strings.Contains(out, "OK: bundle") {
		t.Fatalf("verify --identity --pubkey: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "-q", "import", path, "--target", dstURL, "--identity", bob, "--pubkey", key+".pub"); err != nil {
		t.Fatalf("import --identity: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "verify", path, "--identity", bob, "--against", dstURL); err != nil {
		t.Fatalf("verify --against: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "extract", path, "--identity", alice, "--dataset", dbName+".secret_users", "-o", jsonl); err != nil {
		t.Fatalf("extract: %v\n%s", err, out)
	}
	if got, _ := os.ReadFile(jsonl); !strings.Contains(string(got), "ann-the-secret") {
		t.Fatalf("extracted:\n%s", got)
	}

	// An identity file others may read is refused before anything.
	os.Chmod(bob, 0o644)
	if _, err := runCLI(t, "inspect", path, "--identity", bob); exitCodeOf(err) != exitUsage || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("group-readable identity: %v", err)
	}
}

// A passphrase bundle: the passphrase from an environment variable or a
// 0600 file, never the command line; the wrong one is refused.
func TestPassphraseExport(t *testing.T) {
	dir := t.TempDir()
	rc := testenv.Redis(t, 5)
	rc.FlushDB(t.Context())
	rc.Set(t.Context(), "enc:k1", "hush-hush", 0)
	path := filepath.Join(dir, "p.imb")
	t.Setenv("IMB_TEST_PASS", "correct horse battery")
	out, err := runCLI(t, "-q", "export", "--source", redisURL(5), "-o", path, "--passphrase-env", "IMB_TEST_PASS")
	if err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "inspect", path); err != nil || !strings.Contains(out, "encrypted (age) to: scrypt") {
		t.Fatalf("inspect: %v\n%s", err, out)
	}
	pf := filepath.Join(dir, "pass")
	os.WriteFile(pf, []byte("correct horse battery\n"), 0o600)
	if out, err := runCLI(t, "verify", path, "--deep", "--passphrase-file", pf); err != nil {
		t.Fatalf("verify --passphrase-file: %v\n%s", err, out)
	}
	t.Setenv("IMB_TEST_PASS", "wrong horse")
	if _, err := runCLI(t, "verify", path, "--passphrase-env", "IMB_TEST_PASS"); exitCodeOf(err) != exitUsage {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if _, err := runCLI(t, "-q", "export", "--source", redisURL(5), "-o", filepath.Join(dir, "q.imb"), "--passphrase-env", "IMB_TEST_PASS", "--encrypt-to", "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"); exitCodeOf(err) != exitUsage {
		t.Fatalf("passphrase with a recipient: %v", err)
	}
}
