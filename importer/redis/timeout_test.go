package redis_test

import (
	"context"
	"strings"
	"testing"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/redistype/redistest"
	"github.com/imbundle/imbundle/internal/scheme"
	"github.com/imbundle/imbundle/internal/testenv"
	"github.com/imbundle/imbundle/verify"
)

// TestSilentServerTimesOut: export, import and verify against a server
// that accepts and never answers each fail after the URL's timeout, naming
// the address and the step, instead of hanging.
func TestSilentServerTimesOut(t *testing.T) {
	path := source(t)
	addr := testenv.SilentServer(t)
	u := "redis://" + addr + "/9?timeout=300ms"
	check := func(what string, err error) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), addr) || !strings.Contains(err.Error(), "timed out after 300ms") || !strings.Contains(err.Error(), "reading the reply to") {
			t.Fatalf("%s: want a timeout naming %s and the step, got %v", what, addr, err)
		}
	}
	_, _, err := redistest.Export(t, u, redistest.ExportOptions{})
	check("export", err)
	_, err = redistest.Import(t, path, u, importer.Options{}, nil)
	check("import", err)

	ctx := context.Background()
	r, err := bundle.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	src, err := exporter.Open(ctx, u, exporter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	res, err := verify.Against(ctx, r, src, verify.AgainstOptions{Engine: "redis"})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range res {
		check("verify "+d.Dataset, d.Err)
	}
	_, _, err = verify.Schema(ctx, r, src, verify.AgainstOptions{Engine: "redis"})
	check("verify schema", err)
}

// TestUnknownURLParameterIsUsage: a misspelt parameter would otherwise be
// ignored (timeout never set); it is refused, listing the valid ones.
func TestUnknownURLParameterIsUsage(t *testing.T) {
	u := "redis://127.0.0.1:1/0?read_timout=5s"
	_, err := importer.Open(context.Background(), u, importer.Options{})
	if !scheme.IsUsage(err) || !strings.Contains(err.Error(), "read_timout") || !strings.Contains(err.Error(), "read_timeout") {
		t.Fatalf("import: want a usage error naming read_timout and listing read_timeout, got %v", err)
	}
	_, err = exporter.Open(context.Background(), u, exporter.Options{})
	if !scheme.IsUsage(err) || !strings.Contains(err.Error(), "dial_timeout") {
		t.Fatalf("export: want a usage error listing the valid parameters, got %v", err)
	}
	_, err = exporter.Open(context.Background(), "redis://127.0.0.1:1/0?timeout=soon", exporter.Options{})
	if !scheme.IsUsage(err) || !strings.Contains(err.Error(), `timeout="soon"`) {
		t.Fatalf("a bad duration: want a usage error, got %v", err)
	}
}
