package mysql

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/fixtures"
	"github.com/imbundle/imbundle/importer"
	_ "github.com/imbundle/imbundle/importer/mysql"
	"github.com/imbundle/imbundle/internal/mysqltype"
	"github.com/imbundle/imbundle/internal/testenv"
	"github.com/imbundle/imbundle/spec"
)

// describedManifest describes url as an export would and returns a
// manifest holding its objects.
func describedManifest(t *testing.T, url string) *spec.Manifest {
	t.Helper()
	ctx := context.Background()
	src := openSource(t, url)
	desc, err := src.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m := &spec.Manifest{Sources: []spec.Source{{ID: "s0", Engine: mysqltype.Engine}}}
	for _, o := range desc.Objects {
		o.Source = "s0"
		m.Objects = append(m.Objects, o)
	}
	return m
}

func openSource(t *testing.T, url string) *Source {
	t.Helper()
	src, err := exporter.Open(context.Background(), url, exporter.Options{Params: map[string]string{"lock-wait": "2"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src.(*Source)
}

func dbOf(url string) string { return url[strings.LastIndexByte(url, '/')+1:] }

// TestObjectDrift compares a bundle's objects with a database built the
// same way under another name (no drift: the name is mapped), then with
// that database changed in each way drift must name.
func TestObjectDrift(t *testing.T) {
	ctx := context.Background()
	srcURL, src := testenv.MySQLDatabase(t, "drift_src")
	if err := fixtures.Sakila(ctx, src); err != nil {
		t.Fatal(err)
	}
	m := describedManifest(t, srcURL)
	if len(m.Objects) < 15 {
		t.Fatalf("described %d objects, want the fixture's 15", len(m.Objects))
	}
	dstURL, dst := testenv.MySQLDatabase(t, "drift_dst")
	if err := fixtures.Sakila(ctx, dst); err != nil {
		t.Fatal(err)
	}
	target := openSource(t, dstURL)
	ns := map[string]string{dbOf(srcURL): dbOf(dstURL)}
	drift, err := target.objectDrift(ctx, m, ns)
	if err != nil {
		t.Fatal(err)
	}
	if len(drift) > 0 {
		t.Fatalf("drift between two copies of the fixture:\n%s", strings.Join(drift, "\n"))
	}

	// An object stripped of its DEFINER on import belongs to the importing
	// user: that is no drift. Any other definer is.
	var definer string // the fixture's: the test's user
	for i, o := range m.Objects {
		if o.Name == "best_category" {
			definer = o.Definer
		}
		if o.Name == "film_list" {
			m.Objects[i].Definer = "imb_gone@%"
			m.Objects[i].Definition = strings.Replace(o.Definition, "DEFINER=`root`", "DEFINER=`imb_gone`", 1)
		}
	}
	for _, q := range []string{
		"DROP TRIGGER del_film",
		"CREATE OR REPLACE VIEW customer_list AS SELECT 1 AS x",
		"CREATE PROCEDURE extra_proc() BEGIN END",
		"SELECT SETVAL(invoice_seq, 5000)",
		"CREATE OR REPLACE DEFINER = `imb_other`@`%` VIEW best_category AS SELECT category, total_sales FROM sales_by_film_category ORDER BY total_sales DESC LIMIT 1",
	} {
		if _, err := dst.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	drift, err = target.objectDrift(ctx, m, ns)
	if err != nil {
		t.Fatal(err)
	}
	d := dbOf(dstURL)
	want := []string{
		"trigger " + d + ".del_film: in the bundle, missing on the target",
		"view " + d + ".customer_list: definition differs",
		"procedure " + d + ".extra_proc: on the target, not in the bundle",
		"sequence " + d + ".invoice_seq: next_not_cached_value \"1004\" in the bundle, \"5001\" on the target",
		"view " + d + ".best_category: definer " + definer + " in the bundle, imb_other@% on the target",
	}
	got := strings.Join(drift, "\n")
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("drift lacks %q; got:\n%s", w, got)
		}
	}
	if len(drift) != len(want) {
		t.Errorf("%d drift lines, want %d:\n%s", len(drift), len(want), got)
	}

	// A target database that does not exist holds none of the objects.
	drift, err = target.objectDrift(ctx, m, map[string]string{dbOf(srcURL): d + "_none"})
	if err != nil || len(drift) != 1 || !strings.Contains(drift[0], "missing on the target") {
		t.Errorf("drift against a missing database: %q, %v", drift, err)
	}
}

// TestObjectsWithTables: with --tables only the listed tables' triggers
// travel; every other object is counted as uncarried, by kind, with the way
// to carry it.
func TestObjectsWithTables(t *testing.T) {
	ctx := context.Background()
	url, db := testenv.MySQLDatabase(t, "objtables")
	if err := fixtures.Sakila(ctx, db); err != nil {
		t.Fatal(err)
	}
	src, err := exporter.Open(ctx, url, exporter.Options{Filter: &exporter.Filter{Include: []string{"film", "customer"}}, Params: map[string]string{"lock-wait": "2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	desc, err := src.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range desc.Objects {
		got = append(got, o.Kind+" "+o.Name+" on "+o.Table)
	}
	want := "trigger customer_create_date on customer,trigger del_film on film,trigger ins_film on film,trigger upd_film on film" // by table, then DELETE, INSERT, UPDATE
	if strings.Join(got, ",") != want {
		t.Errorf("objects with --tables film,customer:\n%s\nwant\n%s", strings.Join(got, ","), want)
	}
	left := map[string]int64{}
	for _, u := range desc.Uncarried {
		left[u.Kind] = u.Count
		if (u.Kind == "view" || u.Kind == "trigger") && !strings.Contains(u.Reason, "--tables") {
			t.Errorf("uncarried %s: reason %q does not say how to carry it", u.Kind, u.Reason)
		}
	}
	for k, n := range map[string]int64{"view": 5, "trigger": 2, "function": 1, "procedure": 1, "event": 1, "sequence": 1} {
		if left[k] != n {
			t.Errorf("uncarried %s: %d, want %d (all: %+v)", k, left[k], n, desc.Uncarried)
		}
	}
}

// TestObjectDriftAfterImport: the whole loop. A database exported, imported
// under another name with --param definers=strip (one view's definer does
// not exist), shows no object drift; dropping an object there shows it.
func TestObjectDriftAfterImport(t *testing.T) {
	ctx := context.Background()
	srcURL, src := testenv.MySQLDatabase(t, "loop_src")
	if err := fixtures.Sakila(ctx, src); err != nil {
		t.Fatal(err)
	}
	gone := strings.ToLower(testenv.Name("imb_gone"))
	if _, err := src.ExecContext(ctx, "CREATE DEFINER = `"+gone+"`@`%` VIEW gone_view AS SELECT actor_id FROM actor"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "b.imb")
	s := openSource(t, srcURL)
	w, err := bundle.Create(path, bundle.Options{Tool: spec.Tool{Name: "test", Version: "0"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := exporter.Export(ctx, []exporter.Source{s}, w, 2); err != nil {
		w.Abort()
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := bundle.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	dstURL, dst := testenv.MySQLDatabase(t, "loop_dst")
	opts := importer.Options{Mode: importer.ModeFail, Jobs: 2, Params: map[string]string{"definers": "strip"}, Rejects: importer.NewRejects(filepath.Join(t.TempDir(), "rejects.jsonl"))}
	tg, err := importer.Open(ctx, dstURL, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	if _, err := importer.Import(ctx, r, tg, opts); err != nil {
		t.Fatal(err)
	}
	target := openSource(t, dstURL)
	ns := map[string]string{dbOf(srcURL): dbOf(dstURL)}
	drift, err := target.objectDrift(ctx, r.Manifest(), ns)
	if err != nil {
		t.Fatal(err)
	}
	if len(drift) > 0 {
		t.Fatalf("drift after a round trip:\n%s", strings.Join(drift, "\n"))
	}
	if _, err := dst.ExecContext(ctx, "DROP EVENT purge_old_payments"); err != nil {
		t.Fatal(err)
	}
	drift, err = target.objectDrift(ctx, r.Manifest(), ns)
	if err != nil || len(drift) != 1 || !strings.Contains(drift[0], "event "+dbOf(dstURL)+".purge_old_payments: in the bundle, missing") {
		t.Errorf("drift after dropping the event: %q, %v", drift, err)
	}
}
