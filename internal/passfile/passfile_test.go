package passfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, body string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "pass")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Chmod(p, mode)
	return p
}

func TestFill(t *testing.T) {
	p := write(t, `# comment

mysql:db1:3306:openim:app:first\:pass
mysql:*:*:*:app:fallback
mongodb:mongo:27017:*:admin:m\\p
redis:cache:*:*:*:r-secret
`, 0o600)
	f, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ in, want string }{
		{"mysql://app@db1:3306/openim", "mysql://app:first%3Apass@db1:3306/openim"},
		{"mysql://app@db2:3306/openim", "mysql://app:fallback@db2:3306/openim"},
		{"mysql://app@db1/openim", "mysql://app:fallback@db1/openim"}, // no port: only * matches
		{"mysql://other@db1:3306/openim", "mysql://other@db1:3306/openim"},
		{"mysql://app:given@db1:3306/openim", "mysql://app:given@db1:3306/openim"},
		{"mongodb://admin@mongo:27017/im", `mongodb://admin:m%5Cp@mongo:27017/im`},
		{"redis://cache:6379/0", "redis://:r-secret@cache:6379/0"},
	} {
		got, _ := f.Fill(c.in)
		if got != c.want {
			t.Errorf("Fill(%s) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestLoadRefuses(t *testing.T) {
	if _, err := Load(write(t, "mysql:h:1:d:u:p\n", 0o640)); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("group-readable: %v", err)
	}
	p := write(t, "mysql:h:1:d:u:p\nmysql:h:1:d:secretpw\n", 0o600)
	_, err := Load(p)
	if err == nil || !strings.Contains(err.Error(), p+":2:") || strings.Contains(err.Error(), "secretpw") {
		t.Fatalf("five fields: %v", err)
	}
	if _, err := Load(write(t, ":h:1:d:u:p\n", 0o600)); err == nil || !strings.Contains(err.Error(), "scheme field is empty") {
		t.Fatalf("empty scheme: %v", err)
	}
}
