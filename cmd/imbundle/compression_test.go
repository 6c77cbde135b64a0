package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imbundle/imbundle/internal/testenv"
)

// --compression-level is honoured (best writes fewer bytes than fastest on
// compressible rows), recorded in the manifest, and every level reads back:
// verify decompresses each part and checks the content digests.
func TestCompressionLevel(t *testing.T) {
	url, db := testenv.MySQLDatabase(t, "clizstd")
	mustExec(t, db, "CREATE TABLE msgs (id INT PRIMARY KEY, body TEXT NOT NULL)")
	var vals []string
	for i := 0; i < 3000; i++ {
		vals = append(vals, fmt.Sprintf("(%d, CONCAT('message number ', %d, ' from user ', %d, ' in group ', %d))", i, i*7919%10007, i%97, i%13))
	}
	mustExec(t, db, "INSERT INTO msgs VALUES "+strings.Join(vals, ", "))
	dir := t.TempDir()
	size := map[string]int64{}
	for _, level := range []string{"fastest", "default", "3", "best"} {
		path := filepath.Join(dir, level+".imb")
		if out, err := runCLI(t, "export", "-q", "--source", url, "-o", path, "--compression-level", level); err != nil {
			t.Fatalf("%s: %v\n%s", level, err, out)
		}
		want := map[string]string{"3": "better"}[level]
		if want == "" {
			want = level
		}
		if c := readManifest(t, path).Compression; c == nil || c.Codec != "zstd" || c.Level != want {
			t.Errorf("%s: manifest compression %+v, want zstd %s", level, c, want)
		}
		if out, err := runCLI(t, "verify", path); err != nil {
			t.Fatalf("%s: verify: %v\n%s", level, err, out)
		}
		if out, err := runCLI(t, "verify", path, "--against", url); err != nil {
			t.Fatalf("%s: verify --against: %v\n%s", level, err, out)
		}
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		size[level] = st.Size()
	}
	if size["best"] >= size["fastest"] {
		t.Errorf("best wrote %d bytes, fastest %d: the level was not honoured", size["best"], size["fastest"])
	}
	_, err := runCLI(t, "export", "-q", "--source", url, "-o", filepath.Join(dir, "x.imb"), "--compression-level", "9")
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), "want fastest, default, better or best") {
		t.Fatalf("level 9: exit %d, %v", exitCode(err), err)
	}
}
