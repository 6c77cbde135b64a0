package main

import (
	"fmt"
	"io"
	"os"
)

// A bundle named "-" is standard input or output. A bundle's parts are
// read at random and its writer keeps a partial file it can resume, which
// a pipe allows neither way: so `export -o -` writes the bundle to a
// temporary file (in --temp-dir, else the system's temp directory) and
// copies it to standard output once complete, and a command reading "-"
// first copies standard input into such a file (spooled in TMPDIR), which
// is removed as soon as it is open. The disk needs the bundle's size once.

// stdoutSpool is where `export -o -` writes the bundle before it is copied
// to standard output: a fresh name in dir.
func stdoutSpool(dir string) (string, error) {
	f, err := os.CreateTemp(dir, "imbundle-stdout-*.imb")
	if err != nil {
		return "", fmt.Errorf("-o -: a temporary file for the bundle: %w (set --temp-dir to a directory with room for it)", err)
	}
	name := f.Name()
	f.Close()
	os.Remove(name) // bundle.Create makes it again, as a bundle's partial file
	return name, nil
}

// copyOut copies the finished bundle at path to w and removes it.
func copyOut(w io.Writer, path string) error {
	defer os.Remove(path)
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := io.Copy(w, f); err != nil {
		return fmt.Errorf("-o -: writing the bundle to standard output: %w", err)
	}
	return nil
}

// stdinSpool copies standard input into a temporary file and returns its
// name; the caller opens it and then removes the name.
func stdinSpool(in io.Reader) (string, error) {
	f, err := os.CreateTemp("", "imbundle-stdin-*.imb")
	if err != nil {
		return "", fmt.Errorf("reading a bundle from standard input: a temporary file: %w (set TMPDIR to a directory with room for it)", err)
	}
	if _, err := io.Copy(f, in); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", fmt.Errorf("reading a bundle from standard input: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// journaled is the command a bundle's journal names, or "" for none: a
// bundle written to standard output is spooled under a fresh name each
// run, which no later run could resume.
func journaled(command string, toStdout bool) string {
	if toStdout {
		return ""
	}
	return command
}
