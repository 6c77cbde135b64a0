package scheme

import (
	"strings"
	"testing"
)

func TestRegistry(t *testing.T) {
	hide := func(s string) string { return strings.ReplaceAll(s, "secret", "xxxxx") }
	r := New[int]("source", hide)
	r.Register(1, "mysql", "mariadb")
	r.Register(2, "redis")
	if got := strings.Join(r.Schemes(), ","); got != "mariadb,mysql,redis" {
		t.Errorf("schemes %s", got)
	}
	u, v, err := r.Lookup("mariadb://root:secret@db:3306/im")
	if err != nil || v != 1 || u.Host != "db:3306" {
		t.Errorf("lookup: %v %d %v", u, v, err)
	}
	_, _, err = r.Lookup("postgres://root:secret@db/im")
	if err == nil || !strings.Contains(err.Error(), `source URL postgres://root:xxxxx@db/im: unknown scheme "postgres" (known: [mariadb mysql redis])`) {
		t.Errorf("unknown scheme: %v", err)
	}
	if _, _, err = r.Lookup("mysql://root:secret@db/%zz"); err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("unparsable URL: %v", err)
	}
	defer func() {
		if p := recover(); p == nil || !strings.Contains(p.(string), "source: Register called twice for scheme redis") {
			t.Errorf("duplicate: %v", p)
		}
	}()
	r.Register(3, "redis")
}
