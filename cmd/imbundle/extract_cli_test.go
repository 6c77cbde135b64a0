package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExtractDamagedPart: a part whose bytes do not match the manifest
// stops extract before a row is written: exit 5, the error names the
// part's entry, and neither OUT nor OUT.partial exists.
func TestExtractDamagedPart(t *testing.T) {
	path := cliBundle(t)
	entry := damage(t, path, 1)
	out := filepath.Join(t.TempDir(), "users.jsonl")
	msg, err := runCLI(t, "extract", path, "--dataset", "openim.users", "-o", out)
	if exitCodeOf(err) != exitBadInput || !strings.Contains(err.Error(), entry) || !strings.Contains(err.Error(), "imbundle verify") {
		t.Fatalf("exit %d, err %v, want %d naming %s\n%s", exitCodeOf(err), err, exitBadInput, entry, msg)
	}
	for _, p := range []string{out, out + ".partial"} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s exists after a failed extract (%v)", p, err)
		}
	}
}

// TestExtractUsage: an unknown dataset lists the bundle's datasets; a
// missing or unknown format, and --null outside CSV, are usage errors
// (exit 2).
func TestExtractUsage(t *testing.T) {
	path := cliBundle(t)
	dir := t.TempDir()
	_, err := runCLI(t, "extract", path, "--dataset", "openim.nope", "-o", filepath.Join(dir, "x.jsonl"))
	if exitCodeOf(err) != exitUsage || !strings.Contains(err.Error(), "openim.users, openim.groups") {
		t.Errorf("unknown dataset: exit %d, %v", exitCodeOf(err), err)
	}
	for _, args := range [][]string{
		{"--dataset", "openim.users", "-o", "-"},
		{"--dataset", "openim.users", "-o", filepath.Join(dir, "x.txt")},
		{"--dataset", "openim.users", "-o", filepath.Join(dir, "x.jsonl"), "--null", "N"},
		{"--dataset", "openim.users"},
		{"-o", filepath.Join(dir, "x.jsonl")},
	} {
		_, err := runCLI(t, append([]string{"extract", path}, args...)...)
		if exitCodeOf(err) != exitUsage {
			t.Errorf("%v: exit %d (%v), want %d", args, exitCodeOf(err), err, exitUsage)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("usage errors left files: %v", entries)
	}
}

// TestExtractStdout: -o - writes the same bytes as a file, in every
// format, and a dataset of several parts comes out whole and in order.
func TestExtractStdout(t *testing.T) {
	path := cliBundle(t)
	dir := t.TempDir()
	for _, format := range []string{"jsonl", "csv", "parquet"} {
		out := filepath.Join(dir, "users."+format)
		if msg, err := runCLI(t, "-q", "extract", path, "--dataset", "openim.users", "-o", out); err != nil {
			t.Fatalf("%s: %v\n%s", format, err, msg)
		}
		root := newRoot()
		var stdout, stderr bytes.Buffer
		root.SetOut(&stdout)
		root.SetErr(&stderr)
		root.SetArgs([]string{"extract", path, "--dataset", "openim.users", "-o", "-", "--format", format})
		if err := root.Execute(); err != nil {
			t.Fatalf("%s to stdout: %v\n%s", format, err, stderr.String())
		}
		if !bytes.Equal(stdout.Bytes(), readFile(t, out)) {
			t.Errorf("%s: stdout differs from the file (%d and %d bytes)", format, stdout.Len(), len(readFile(t, out)))
		}
	}
	lines := strings.Split(strings.TrimSuffix(string(readFile(t, filepath.Join(dir, "users.jsonl"))), "\n"), "\n")
	if len(lines) != 3000 || lines[0] != `{"id":0,"name":"openim.users-0 😀"}` || lines[2999] != `{"id":2999,"name":"openim.users-2999 😀"}` {
		t.Errorf("%d lines, first %s, last %s", len(lines), lines[0], lines[len(lines)-1])
	}
	tbl := readParquet(t, filepath.Join(dir, "users.parquet"))
	defer tbl.Release()
	if tbl.NumRows() != 3000 {
		t.Errorf("parquet: %d rows, want 3000", tbl.NumRows())
	}
}

// TestExtractFailureLeavesNoFile: a write that fails after some rows
// removes OUT.partial and creates no OUT.
func TestExtractFailureLeavesNoFile(t *testing.T) {
	out := filepath.Join(t.TempDir(), "x.jsonl")
	_, err := writeAtomically(out, func(w io.Writer) (int64, error) {
		w.Write([]byte("{\"id\":1}\n"))
		return 1, errors.New("record batch 3: damaged")
	})
	if err == nil {
		t.Fatal("no error")
	}
	for _, p := range []string{out, out + ".partial"} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s exists after a failed write (%v)", p, err)
		}
	}
}

// TestExtractInterrupted: a cancelled extract (SIGINT cancels the
// context) stops between batches and leaves neither OUT nor OUT.partial.
func TestExtractInterrupted(t *testing.T) {
	path := cliBundle(t)
	out := filepath.Join(t.TempDir(), "users.jsonl")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := runExtract(ctx, extractArgs{bundle: path, dataset: "openim.users", out: out}, io.Discard, io.Discard)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	for _, p := range []string{out, out + ".partial"} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s exists after an interrupted extract (%v)", p, err)
		}
	}
}
