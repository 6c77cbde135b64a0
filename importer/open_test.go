package importer_test

import (
	"context"
	"strings"
	"testing"

	"github.com/imbundle/imbundle/importer"
	_ "github.com/imbundle/imbundle/importer/redis"
	"github.com/imbundle/imbundle/internal/scheme"
	"github.com/imbundle/imbundle/internal/testenv"
)

// Open checks --param keys and values against the engine's declaration
// before it connects, and then checks the target answers (importer.Pinger):
// an import that would load nothing must still fail on a wrong password.
func TestOpenChecksParamsThenConnects(t *testing.T) {
	ctx := context.Background()
	nowhere := "redis://:pw9999@127.0.0.1:1/9" // nothing listens on port 1
	for params, want := range map[string]string{
		"load=insert":   "--param load: unknown key for the redis engine; valid: batch, connections, elements, functions, key-prefix, ttl",
		"ttl=sometimes": `--param ttl="sometimes": want absolute or relative`,
	} {
		k, v, _ := strings.Cut(params, "=")
		_, err := importer.Open(ctx, nowhere, importer.Options{Params: map[string]string{k: v}})
		if !scheme.IsUsage(err) || err.Error() != want {
			t.Errorf("%s: %v, want the usage error %q", params, err, want)
		}
	}
	_, err := importer.Open(ctx, nowhere, importer.Options{})
	if err == nil || scheme.IsUsage(err) || !strings.Contains(err.Error(), "connect to 127.0.0.1:1") || strings.Contains(err.Error(), "pw9999") {
		t.Fatalf("unreachable target: %v", err)
	}
	testenv.Redis(t, 9)
	tg, err := importer.Open(ctx, "redis://"+testenv.RedisAddr()+"/9", importer.Options{Params: map[string]string{"ttl": "relative"}})
	if err != nil {
		t.Fatalf("a reachable target with valid params: %v", err)
	}
	tg.Close()
}
