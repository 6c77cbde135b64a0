package main

import (
	"archive/zip"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imbundle/imbundle/internal/testenv"
)

// A MariaDB account's password comes from a pass file (--passfile, then
// IMBUNDLE_PASSFILE) and appears in no output of export, import, verify
// --against, inspect and extract: not on stdout or stderr (debug logs
// included), not in any file they write (the bundle's bytes, its manifest
// read through the ZIP, the extracted rows), nor in a failed run's error.
// Without a pass file and with stdin not a terminal, nothing prompts.
func TestPasswordNeverShown(t *testing.T) {
	srcURL, src := testenv.MySQLDatabase(t, "pw_src")
	dstURL, _ := testenv.MySQLDatabase(t, "pw_dst")
	stateURL, _ := testenv.MySQLDatabase(t, "pw_state")
	stateDB := stateURL[strings.LastIndex(stateURL, "/")+1:]
	host := testenv.MySQLAddr()[strings.LastIndex(testenv.MySQLAddr(), "@")+1:]
	srcDB, dstDB := srcURL[strings.LastIndex(srcURL, "/")+1:], dstURL[strings.LastIndex(dstURL, "/")+1:]
	b := make([]byte, 8)
	rand.Read(b)
	user, pw := "imbpw_"+hex.EncodeToString(b[:4]), "Pw-"+hex.EncodeToString(b)
	for _, q := range []string{
		"CREATE USER '" + user + "'@'%' IDENTIFIED BY '" + pw + "'",
		"GRANT ALL ON `" + srcDB + "`.* TO '" + user + "'@'%'",
		"GRANT ALL ON `" + dstDB + "`.* TO '" + user + "'@'%'",
		"GRANT ALL ON `" + stateDB + "`.* TO '" + user + "'@'%'",
		"GRANT RELOAD, LOCK TABLES, REPLICATION CLIENT, PROCESS ON *.* TO '" + user + "'@'%'",
		"CREATE TABLE users (id BIGINT PRIMARY KEY, name VARCHAR(64))",
		"INSERT INTO users VALUES (1, 'ann'), (2, 'bob')",
	} {
		if _, err := src.Exec(q); err != nil {
			t.Fatalf("%s: %v", strings.ReplaceAll(q, pw, "PW"), err)
		}
	}
	t.Cleanup(func() { src.Exec("DROP USER IF EXISTS '" + user + "'@'%'") })

	bin := builtCLI(t)
	secrets := t.TempDir()
	pf := filepath.Join(secrets, "pass")
	os.WriteFile(pf, []byte("# imbundle test\nmysql:"+strings.ReplaceAll(host, ":", ":")+":*:"+user+":"+pw+"\n"), 0o600)
	wrong := filepath.Join(secrets, "wrong")
	os.WriteFile(wrong, []byte("mysql:*:*:*:"+user+":Wrong-"+pw+"\n"), 0o600)

	dir := t.TempDir()
	var outputs [][]byte
	run := func(env []string, args ...string) (int, string) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), env...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		outputs = append(outputs, stdout.Bytes(), stderr.Bytes())
		return code, stdout.String() + stderr.String()
	}
	userSrc := "mysql://" + user + "@" + host + "/" + srcDB
	userDst := "mysql://" + user + "@" + host + "/" + dstDB
	path := filepath.Join(dir, "b.imb")
	debug := []string{"--log-level", "debug", "--log-format", "json"}

	if code, out := run(nil, append([]string{"export", "--source", userSrc, "-o", path, "--passfile", pf, "--param", "lock-wait=2"}, debug...)...); code != 0 {
		t.Fatalf("export exit %d:\n%s", code, out)
	}
	env := []string{"IMBUNDLE_PASSFILE=" + pf}
	for _, args := range [][]string{
		{"import", path, "--target", userDst, "--rejects", filepath.Join(dir, "rej.jsonl"), "--param", "state-schema=" + stateDB},
		{"verify", path, "--against", userDst},
		{"inspect", path, "--json"},
		{"extract", path, "--dataset", srcDB + ".users", "-o", filepath.Join(dir, "users.jsonl")},
	} {
		if code, out := run(env, append(args, debug...)...); code != 0 {
			t.Fatalf("%v exit %d:\n%s", args, code, out)
		}
	}
	// The wrong password fails loudly, and is not shown either.
	if code, out := run(nil, "export", "--source", userSrc, "-o", filepath.Join(dir, "w.imb"), "--passfile", wrong); code == 0 || !strings.Contains(out, "Access denied") {
		t.Fatalf("wrong password: exit %d\n%s", code, out)
	}
	// No pass file, stdin not a terminal: no prompt, the server refuses.
	if code, out := run(nil, "export", "--source", userSrc, "-o", filepath.Join(dir, "n.imb")); code == 0 || strings.Contains(out, "password for") {
		t.Fatalf("no password: exit %d\n%s", code, out)
	}
	// A pass file others may read is refused.
	os.Chmod(pf, 0o644)
	if code, out := run(nil, "export", "--source", userSrc, "-o", filepath.Join(dir, "m.imb"), "--passfile", pf); code != exitUsage || !strings.Contains(out, "chmod 600") {
		t.Fatalf("group-readable pass file: exit %d\n%s", code, out)
	}

	// Every file the runs wrote, and the manifest as a ZIP reader sees it.
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) < 2 {
		t.Fatalf("the runs wrote only %v", files)
	}
	for _, f := range files {
		raw, _ := os.ReadFile(f)
		outputs = append(outputs, raw)
	}
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if f.Name == "manifest.json" {
			rc, _ := f.Open()
			m, _ := io.ReadAll(rc)
			rc.Close()
			if !bytes.Contains(m, []byte(srcDB)) {
				t.Fatalf("manifest does not name the source database:\n%s", m)
			}
			outputs = append(outputs, m)
		}
	}
	for i, o := range outputs {
		if bytes.Contains(o, []byte(pw)) {
			t.Fatalf("output %d holds the password:\n%s", i, o)
		}
	}
}
