package bundle

import (
	"bytes"
	"crypto/ed25519"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/crypto/blake2b"
)

// minisign's file formats (jedisct1.github.io/minisign), so that a key
// made by imbundle keygen signs with minisign -S, and a bundle signature
// checks with minisign -V (SPEC.md §10.1). Only what imbundle needs: Ed25519
// keys, prehashed ("ED") signatures, secret keys without a password.

// ErrSignature is matched (errors.Is) by every error that says a signature
// or key file is malformed, made by another key, or does not sign the
// bundle it is checked against.
var ErrSignature = errors.New("bad signature")

type signatureError struct{ err error }

func (e *signatureError) Error() string        { return e.err.Error() }
func (e *signatureError) Unwrap() error        { return e.err }
func (e *signatureError) Is(target error) bool { return target == ErrSignature }

func signaturef(format string, args ...any) error {
	return &signatureError{fmt.Errorf(format, args...)}
}

// Maximum line lengths minisign reads: a longer trusted comment would be
// cut by it and then fail to verify.
const (
	maxTrustedComment = 1000
	maxKeyFile        = 4096
)

// PublicKey is a minisign Ed25519 public key with its 8-byte key id.
type PublicKey struct {
	ID  [8]byte
	Key ed25519.PublicKey
}

// SecretKey is a minisign Ed25519 secret key with its key id.
type SecretKey struct {
	ID  [8]byte
	Key ed25519.PrivateKey
}

// Public is the public half of s.
func (s SecretKey) Public() PublicKey {
	return PublicKey{ID: s.ID, Key: s.Key.Public().(ed25519.PublicKey)}
}

// IDText is the key id as minisign prints it: the id's bytes read as a
// little-endian integer, in upper-case hex.
func (p PublicKey) IDText() string { return keyIDText(p.ID) }

func keyIDText(id [8]byte) string { return fmt.Sprintf("%016X", binary.LittleEndian.Uint64(id[:])) }

// GenerateKey makes a key pair with a random key id.
func GenerateKey(rand io.Reader) (SecretKey, error) {
	var s SecretKey
	if _, err := io.ReadFull(rand, s.ID[:]); err != nil {
		return s, err
	}
	_, sk, err := ed25519.GenerateKey(rand)
	s.Key = sk
	return s, err
}

// MarshalPublicKey is the public key file: minisign's two lines.
func MarshalPublicKey(p PublicKey) []byte {
	raw := append(append([]byte("Ed"), p.ID[:]...), p.Key...)
	return fmt.Appendf(nil, "untrusted comment: minisign public key %s\n%s\n", p.IDText(), base64.StdEncoding.EncodeToString(raw))
}

// ParsePublicKey reads a public key file (or minisign -P's base64 line alone).
func ParsePublicKey(data []byte) (PublicKey, error) {
	var p PublicKey
	line, err := keyLine(data, "public key")
	if err != nil {
		return p, err
	}
	raw, err := b64.DecodeString(line)
	if err != nil || len(raw) != 2+8+ed25519.PublicKeySize || string(raw[:2]) != "Ed" {
		return p, signaturef("not a minisign Ed25519 public key (want a line of base64 of 42 bytes starting \"Ed\")")
	}
	copy(p.ID[:], raw[2:10])
	p.Key = ed25519.PublicKey(bytes.Clone(raw[10:]))
	return p, nil
}

// secret key layout: sig_alg "Ed", kdf_alg (0 0: no password), chk_alg
// "B2", kdf salt (32), opslimit (8), memlimit (8), key id (8), secret key
// (64), checksum (32) = BLAKE2b-256(sig_alg, key id, secret key).
const secretKeyBytes = 2 + 2 + 2 + 32 + 8 + 8 + 8 + 64 + 32

// MarshalSecretKey is the secret key file, unencrypted (minisign -G -W).
func MarshalSecretKey(s SecretKey) []byte {
	raw := make([]byte, 0, secretKeyBytes)
	raw = append(raw, "Ed\x00\x00B2"...)
	raw = append(raw, make([]byte, 48)...)
	raw = append(raw, s.ID[:]...)
	raw = append(raw, s.Key...)
	chk := secretKeyChecksum(s)
	raw = append(raw, chk[:]...)
	return fmt.Appendf(nil, "untrusted comment: minisign secret key %s (no password: keep this file private)\n%s\n", keyIDText(s.ID), base64.StdEncoding.EncodeToString(raw))
}

func secretKeyChecksum(s SecretKey) [32]byte {
	h, _ := blake2b.New256(nil)
	h.Write([]byte("Ed"))
	h.Write(s.ID[:])
	h.Write(s.Key)
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

// ParseSecretKey reads a secret key file without a password.
func ParseSecretKey(data []byte) (SecretKey, error) {
	var s SecretKey
	line, err := keyLine(data, "secret key")
	if err != nil {
		return s, err
	}
	raw, err := b64.DecodeString(line)
	if err != nil || len(raw) != secretKeyBytes || string(raw[:2]) != "Ed" || string(raw[4:6]) != "B2" {
		return s, signaturef("not a minisign Ed25519 secret key (want a line of base64 of %d bytes starting \"Ed\")", secretKeyBytes)
	}
	if raw[2] != 0 || raw[3] != 0 {
		return s, signaturef("the secret key is protected by a password, which imbundle does not read: remove it with minisign -C -W, or make a key with imbundle keygen")
	}
	copy(s.ID[:], raw[54:62])
	s.Key = ed25519.PrivateKey(bytes.Clone(raw[62:126]))
	chk := raw[126:]
	// minisign 0.11 -G -W leaves the checksum zero; any other must match.
	want := secretKeyChecksum(s)
	if !bytes.Equal(chk, make([]byte, 32)) && subtle.ConstantTimeCompare(chk, want[:]) != 1 {
		return s, signaturef("the secret key's checksum does not match: the file is damaged")
	}
	if !bytes.Equal(s.Key[32:], ed25519.NewKeyFromSeed(s.Key[:32])[32:]) {
		return s, signaturef("the secret key's public half does not match its seed: the file is damaged")
	}
	return s, nil
}

// keyLine is the base64 line of a key file: the line after the
// "untrusted comment:" line, or the file's only line.
func keyLine(data []byte, what string) (string, error) {
	if len(data) > maxKeyFile {
		return "", signaturef("not a minisign %s: %d bytes, more than a key file's %d", what, len(data), maxKeyFile)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\r\n"), "\n")
	for i := range lines {
		lines[i] = strings.TrimRight(lines[i], "\r")
	}
	switch {
	case len(lines) == 1:
		return lines[0], nil
	case len(lines) == 2 && strings.HasPrefix(lines[0], "untrusted comment: "):
		return lines[1], nil
	}
	return "", signaturef("not a minisign %s file: want an \"untrusted comment:\" line and a base64 line", what)
}

// Signature is a parsed minisign signature file.
type Signature struct {
	KeyID          [8]byte
	Sig            [ed25519.SignatureSize]byte // over BLAKE2b-512 of the message
	TrustedComment string
	GlobalSig      [ed25519.SignatureSize]byte // over Sig and TrustedComment
}

// Sign makes a prehashed minisign signature file of message. The trusted
// comment is signed too; it must be one line of at most 1000 bytes.
func Sign(s SecretKey, message []byte, trusted, untrusted string) ([]byte, error) {
	if len(trusted) > maxTrustedComment || strings.ContainsAny(trusted, "\r\n") || strings.ContainsAny(untrusted, "\r\n") {
		return nil, fmt.Errorf("a signature's comments are one line each, the trusted one at most %d bytes", maxTrustedComment)
	}
	h := blake2b.Sum512(message)
	sig := ed25519.Sign(s.Key, h[:])
	global := ed25519.Sign(s.Key, append(bytes.Clone(sig), trusted...))
	first := append(append([]byte("ED"), s.ID[:]...), sig...)
	return fmt.Appendf(nil, "untrusted comment: %s\n%s\ntrusted comment: %s\n%s\n", untrusted,
		base64.StdEncoding.EncodeToString(first), trusted, base64.StdEncoding.EncodeToString(global)), nil
}

// ParseSignature reads a signature file without checking it.
func ParseSignature(data []byte) (Signature, error) {
	var sig Signature
	if len(data) > 2*maxKeyFile {
		return sig, signaturef("not a minisign signature: %d bytes, more than %d", len(data), 2*maxKeyFile)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	for i := range lines {
		lines[i] = strings.TrimSuffix(lines[i], "\r")
	}
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "untrusted comment: ") || !strings.HasPrefix(lines[2], "trusted comment: ") {
		return sig, signaturef("not a minisign signature: want 4 lines (untrusted comment, signature, trusted comment, global signature)")
	}
	first, err := b64.DecodeString(lines[1])
	if err != nil || len(first) != 2+8+ed25519.SignatureSize {
		return sig, signaturef("not a minisign signature: line 2 is not base64 of 74 bytes")
	}
	switch string(first[:2]) {
	case "ED":
	case "Ed":
		return sig, signaturef("a legacy (not prehashed) minisign signature: imbundle checks only prehashed ones (minisign -S without -l)")
	default:
		return sig, signaturef("not a minisign signature: algorithm %q, want \"ED\"", first[:2])
	}
	global, err := b64.DecodeString(lines[3])
	if err != nil || len(global) != ed25519.SignatureSize {
		return sig, signaturef("not a minisign signature: line 4 is not base64 of 64 bytes")
	}
	copy(sig.KeyID[:], first[2:10])
	copy(sig.Sig[:], first[10:])
	sig.TrustedComment = strings.TrimPrefix(lines[2], "trusted comment: ")
	copy(sig.GlobalSig[:], global)
	return sig, nil
}

// Verify checks that sig is p's signature of message, trusted comment
// included.
func (p PublicKey) Verify(message []byte, sig Signature) error {
	if sig.KeyID != p.ID {
		return signaturef("signed by key %s, not by the given public key %s", keyIDText(sig.KeyID), p.IDText())
	}
	h := blake2b.Sum512(message)
	if !ed25519.Verify(p.Key, h[:], sig.Sig[:]) {
		return signaturef("the signature does not match: what it signs was changed, or it belongs to another bundle")
	}
	if !ed25519.Verify(p.Key, append(bytes.Clone(sig.Sig[:]), sig.TrustedComment...), sig.GlobalSig[:]) {
		return signaturef("the trusted comment's signature does not match: the signature file was edited")
	}
	return nil
}

// b64 decodes strictly: unused low bits of the last character must be
// zero, so that each signature file has one spelling and a changed byte
// never passes.
var b64 = base64.StdEncoding.Strict()
