package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/scheme"
)

// The signature flags of export (--sign), verify and import (--pubkey,
// --signature): SPEC.md §10.1.

// readSecretKey reads export --sign's key file, refusing one that others
// may read: a signature says who wrote the bundle only while the key is
// the writer's alone.
func readSecretKey(path string) (bundle.SecretKey, error) {
	st, err := os.Stat(path)
	if err != nil {
		return bundle.SecretKey{}, scheme.Usagef("--sign: %v", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return bundle.SecretKey{}, scheme.Usagef("--sign %s: the secret key may be read by group or others (mode %04o): chmod 600 %s", path, st.Mode().Perm(), path)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return bundle.SecretKey{}, scheme.Usagef("--sign: %v", err)
	}
	s, err := bundle.ParseSecretKey(raw)
	if err != nil {
		return s, scheme.Usagef("--sign %s: %v", path, err)
	}
	return s, nil
}

// writeSignature signs the bundle w wrote at path into path.minisig,
// through a temporary file so that a signature file is whole or absent.
// On any failure it removes the bundle too: an export asked to sign
// leaves a signed bundle or none.
func writeSignature(path string, w *bundle.Writer, s bundle.SecretKey) (string, error) {
	sigPath := path + bundle.SignatureSuffix
	fail := func(err error) (string, error) {
		os.Remove(path)
		return "", fmt.Errorf("signing the bundle failed, so it was removed: %w", err)
	}
	sig, err := bundle.SignManifest(s, w.ID(), w.Manifest(), w.Encrypted())
	if err != nil {
		return fail(err)
	}
	tmp := sigPath + ".partial"
	os.Remove(tmp)
	if err := writeNew(tmp, sig, 0o644); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, sigPath); err != nil {
		os.Remove(tmp)
		return fail(err)
	}
	return sigPath, nil
}

// signatureCheck is --pubkey and --signature of verify and import.
type signatureCheck struct {
	pubkey, signature string
}

// check checks the bundle's signature when --pubkey is given, before
// anything else reads the bundle's parts or touches a target; it prints
// what the signature vouches for. A missing, malformed or wrong signature
// is bad input (exit 5).
func (c signatureCheck) check(w io.Writer, r *bundle.Reader, path string) error {
	if c.pubkey == "" {
		if c.signature != "" {
			return scheme.Usagef("--signature needs --pubkey: the key the signature is checked with")
		}
		return nil
	}
	return c.checkWith(w, r.ID(), path, func(p bundle.PublicKey, sig []byte) (bundle.SignatureInfo, error) {
		return bundle.CheckSignature(r, p, sig)
	})
}

// checkID is check of an encrypted bundle opened without its identity:
// the signature of its id, which is the ciphertext's.
func (c signatureCheck) checkID(w io.Writer, id, path string) error {
	return c.checkWith(w, id, path, func(p bundle.PublicKey, sig []byte) (bundle.SignatureInfo, error) {
		return bundle.CheckSignatureOfID(id, p, sig)
	})
}

func (c signatureCheck) checkWith(w io.Writer, id, path string, checkSig func(bundle.PublicKey, []byte) (bundle.SignatureInfo, error)) error {
	raw, err := os.ReadFile(c.pubkey)
	if err != nil {
		return scheme.Usagef("--pubkey: %v", err)
	}
	p, err := bundle.ParsePublicKey(raw)
	if err != nil {
		return scheme.Usagef("--pubkey %s: %v", c.pubkey, err)
	}
	sigPath := c.signature
	if sigPath == "" {
		sigPath = path + bundle.SignatureSuffix
	}
	sig, err := os.ReadFile(sigPath)
	if errors.Is(err, os.ErrNotExist) {
		return withCode(exitBadInput, fmt.Errorf("bundle %s is not signed: no signature file %s (copy it with the bundle, or name it with --signature)", path, sigPath))
	}
	if err != nil {
		return withCode(exitBadInput, fmt.Errorf("reading the signature: %w", err))
	}
	info, err := checkSig(p, sig)
	if err != nil {
		return withCode(exitBadInput, fmt.Errorf("%s is not a good signature of bundle %s by key %s: %w", sigPath, id, p.IDText(), err))
	}
	sources := strings.Join(info.Sources, ", ")
	if info.More > 0 {
		sources += fmt.Sprintf(" and %d more", info.More)
	}
	if info.Encrypted {
		sources = "sources not named (encrypted bundle)"
	}
	fmt.Fprintf(w, "signature: good, key %s; bundle %s created %s from %s\n", info.KeyID, info.ID, info.Created.Format(time.RFC3339), sources)
	return nil
}

func (c *signatureCheck) flags(f *pflag.FlagSet) {
	f.StringVar(&c.pubkey, "pubkey", "", "check the bundle's signature with this public key (imbundle keygen's FILE.pub, or minisign's) first; refuse an unsigned or wrongly signed bundle")
	f.StringVar(&c.signature, "signature", "", "the signature file to check with --pubkey (default: the bundle's path + .minisig)")
}
