package bundle

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"filippo.io/age"

	"github.com/imbundle/imbundle/spec"
)

// An encrypted bundle (SPEC.md §10.2) is the same container with a second
// entry, key.age: the bundle's own age X25519 identity, encrypted to the
// user's recipients (X25519 keys, or one passphrase). Every part and the
// manifest are separate age files encrypted to that identity's recipient,
// so that a part stays randomly accessible (age.DecryptReaderAt) and a
// passphrase costs one scrypt per bundle, not one per part. Sizes, CRCs,
// SHA-256s and the bundle id are those of the encrypted entries: a bundle
// is checked, and its signature too, without decrypting it.

// KeyEntry is the entry holding the bundle's identity, encrypted.
const KeyEntry = "key.age"

// EncryptedVersion is the format version of an encrypted bundle: 2.2 with
// the key entry (an unencrypted bundle is still written as 2.2).
const EncryptedVersion = "2.3"

const (
	maxKeyEntryBytes = 1 << 20 // a header of thousands of recipients
	maxIdentityBytes = 1 << 10 // AGE-SECRET-KEY-1... and a newline
)

// ErrIdentity is matched (errors.Is) by the errors of an encrypted bundle
// opened without an identity, or with none that decrypts it. It does not
// match ErrCorrupt: the file may be fine.
var ErrIdentity = errors.New("encrypted bundle")

// EncryptedError is the error of Open on an encrypted bundle without an
// identity, or with the wrong one. It carries what the container shows
// without decrypting anything.
type EncryptedError struct {
	Summary EncryptedSummary
	Err     error // the wrong identity's error; nil when none was given
}

func (e *EncryptedError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("bundle is encrypted and no identity given decrypts it: %v", e.Err)
	}
	return "bundle is encrypted: give an age identity file that it was encrypted to (or the passphrase)"
}

func (e *EncryptedError) Unwrap() error        { return e.Err }
func (e *EncryptedError) Is(target error) bool { return target == ErrIdentity }

// EncryptedSummary is what an encrypted bundle shows without its identity:
// counts and sizes of entries, and to what kind of recipients it is
// encrypted; no name, row count or value.
type EncryptedSummary struct {
	Version string
	// ID is the bundle id (the SHA-256 of the encrypted manifest), which
	// a signature covers: checkable without the identity
	// (CheckSignatureOfID). "" if the manifest entries are damaged.
	ID         string
	Size       int64
	Recipients []string // stanza types of key.age: "X25519", "scrypt", ...
	Datasets   []EncryptedDataset
	// Volumes counts the volume files found beside an index (SPEC.md
	// §2.6), whose parts Datasets counts; their list is encrypted.
	Volumes int
}

// EncryptedDataset is one dataset index's parts as the container lists them.
type EncryptedDataset struct {
	Index int
	Parts int
	Bytes int64 // encrypted
}

// ReadOptions tune Open.
type ReadOptions struct {
	// Identities decrypt an encrypted bundle; an unencrypted one ignores
	// them.
	Identities []age.Identity
	// Volumes is where the volumes of a bundle split into volumes are
	// (SPEC.md §2.6); OpenWith's default is the index's directory.
	Volumes VolumeStore
	// Index is the index's file name, for finding extra volumes in
	// Volumes; OpenWith sets it from the path.
	Index string
}

// encryptBytes encrypts body to recipients as one age file.
func encryptBytes(body []byte, recipients ...age.Recipient) ([]byte, error) {
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, recipients...)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(body); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// decryptBytes decrypts one age file of at most limit plaintext bytes.
func decryptBytes(body []byte, limit int64, identities ...age.Identity) ([]byte, error) {
	r, err := age.Decrypt(bytes.NewReader(body), identities...)
	if err != nil {
		return nil, err
	}
	out, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(out)) > limit {
		return nil, fmt.Errorf("decrypts to more than %d bytes", limit)
	}
	return out, nil
}

// newBundleKey makes a bundle's identity and the key entry's body.
func newBundleKey(recipients []age.Recipient) (*age.X25519Identity, []byte, error) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return nil, nil, err
	}
	body, err := encryptBytes([]byte(id.String()+"\n"), recipients...)
	if err != nil {
		return nil, nil, fmt.Errorf("encrypt the bundle key: %w", err)
	}
	return id, body, nil
}

// openBundleKey decrypts the key entry with the user's identities.
func (r *Reader) openBundleKey(identities []age.Identity) error {
	body, err := r.readSmall(KeyEntry, maxKeyEntryBytes)
	if err != nil {
		return err
	}
	if len(identities) == 0 {
		return &EncryptedError{Summary: r.encryptedSummary(body)}
	}
	plain, err := decryptBytes(body, maxIdentityBytes, identities...)
	if err != nil {
		var nm *age.NoIdentityMatchError
		if errors.As(err, &nm) || errors.Is(err, age.ErrIncorrectIdentity) {
			return &EncryptedError{Summary: r.encryptedSummary(body), Err: err}
		}
		return fmt.Errorf("entry %s: %w", KeyEntry, err)
	}
	id, err := age.ParseX25519Identity(strings.TrimSuffix(string(plain), "\n"))
	if err != nil {
		return fmt.Errorf("entry %s: decrypts to no bundle identity: %w", KeyEntry, err)
	}
	r.key = id
	return nil
}

// encryptedSummary lists the container's part entries per dataset index
// and the recipient stanza types of the key entry's age header (its
// "-> TYPE ..." lines, which age writes in clear).
func (r *Reader) encryptedSummary(keyBody []byte) EncryptedSummary {
	s := EncryptedSummary{Version: r.version, Size: r.size}
	for _, line := range strings.Split(string(keyBody[:min(len(keyBody), 64<<10)]), "\n") {
		if strings.HasPrefix(line, "---") {
			break
		}
		if rest, ok := strings.CutPrefix(line, "-> "); ok {
			typ, _, _ := strings.Cut(rest, " ")
			s.Recipients = append(s.Recipients, typ)
		}
	}
	s.Datasets = addEncryptedParts(nil, r.order)
	return s
}

// addEncryptedParts adds the part entries of a container to a summary's
// datasets.
func addEncryptedParts(ds []EncryptedDataset, entries []zipEntry) []EncryptedDataset {
	byIndex := map[int]*EncryptedDataset{}
	for i := range ds {
		byIndex[ds[i].Index] = &ds[i]
	}
	for _, e := range entries {
		ds, _, ok := parsePartPath(e.name)
		if !ok {
			continue
		}
		d := byIndex[ds]
		if d == nil {
			d = &EncryptedDataset{Index: ds}
			byIndex[ds] = d
		}
		d.Parts++
		d.Bytes += int64(e.size)
	}
	out := make([]EncryptedDataset, 0, len(byIndex))
	for _, d := range byIndex {
		out = append(out, *d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	return out
}

// Encrypted reports whether the bundle is encrypted.
func (r *Reader) Encrypted() bool { return r.key != nil }

// plainSection is a part's Arrow file: the entry's bytes, decrypted if the
// bundle is encrypted. A changed byte of an encrypted part fails age's
// authentication of its chunk here, or its SHA-256 in VerifyPart.
func (r *Reader) plainSection(p spec.Part) (*io.SectionReader, error) {
	sec, _, err := r.section(p)
	if err != nil || r.key == nil {
		return sec, err
	}
	pa, n, err := age.DecryptReaderAt(sec, sec.Size(), r.key)
	if err != nil {
		return nil, corruptf("entry %q: does not decrypt: %w", p.Path, err)
	}
	return io.NewSectionReader(fullReadAt{pa}, 0, n), nil
}

// fullReadAt drops the io.EOF that age's ReaderAt returns with a read
// that ends at the plaintext's end (io.ReaderAt allows it): the part
// checks, written for a file that goes on after the entry, take any error
// as damage.
type fullReadAt struct{ io.ReaderAt }

func (f fullReadAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := f.ReaderAt.ReadAt(p, off)
	if err == io.EOF && n == len(p) {
		err = nil
	}
	return n, err
}
