package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"filippo.io/age"
	"github.com/spf13/pflag"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/scheme"
)

// The encryption flags (SPEC.md §10.2): export's --encrypt-to and
// passphrase, and --identity and passphrase on every command that reads a
// bundle.

// passphraseFlags name where a passphrase comes from: never the command
// line, where ps shows it.
type passphraseFlags struct {
	file, env string
}

func (p *passphraseFlags) add(f *pflag.FlagSet, what string) {
	f.StringVar(&p.file, "passphrase-file", "", what+" with the passphrase on the first line of this file (mode 0600 or stricter)")
	f.StringVar(&p.env, "passphrase-env", "", what+" with the passphrase in this environment variable")
}

// read returns the passphrase, or "" when neither flag is given.
func (p passphraseFlags) read() (string, error) {
	switch {
	case p.file != "" && p.env != "":
		return "", scheme.Usagef("--passphrase-file and --passphrase-env: give one")
	case p.file != "":
		raw, err := readPrivateFile("--passphrase-file", p.file)
		if err != nil {
			return "", err
		}
		line, _, _ := strings.Cut(string(raw), "\n")
		if line = strings.TrimSuffix(line, "\r"); line == "" {
			return "", scheme.Usagef("--passphrase-file %s: the first line is empty", p.file)
		}
		return line, nil
	case p.env != "":
		v := os.Getenv(p.env)
		if v == "" {
			return "", scheme.Usagef("--passphrase-env %s: the variable is unset or empty", p.env)
		}
		return v, nil
	}
	return "", nil
}

// readPrivateFile reads a file of secrets, refusing one that group or
// others may read (as ssh refuses such a key): a secret others can read
// protects nothing.
func readPrivateFile(flag, path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, scheme.Usagef("%s: %v", flag, err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, scheme.Usagef("%s %s: group or others may read it (mode %04o): chmod 600 %s", flag, path, st.Mode().Perm(), path)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, scheme.Usagef("%s: %v", flag, err)
	}
	return raw, nil
}

// encryptFlags are export's.
type encryptFlags struct {
	to         []string
	passphrase passphraseFlags
}

func (e *encryptFlags) add(f *pflag.FlagSet) {
	f.StringArrayVar(&e.to, "encrypt-to", nil, "encrypt the bundle to this age recipient (age1...), or to every recipient in this file (repeatable)")
	e.passphrase.add(f, "encrypt the bundle (age scrypt)")
}

// recipients parses the flags; none means a bundle in clear.
func (e encryptFlags) recipients() ([]age.Recipient, error) {
	var rs []age.Recipient
	for _, v := range e.to {
		src := strings.NewReader(v)
		what := v
		if !strings.HasPrefix(v, "age1") {
			raw, err := os.ReadFile(v)
			if err != nil {
				return nil, scheme.Usagef("--encrypt-to %s: neither an age recipient (age1...) nor a readable file: %v", v, err)
			}
			src = strings.NewReader(string(raw))
		}
		got, err := age.ParseRecipients(src)
		if err != nil {
			return nil, scheme.Usagef("--encrypt-to %s: %v", what, err)
		}
		rs = append(rs, got...)
	}
	pass, err := e.passphrase.read()
	if err != nil {
		return nil, err
	}
	if pass != "" {
		if len(rs) > 0 {
			return nil, scheme.Usagef("a passphrase and --encrypt-to: give one (age encrypts to a passphrase alone)")
		}
		r, err := age.NewScryptRecipient(pass)
		if err != nil {
			return nil, scheme.Usagef("passphrase: %v", err)
		}
		rs = append(rs, r)
	}
	return rs, nil
}

// decryptFlags are --identity and the passphrase of the commands that
// read a bundle.
type decryptFlags struct {
	identities []string
	passphrase passphraseFlags
}

func (d *decryptFlags) add(f *pflag.FlagSet) {
	f.StringArrayVar(&d.identities, "identity", nil, "age identity file (AGE-SECRET-KEY-1... lines, mode 0600) to decrypt an encrypted bundle (repeatable)")
	d.passphrase.add(f, "decrypt an encrypted bundle")
}

func (d decryptFlags) parse() ([]age.Identity, error) {
	var ids []age.Identity
	for _, path := range d.identities {
		raw, err := readPrivateFile("--identity", path)
		if err != nil {
			return nil, err
		}
		got, err := age.ParseIdentities(strings.NewReader(string(raw)))
		if err != nil {
			return nil, scheme.Usagef("--identity %s: %v", path, err)
		}
		ids = append(ids, got...)
	}
	pass, err := d.passphrase.read()
	if err != nil {
		return nil, err
	}
	if pass != "" {
		id, err := age.NewScryptIdentity(pass)
		if err != nil {
			return nil, scheme.Usagef("passphrase: %v", err)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// open opens the bundle with the identities.
func (d decryptFlags) open(path string) (*bundle.Reader, error) {
	ids, err := d.parse()
	if err != nil {
		return nil, err
	}
	return openBundleWith(path, ids)
}

// identityError explains an encrypted bundle that could not be opened:
// bad usage (exit 2), since the file may well be fine.
func identityError(err error) error {
	var ee *bundle.EncryptedError
	if errors.As(err, &ee) && ee.Err != nil {
		return scheme.Usagef("%v\nnone of the --identity files (or the passphrase) is one it was encrypted to (%s); nothing was read or written", err, strings.Join(ee.Summary.Recipients, ", "))
	}
	return scheme.Usagef("%v: pass --identity FILE, or --passphrase-file/--passphrase-env for a passphrase bundle (encrypted to: %s); nothing was read or written", err, strings.Join(ee.Summary.Recipients, ", "))
}

// encryptedSummary prints what an encrypted bundle shows without its
// identity, for inspect.
func encryptedSummary(path string, s bundle.EncryptedSummary) string {
	var b strings.Builder
	fmt.Fprintf(&b, "bundle   %s\nformat   imbundle %s, encrypted (age) to: %s\nsize     %d bytes\n", path, s.Version, strings.Join(s.Recipients, ", "), s.Size)
	if s.Volumes > 0 {
		fmt.Fprintf(&b, "volumes  %d found beside it (size above includes them)\n", s.Volumes)
	}
	fmt.Fprintf(&b, "datasets %d with parts (names, rows and values are encrypted; pass --identity to see them)\n", len(s.Datasets))
	for _, d := range s.Datasets {
		fmt.Fprintf(&b, "  #%05d  %d part(s), %d bytes\n", d.Index, d.Parts, d.Bytes)
	}
	return b.String()
}
