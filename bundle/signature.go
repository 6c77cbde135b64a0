package bundle

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/imbundle/imbundle/spec"
)

// A bundle's signature (SPEC.md §10.1) is a minisign signature, in the
// file beside the bundle, of the body of its manifest.sha256 entry: the
// bundle id and a newline. The id is the SHA-256 of manifest.json, which
// holds every part's SHA-256 and size, and the container is canonical
// (§2.3), so the id fixes every byte of the bundle: signing it signs the
// bundle, and checking it costs no pass over the parts (the level-2
// check that follows compares them with the manifest).

// SignatureSuffix is appended to a bundle's path to name its signature
// file, as minisign names FILE's FILE.minisig.
const SignatureSuffix = ".minisig"

// SignedMessage is what a bundle signature signs: manifest.sha256's body.
func SignedMessage(id string) []byte { return []byte(id + "\n") }

// SignatureInfo is what a checked signature says of the bundle.
type SignatureInfo struct {
	KeyID   string    // the signing key's id, as minisign prints it
	ID      string    // the bundle id
	Created time.Time // the manifest's created_at, to the second
	Sources []string  // the sources' redacted URLs (maybe cut short: More)
	More    int       // sources left out of the comment to keep it short
	// Encrypted is set when the comment says the bundle is encrypted
	// (and so names no source).
	Encrypted bool
}

// trustedComment is the signed comment: the bundle id, its creation time
// and its sources, so that a signature shown by minisign -V says which
// bundle it is and when it was made (an old bundle cannot pass for a new
// one: the time is signed). URLs are the manifest's, already redacted;
// spaces and control characters in them are escaped so that the comment
// stays one line of words.
//
// An encrypted bundle's signature names no source (the signature file is
// not encrypted) and says encrypted=age instead.
func trustedComment(m *spec.Manifest, id string, encrypted bool) string {
	head := fmt.Sprintf("imbundle id=%s created=%s sources=", id, m.CreatedAt.UTC().Format(time.RFC3339))
	if encrypted {
		return head + " encrypted=age"
	}
	var urls []string
	for _, s := range m.Sources {
		urls = append(urls, escapeComment(s.URL))
	}
	for n := len(urls); n >= 0; n-- {
		c := head + strings.Join(urls[:n], ",")
		if n < len(urls) {
			c += fmt.Sprintf(" more=%d", len(urls)-n)
		}
		if len(c) <= maxTrustedComment {
			return c
		}
	}
	return head
}

// escapeComment percent-escapes what would end a word or a line.
func escapeComment(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c <= ' ' || c == ',' || c == '%' || c == 0x7f {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// SignBundle makes the signature file of the bundle r.
func SignBundle(r *Reader, s SecretKey) ([]byte, error) {
	return SignManifest(s, r.ID(), r.Manifest(), r.Encrypted())
}

// SignManifest makes the signature file of the bundle of id and manifest m
// (a Writer's, after Close: an encrypted bundle is signed without
// decrypting it).
func SignManifest(s SecretKey, id string, m *spec.Manifest, encrypted bool) ([]byte, error) {
	untrusted := fmt.Sprintf("imbundle signature of bundle %s; check: imbundle verify FILE --pubkey KEY.pub", id[:16])
	return Sign(s, SignedMessage(id), trustedComment(m, id, encrypted), untrusted)
}

// CheckSignature checks that sigFile is p's signature of the bundle r and
// that its trusted comment names r. Its errors match ErrSignature.
func CheckSignature(r *Reader, p PublicKey, sigFile []byte) (SignatureInfo, error) {
	var info SignatureInfo
	sig, err := ParseSignature(sigFile)
	if err != nil {
		return info, err
	}
	if err := p.Verify(SignedMessage(r.ID()), sig); err != nil {
		return info, err
	}
	info, err = parseTrustedComment(sig.TrustedComment)
	if err != nil {
		return info, err
	}
	info.KeyID = p.IDText()
	if info.ID != r.ID() {
		// Signed by the key, yet naming another bundle: not an imbundle
		// signature of this one.
		return info, signaturef("the signature's trusted comment names bundle %s, not this bundle %s", info.ID, r.ID())
	}
	if want := r.Manifest().CreatedAt.UTC().Truncate(time.Second); !info.Created.Equal(want) {
		return info, signaturef("the signature's trusted comment says created %s, the manifest %s", info.Created.Format(time.RFC3339), want.Format(time.RFC3339))
	}
	return info, nil
}

// CheckSignatureOfID checks that sigFile is p's signature of the bundle
// of this id, as CheckSignature does but without the manifest: for an
// encrypted bundle opened without its identity (EncryptedSummary.ID).
// The id fixes the manifest's bytes, so the signature still proves the
// bundle whole; only the comment's created time is not compared with the
// manifest's, which is encrypted.
func CheckSignatureOfID(id string, p PublicKey, sigFile []byte) (SignatureInfo, error) {
	var info SignatureInfo
	sig, err := ParseSignature(sigFile)
	if err != nil {
		return info, err
	}
	if err := p.Verify(SignedMessage(id), sig); err != nil {
		return info, err
	}
	if info, err = parseTrustedComment(sig.TrustedComment); err != nil {
		return info, err
	}
	info.KeyID = p.IDText()
	if info.ID != id {
		return info, signaturef("the signature's trusted comment names bundle %s, not this bundle %s", info.ID, id)
	}
	return info, nil
}

// parseTrustedComment reads trustedComment's words.
func parseTrustedComment(c string) (SignatureInfo, error) {
	var info SignatureInfo
	words := strings.Fields(c)
	if len(words) < 3 || words[0] != "imbundle" {
		return info, signaturef("the trusted comment %q is not an imbundle bundle signature's", c)
	}
	for _, w := range words[1:] {
		k, v, _ := strings.Cut(w, "=")
		var err error
		switch k {
		case "id":
			info.ID = v
		case "created":
			info.Created, err = time.Parse(time.RFC3339, v)
		case "sources":
			if v != "" {
				info.Sources = strings.Split(v, ",")
			}
		case "more":
			info.More, err = strconv.Atoi(v)
		case "encrypted":
			info.Encrypted = true
		}
		if err != nil {
			return info, signaturef("the trusted comment's %s: %v", k, err)
		}
	}
	if info.ID == "" || info.Created.IsZero() {
		return info, signaturef("the trusted comment %q names no bundle id or creation time", c)
	}
	return info, nil
}
