package redis_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/redistype"
	"github.com/imbundle/imbundle/internal/redistype/redistest"
	"github.com/imbundle/imbundle/spec"
)

// TestBrokenRunFailsNamingTheRow imports a hand-made bundle whose hash key
// skips rows (seq 0, then its key row claims 5 elements): the import must
// stop naming the row, and write no half command.
func TestBrokenRunFailsNamingTheRow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.imb")
	w, err := bundle.Create(path, bundle.Options{Tool: spec.Tool{Name: "imbundle", Version: "test"}})
	if err != nil {
		t.Fatal(err)
	}
	w.AddSource(spec.Source{ID: "s0", Engine: "redis", URL: "redis://x:6379", ExportedAt: time.Now()})
	dw, err := w.CreateDataset(spec.Dataset{Name: "redis.db9", Source: "s0", Kind: spec.KindKeyspace, Namespace: "9", Object: "keyspace",
		Options: map[string]string{"layout": redistype.LayoutName}}, redistype.Schema)
	if err != nil {
		t.Fatal(err)
	}
	b := redistype.NewBuilder(1 << 20)
	b.StringKey([]byte("fine"), []byte("v"), redistype.NoExpiry)
	b.HashField([]byte("h"), []byte("f"), []byte("v"), redistype.NoExpiry, 0)
	b.KeyRow([]byte("h"), redistype.Hash, 5, "", redistype.NoExpiry)
	rec := b.Flush()
	if err := dw.Write(rec); err != nil {
		t.Fatal(err)
	}
	rec.Release()
	if err := dw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_, c := redistest.Redis(t, 9)
	_, err = redistest.Import(t, path, server, importer.Options{}, nil)
	if err == nil || !strings.Contains(err.Error(), "row 2") || !strings.Contains(err.Error(), `"h"`) {
		t.Fatalf("want an error naming row 2 of key h, got %v", err)
	}
	if n := redistest.Do(t, c, "EXISTS", "h").Int; n != 0 {
		t.Fatal("the broken key was written")
	}
}
