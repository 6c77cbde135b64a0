package scheme

import (
	"strings"
	"testing"
)

func TestEngineParams(t *testing.T) {
	r := New[int]("source", Redact)
	r.Register(1, "mysql", "mariadb")
	r.Register(2, "redis")
	r.Declare(Engine{Name: "mysql", Schemes: []string{"mysql", "mariadb"}, Params: []Param{
		{Key: "readers", Help: "connections"},
		{Key: "load", Values: []string{"auto", "insert"}, Help: "how"},
	}})
	e, err := r.EngineOf("mariadb://root:secret@db/im")
	if err != nil || e.Name != "mysql" {
		t.Fatalf("EngineOf: %v %v", e, err)
	}
	if err := e.CheckParams(map[string]string{"readers": "2", "load": "insert"}); err != nil {
		t.Fatalf("declared keys refused: %v", err)
	}
	for params, want := range map[*map[string]string]string{
		{"reader": "2"}:  "--param reader: unknown key for the mysql engine; valid: load, readers",
		{"load": "bulk"}: `--param load="bulk": want auto or insert`,
	} {
		err := e.CheckParams(*params)
		if !IsUsage(err) || err.Error() != want {
			t.Errorf("CheckParams(%v) = %v, want usage error %q", *params, err, want)
		}
	}
	// Undeclared: named after its scheme, and takes no keys.
	if e := r.Engine("redis"); e.Name != "redis" || !IsUsage(e.CheckParams(map[string]string{"db": "1"})) {
		t.Errorf("undeclared engine: %+v", e)
	}
	if got := len(r.Engines()); got != 2 {
		t.Errorf("Engines: %d, want mysql and redis once each", got)
	}
	if _, err := r.EngineOf("postgres://root:secret@db/im"); !IsUsage(err) || strings.Contains(err.Error(), "secret") {
		t.Errorf("unknown scheme: %v", err)
	}
}
