package redis_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/bundletest"
	"github.com/imbundle/imbundle/internal/redistype"
	"github.com/imbundle/imbundle/internal/redistype/redistest"
	"github.com/imbundle/imbundle/spec"
)

// TestBrokenRunFailsNamingTheRow imports a hand-made bundle whose hash key
// skips rows (seq 0, then its key row claims 5 elements): the import must
// stop naming the row, and write no half command.
func TestBrokenRunFailsNamingTheRow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.imb")
	b := redistype.NewBuilder(1 << 20)
	b.StringKey([]byte("fine"), []byte("v"), redistype.NoExpiry)
	b.HashField([]byte("h"), []byte("f"), []byte("v"), redistype.NoExpiry, 0)
	b.KeyRow([]byte("h"), redistype.Hash, 5, "", redistype.NoExpiry)
	bundletest.Write(t, path, bundle.Options{}, spec.Source{Engine: "redis", URL: "redis://x:6379", ExportedAt: time.Now()},
		spec.Dataset{Name: "redis.db9", Kind: spec.KindKeyspace, Namespace: "9", Object: "keyspace",
			Options: map[string]string{"layout": redistype.LayoutName}}, redistype.Schema, b.Flush())
	_, c := redistest.Redis(t, 9)
	_, err := redistest.Import(t, path, server, importer.Options{}, nil)
	if err == nil || !strings.Contains(err.Error(), "row 2") || !strings.Contains(err.Error(), `"h"`) {
		t.Fatalf("want an error naming row 2 of key h, got %v", err)
	}
	if n := redistest.Do(t, c, "EXISTS", "h").Int; n != 0 {
		t.Fatal("the broken key was written")
	}
}
