package rollback

import (
	"testing"

	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/spec"
)

// A capture's --tables pattern selects exactly the object it names, also
// when the name holds glob characters.
func TestPatternIsLiteral(t *testing.T) {
	f := &exporter.Filter{Include: []string{pattern("d*b", `t?[x]\y`)}, Absent: true}
	if err := f.CheckPatterns(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		db, obj string
		want    bool
	}{
		{"d*b", `t?[x]\y`, true},
		{"dab", `t?[x]\y`, false},
		{"d*b", `tz[x]\y`, false},
		{"d*b", `t?x\y`, false},
	} {
		if got := f.Keep(tc.db, tc.obj); got != tc.want {
			t.Errorf("Keep(%q, %q) = %v, want %v", tc.db, tc.obj, got, tc.want)
		}
	}
	if err := f.Unmatched(); err != nil {
		t.Errorf("a capture's pattern that matches nothing is no error: %v", err)
	}
}

// absent is what the capture wanted and the export did not find.
func TestAbsent(t *testing.T) {
	m := &spec.Manifest{
		Datasets: []spec.Dataset{{Namespace: "db", Object: "users"}, {Namespace: "3", Object: "keyspace"}},
		Objects:  []spec.Object{{Kind: spec.ObjectView, Namespace: "db", Name: "v"}},
	}
	want := []spec.RollbackObject{
		{Kind: KindTable, Namespace: "db", Name: "users"},
		{Kind: KindTable, Namespace: "db", Name: "msgs"},
		{Kind: spec.ObjectView, Namespace: "db", Name: "v"},
		{Kind: spec.ObjectTrigger, Namespace: "db", Name: "t", Table: "msgs"},
		{Kind: KindDatabase, Namespace: "3"},
		{Kind: KindDatabase, Namespace: "4"},
	}
	got := absent(m, want)
	wantAbsent := []spec.RollbackObject{want[1], want[3], want[5]}
	if len(got) != len(wantAbsent) {
		t.Fatalf("absent = %v, want %v", got, wantAbsent)
	}
	for i := range got {
		if got[i] != wantAbsent[i] {
			t.Errorf("absent[%d] = %v, want %v", i, got[i], wantAbsent[i])
		}
	}
}
