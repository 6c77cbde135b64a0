package bundletest

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/spec"
)

// Write makes a bundle at path of one source and one dataset holding recs,
// which it releases: the hand-made bundle of tests that need records no
// server can hold (damaged runs, types FerretDB refuses, failing targets).
// ds.Source is set to the source's ID.
func Write(t testing.TB, path string, opts bundle.Options, src spec.Source, ds spec.Dataset, schema *arrow.Schema, recs ...arrow.RecordBatch) {
	t.Helper()
	WriteObjects(t, path, opts, src, ds, schema, nil, recs...)
}

// WriteObjects is Write with schema objects (views, ...) of the source in
// the manifest; their Source is set to the source's ID.
func WriteObjects(t testing.TB, path string, opts bundle.Options, src spec.Source, ds spec.Dataset, schema *arrow.Schema, objs []spec.Object, recs ...arrow.RecordBatch) {
	t.Helper()
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	if opts.Tool.Name == "" {
		opts.Tool = spec.Tool{Name: "imbundle", Version: "test"}
	}
	w, err := bundle.Create(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	if src.ID == "" {
		src.ID = "s0"
	}
	if err := w.AddSource(src); err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		o.Source = src.ID
		w.AddObjects(o)
	}
	ds.Source = src.ID
	dw, err := w.CreateDataset(ds, schema)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := dw.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := dw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}
