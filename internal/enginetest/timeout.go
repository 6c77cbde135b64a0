package enginetest

import (
	"github.com/imbundle/imbundle/internal/testenv"

	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// silentGuard is how long a command against a silent server may run before
// the suite calls it hung: twenty times the about one second the harness's
// URL asks for, room for a few connection attempts on a loaded machine.
const silentGuard = 20 * time.Second

// testTimeout: export, import and verify --against a server that accepts
// connections and never answers end with exit 1 within the URL's timeout,
// naming the address; an export leaves no file.
func (s *suite) testTimeout(t *testing.T, cmd string) {
	addr := testenv.SilentServer(t)
	url := s.h.SilentURL(addr)
	var args []string
	out := filepath.Join(t.TempDir(), "silent.imb")
	switch cmd {
	case "export":
		args = []string{"export", "--source", url, "-o", out, "-q"}
	case "import":
		args = []string{"import", s.bundle, "--target", url, "--rejects", filepath.Join(t.TempDir(), "rejects.jsonl"), "-q"}
	case "verify":
		args = []string{"verify", s.bundle, "--against", url}
	}
	r := s.cli.run(t, silentGuard, args...)
	if r.Code != 1 {
		t.Errorf("%s against a silent server: exit %d, want 1\n%s", cmd, r.Code, r.Output())
	}
	if !strings.Contains(r.Output(), addr) {
		t.Errorf("%s against a silent server does not name its address %s:\n%s", cmd, addr, r.Output())
	}
	for _, p := range []string{out, out + ".partial"} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s against a silent server left %s", cmd, p)
		}
	}
}
