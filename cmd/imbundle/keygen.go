package main

import (
	"crypto/rand"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/scheme"
)

func newKeygenCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "keygen -o FILE",
		Short: "Make an Ed25519 key pair to sign bundles with (minisign's format)",
		Long: `Write a new Ed25519 key pair: the secret key to FILE (mode 0600, no
password: keep it on the exporting machine) and the public key to FILE.pub
(give it to whoever imports). export --sign FILE signs a bundle with it;
verify and import --pubkey FILE.pub check the signature. Both files are
minisign's: minisign -S -W -s FILE signs with the secret key, and
minisign -V -p FILE.pub checks a bundle signature (SPEC.md §10.1).`,
		Example: `  imbundle keygen -o ~/.imbundle/site.key
  imbundle export --source mysql://root@db:3306/openim -o site.imb --sign ~/.imbundle/site.key
  imbundle verify site.imb --pubkey site.key.pub`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return scheme.Usagef("need -o FILE")
			}
			pubPath := out + ".pub"
			for _, p := range []string{out, pubPath} {
				if _, err := os.Lstat(p); err == nil {
					return scheme.Usagef("%s exists; remove it or choose another -o (a key is never overwritten)", p)
				}
			}
			s, err := bundle.GenerateKey(rand.Reader)
			if err != nil {
				return err
			}
			if err := writeNew(out, bundle.MarshalSecretKey(s), 0o600); err != nil {
				return err
			}
			if err := writeNew(pubPath, bundle.MarshalPublicKey(s.Public()), 0o644); err != nil {
				os.Remove(out)
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote secret key %s (mode 0600) and public key %s, key id %s\n", out, pubPath, s.Public().IDText())
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "secret key file to write (the public key goes to FILE.pub)")
	return cmd
}

// writeNew creates path with data, failing if it exists; a failed write
// leaves no file.
func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	// The umask may have cleared bits, never added them; Chmod makes the
	// secret key's mode exactly 0600 whatever the umask.
	if err := f.Chmod(mode); err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
