package convert

import (
	"strings"
	"testing"
)

// TestOpenIMV35TablesAreV38s: openim-v3.5's table entries are
// openim-v3.8's, each with engine: mongodb (3.5-3.7 have 3.8's
// collections and differ in the seqs alone), so the two profiles cannot
// drift apart; and both load.
func TestOpenIMV35TablesAreV38s(t *testing.T) {
	tables := func(name, end string) string {
		b, err := ProfileText(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := LoadProfile(name); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		s := string(b)
		i, j := strings.Index(s, "\ndatasets:\n"), strings.Index(s, end)
		if i < 0 || j < i {
			t.Fatalf("%s: no datasets section ending at %q", name, end)
		}
		return s[i:j]
	}
	v38 := tables("openim-v3.8", "  # The seqs:")
	v35 := tables("openim-v3.5", "# up35's version marker")
	if n := strings.Count(v35, "    engine: mongodb\n"); n != strings.Count(v38, "  - match: ") || n == 0 {
		t.Errorf("openim-v3.5 has %d engine: mongodb lines for %d entries of openim-v3.8", n, strings.Count(v38, "  - match: "))
	}
	if got := strings.ReplaceAll(v35, "    engine: mongodb\n", ""); got != v38 {
		t.Errorf("openim-v3.5's table entries, less engine:, differ from openim-v3.8's:\n%s\n---\n%s", got, v38)
	}
}
