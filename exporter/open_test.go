package exporter_test

import (
	"context"
	"testing"

	"github.com/imbundle/imbundle/exporter"
	_ "github.com/imbundle/imbundle/exporter/redis"
	"github.com/imbundle/imbundle/internal/scheme"
)

// Open refuses a --param key or value the engine does not declare before
// it connects (nothing listens on port 1).
func TestOpenRefusesUndeclaredParams(t *testing.T) {
	for k, want := range map[string]string{
		"relations":        "--param relations: unknown key for the redis engine; valid: batch, connections, db, functions, key-prefix, match, page, scan-count, skip-field-ttl, skip-unsupported, ttl-tolerance",
		"skip-unsupported": `--param skip-unsupported="yes": want true or false`,
	} {
		_, err := exporter.Open(context.Background(), "redis://127.0.0.1:1", exporter.Options{Params: map[string]string{k: "yes"}})
		if !scheme.IsUsage(err) || err.Error() != want {
			t.Errorf("%s: %v, want the usage error %q", k, err, want)
		}
	}
	e, err := exporter.EngineOf("rediss://h:6380")
	if err != nil || e.Name != "redis" {
		t.Fatalf("EngineOf: %+v %v", e, err)
	}
}
