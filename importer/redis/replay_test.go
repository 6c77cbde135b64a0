package redis_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/redistype/redistest"
	"github.com/imbundle/imbundle/spec"
)

// TestReplayedPartsDoNotDouble loads parts through the Target API: every
// part, every part again (a resumed import), then each part that begins
// inside a key once more on its own. Lists, streams, hashes and sets that
// straddle part boundaries must come out exactly as in the bundle.
func TestReplayedPartsDoNotDouble(t *testing.T) {
	ctx := context.Background()
	u, c := redistest.Redis(t, 9)
	for i := 0; i < 3; i++ {
		is := strconv.Itoa(i)
		list := []string{"RPUSH", "list" + is}
		hash := []string{"HSET", "hash" + is}
		set := []string{"SADD", "set" + is}
		for j := 0; j < 700; j++ {
			js := strconv.Itoa(j)
			list = append(list, js)
			hash = append(hash, "f"+js, js)
			set = append(set, "m"+js)
			if j < 300 {
				redistest.Do(t, c, "XADD", "stream"+is, "1-"+strconv.Itoa(j+1), "n", js, "again", js)
			}
		}
		redistest.Do(t, c, list...)
		redistest.Do(t, c, hash...)
		redistest.Do(t, c, set...)
	}
	path, m := redistest.MustExport(t, u, redistest.ExportOptions{Params: map[string]string{"page": "100"}, BatchRows: 250, PartBytes: 8 << 10})
	ds := &m.Datasets[0]
	r, err := bundle.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var straddling []int
	for p := range ds.Parts {
		pr, _ := r.OpenPart(ds, p)
		rec, err := pr.Next()
		if err != nil {
			t.Fatal(err)
		}
		if rows, _ := newRows(rec); rows.Seq(0) > 0 {
			straddling = append(straddling, p)
		}
		pr.Close()
	}
	r.Close()
	if len(straddling) < 5 {
		t.Fatalf("%d of %d parts begin inside a key; the test needs keys that straddle parts", len(straddling), len(ds.Parts))
	}
	_, tc := redistest.Redis(t, 10)
	for _, mode := range []importer.Mode{importer.ModeReplace, importer.ModeAppend} {
		redistest.Do(t, tc, "FLUSHDB")
		r, err := bundle.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		opts := importer.Options{Mode: mode, Map: map[string]string{"9": "10"}}
		tg, err := importer.Open(ctx, server, opts)
		if err != nil {
			t.Fatal(err)
		}
		it := &importer.Item{Dataset: ds, Source: &m.Sources[0], Namespace: "10", Object: ds.Object}
		plan := &importer.Plan{BundleID: r.ID(), Manifest: m, Items: []*importer.Item{it}, Mode: mode,
			ReadPart: func(ds *spec.Dataset, i int) (importer.PartRecords, error) { return r.OpenPart(ds, i) }}
		if err := tg.Prepare(ctx, plan); err != nil {
			t.Fatal(err)
		}
		var order []int
		for range 2 {
			for p := range ds.Parts {
				order = append(order, p)
			}
		}
		order = append(order, straddling...)
		for _, p := range order {
			pr, err := r.OpenPart(ds, p)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tg.LoadPart(ctx, plan, it, p, pr); err != nil {
				t.Fatalf("%s: part %d: %v", mode, p, err)
			}
			pr.Close()
		}
		if err := tg.Finish(ctx, plan); err != nil {
			t.Fatal(err)
		}
		tg.Close()
		r.Close()
		redistest.RequireMatch(t, path, server, map[string]string{"9": "10"})
	}
}
