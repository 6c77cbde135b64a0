package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/bundletest"
	"github.com/imbundle/imbundle/spec"
)

// The read-only commands run in-process on bundles made by bundle.Writer;
// no database is involved.

func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

func exitCodeOf(err error) int { return exitCode(err) }

// cliBundle writes two datasets (users in several parts, and groups) with a
// relation between them and returns the path.
func cliBundle(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "site.imb")
	w, err := bundle.Create(path, bundle.Options{PartBytes: 8 << 10, Tool: spec.Tool{Name: "imbundle", Version: "test"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddSource(spec.Source{ID: "s0", Engine: "mysql", URL: "mysql://db:3306/openim"}); err != nil {
		t.Fatal(err)
	}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	for _, ds := range []struct {
		name string
		rows int
	}{{"openim.users", 3000}, {"openim.groups", 40}} {
		dw, err := w.CreateDataset(spec.Dataset{Name: ds.name, Source: "s0", Kind: spec.KindTable, PrimaryKey: []string{"id"}}, schema)
		if err != nil {
			t.Fatal(err)
		}
		b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		for i := 0; i < ds.rows; i++ {
			b.Field(0).(*array.Int64Builder).Append(int64(i))
			b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("%s-%d 😀", ds.name, i))
			if (i+1)%500 == 0 || i == ds.rows-1 {
				rec := b.NewRecordBatch()
				if err := dw.Write(rec); err != nil {
					t.Fatal(err)
				}
				rec.Release()
			}
		}
		b.Release()
		if err := dw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	w.AddRelations(spec.Relation{Name: "fk_owner", From: spec.RelationEnd{Dataset: "openim.groups", Columns: []string{"id"}}, To: spec.RelationEnd{Dataset: "openim.users", Columns: []string{"id"}}, Origin: spec.RelationDeclared})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// damage flips one byte in the middle of a part's data and returns the
// part's entry name. Entries are stored, and the first occurrence of an
// entry's name in the file is its local header's name field, which the
// data follows directly.
func damage(t *testing.T, path string, part int) string {
	t.Helper()
	r, err := bundle.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	p := r.Manifest().Datasets[0].Parts[part]
	r.Close()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(raw, []byte(p.Path))
	if at < 0 {
		t.Fatal("entry name not found")
	}
	raw[at+len(p.Path)+int(p.Bytes)/2] ^= 0x55
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return p.Path
}

func TestVerifyWholeBundle(t *testing.T) {
	path := cliBundle(t)
	for _, args := range [][]string{{"verify", path}, {"verify", "--deep", path}, {"verify", "-j", "1", path}} {
		out, err := runCLI(t, args...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		if !strings.Contains(out, "OK: bundle ") || !strings.Contains(out, "is whole") || !strings.Contains(out, "data/00000/000000.arrow") {
			t.Fatalf("%v printed:\n%s", args, out)
		}
	}
}

func TestVerifyDamagedPartExits5NamingTheEntry(t *testing.T) {
	path := cliBundle(t)
	entry := damage(t, path, 1)
	for _, args := range [][]string{{"verify", path}, {"verify", "--deep", path}} {
		out, err := runCLI(t, args...)
		if code := exitCodeOf(err); code != exitBadInput {
			t.Fatalf("%v: exit %d (%v), want %d", args, code, err, exitBadInput)
		}
		msg := err.Error()
		if !strings.Contains(msg, `entry "`+entry+`"`) || !strings.Contains(msg, "SHA-256 mismatch") {
			t.Fatalf("%v: error does not name %s: %s", args, entry, msg)
		}
		if !strings.Contains(out, entry+") ") || !strings.Contains(out, "FAILED") {
			t.Fatalf("%v: report does not flag %s:\n%s", args, entry, out)
		}
		if !strings.HasSuffix(msg, "then run: imbundle verify "+path) {
			t.Fatalf("%v: error does not end with advice: %s", args, msg)
		}
	}
	out, err := runCLI(t, "verify", "--json", path)
	var res struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	if exitCodeOf(err) != exitBadInput || json.Unmarshal([]byte(out), &res) != nil || res.OK || !strings.Contains(res.Error, entry) {
		t.Fatalf("verify --json: exit %d, output %s", exitCodeOf(err), out)
	}
}

func TestVerifyTruncatedAndMissingFiles(t *testing.T) {
	path := cliBundle(t)
	raw, _ := os.ReadFile(path)
	cut := filepath.Join(t.TempDir(), "cut.imb")
	os.WriteFile(cut, raw[:len(raw)-100], 0o644)
	_, err := runCLI(t, "verify", cut)
	if exitCodeOf(err) != exitBadInput || !strings.Contains(err.Error(), "byte offset") || !strings.Contains(err.Error(), "copy it again") {
		t.Fatalf("truncated: exit %d: %v", exitCodeOf(err), err)
	}
	_, err = runCLI(t, "verify", filepath.Join(t.TempDir(), "nope.imb"))
	if exitCodeOf(err) != exitError || !strings.Contains(err.Error(), "no such file") || !strings.Contains(err.Error(), "check the path") {
		t.Fatalf("missing: exit %d: %v", exitCodeOf(err), err)
	}
}

func TestVerifyNewerMajorVersion(t *testing.T) {
	path := cliBundle(t)
	newer, _ := os.ReadFile(path)
	bundletest.ReplaceEntry(t, newer, bundle.MarkerEntry, []byte("imbundle/5.0\n"))
	p := filepath.Join(t.TempDir(), "v5.imb")
	os.WriteFile(p, newer, 0o644)
	_, err := runCLI(t, "inspect", p)
	if exitCodeOf(err) != exitError || !strings.Contains(err.Error(), "format version 5.0") || !strings.Contains(err.Error(), "reads formats 1.x to 4.x") || !strings.Contains(err.Error(), "use an imbundle release that reads format 5.x") {
		t.Fatalf("exit %d: %v", exitCodeOf(err), err)
	}
}

func TestInspect(t *testing.T) {
	path := cliBundle(t)
	out, err := runCLI(t, "inspect", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"datasets:", "openim.users", "3000", "openim.groups", "40", "total", "3040", "relations:", "openim.groups(id) -> openim.users(id)  [declared]", "mysql://db:3306/openim"} {
		if !strings.Contains(out, want) {
			t.Fatalf("inspect output lacks %q:\n%s", want, out)
		}
	}
	out, err = runCLI(t, "inspect", "--json", path)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		ID       string        `json:"id"`
		Size     int64         `json:"size"`
		Manifest spec.Manifest `json:"manifest"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("inspect --json: %v\n%s", err, out)
	}
	st, _ := os.Stat(path)
	r, _ := bundle.Open(path)
	defer r.Close()
	m := got.Manifest
	if got.ID != r.ID() || got.Size != st.Size() || len(m.Datasets) != 2 || m.Datasets[0].Rows != 3000 || m.Datasets[1].Rows != 40 || len(m.Relations) != 1 || m.Relations[0].To.Dataset != "openim.users" {
		t.Fatalf("inspect --json: %+v", got)
	}
}

func TestVersion(t *testing.T) {
	out, err := runCLI(t, "version")
	if err != nil || !strings.HasPrefix(out, "imbundle ") || !strings.Contains(out, "(bundle format "+spec.FormatVersion+")") {
		t.Fatalf("version: %v %q", err, out)
	}
}
