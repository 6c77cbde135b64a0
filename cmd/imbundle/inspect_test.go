package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/spec"
)

// inspect lists the manifest's objects by kind and what the sources hold
// that the bundle does not carry, as export warns of it.
func TestInspectShowsObjectsAndWhatIsNotCarried(t *testing.T) {
	path := filepath.Join(t.TempDir(), "o.imb")
	w, err := bundle.Create(path, bundle.Options{Tool: spec.Tool{Name: "imbundle", Version: "test"}})
	if err != nil {
		t.Fatal(err)
	}
	w.AddSource(spec.Source{ID: "s0", Engine: "mysql", URL: "mysql://db:3306/openim"})
	w.AddObjects(
		spec.Object{Source: "s0", Kind: spec.ObjectView, Namespace: "openim", Name: "active_users", Definition: "SELECT 1"},
		spec.Object{Source: "s0", Kind: spec.ObjectTrigger, Namespace: "openim", Name: "t_ins", Table: "users", Definition: "BEGIN END"},
		spec.Object{Source: "s0", Kind: spec.ObjectTrigger, Namespace: "openim", Name: "t_del", Table: "users", Definition: "BEGIN END"},
	)
	unc := spec.Uncarried{Source: "s0", Kind: "system-versioned history rows", Count: 12, Names: []string{"openim.audit"}, Reason: "only current rows are exported"}
	w.AddUncarried(unc)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	out, err := runCLI(t, "inspect", path)
	if err != nil {
		t.Fatal(err)
	}
	line := "s0 mysql://db:3306/openim: 12 system-versioned history rows not carried: only current rows are exported (openim.audit, ...)"
	for _, want := range []string{
		"objects:\n",
		"  trigger (2): openim.t_ins on users, openim.t_del on users\n",
		"  view (1): openim.active_users\n",
		"not carried (the sources hold it, this bundle does not):\n  " + line + "\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect lacks %q:\n%s", want, out)
		}
	}
	var warn bytes.Buffer
	warnUncarried(&warn, w.Manifest())
	if warn.String() != "warning: "+line+"\n" {
		t.Errorf("export's warning: %q", warn.String())
	}
}
