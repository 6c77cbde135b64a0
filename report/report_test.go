package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/progress"
	"github.com/imbundle/imbundle/spec"
	"github.com/imbundle/imbundle/verify"
)

func manifest() *spec.Manifest {
	return &spec.Manifest{
		Sources: []spec.Source{{ID: "s0", Engine: "mysql"}},
		Datasets: []spec.Dataset{
			{Name: "db.users", Source: "s0", Kind: spec.KindTable, Rows: 100, Parts: []spec.Part{{Rows: 60, Bytes: 1000}, {Rows: 40, Bytes: 700}}},
			{Name: "db.<script>", Source: "s0", Kind: spec.KindTable, Rows: 5, Parts: []spec.Part{{Rows: 5, Bytes: 90}}},
		},
	}
}

// An import's report: the bundle's rows, what was written and rejected,
// the rejects by reason, the verdict; the JSON round-trips.
func TestImportReport(t *testing.T) {
	r := New("import", "imbundle test")
	r.Manifest("site.imb", manifest(), "id1", 4096)
	r.Imported(&importer.Report{Datasets: []importer.DatasetReport{
		{Dataset: "db.users", Target: "db2.users", Rows: 100, Written: 98, Rejected: 2},
		{Dataset: "db.<script>", Target: "db2.x", Rows: 5, Written: 5},
	}})
	rj := importer.NewRejects(filepath.Join(t.TempDir(), "r.jsonl"))
	for i := 0; i < 2; i++ {
		if err := rj.Add(importer.Reject{Dataset: "db.users", Part: 1, Row: int64(i), Key: []string{fmt.Sprint(i)}, Reason: "Duplicate entry"}); err != nil {
			t.Fatal(err)
		}
	}
	rj.Close()
	r.RejectFile(rj)
	r.Finish(errors.New("2 record(s) were refused"))
	if r.OK || r.Totals.Rows != 105 || r.Totals.Written != 103 || r.Totals.Rejected != 2 || r.Totals.PartBytes != 1790 || r.Totals.Parts != 3 {
		t.Fatalf("totals %+v", r.Totals)
	}
	if r.Rejects.Total != 2 || len(r.Rejects.Reasons) != 1 || r.Rejects.Reasons[0].Count != 2 || r.Rejects.Reasons[0].First[1] != "db.users part 1 row 1 key (1)" {
		t.Fatalf("rejects %+v", r.Rejects)
	}
	if r.Verdict != "import FAILED: 2 record(s) were refused" {
		t.Fatalf("verdict %q", r.Verdict)
	}
	var buf bytes.Buffer
	if err := WriteJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil || back.Totals != r.Totals || back.Datasets[0].Import.Written != 98 {
		t.Fatalf("round trip: %v %+v", err, back.Totals)
	}
}

// The page escapes what the data says (a dataset named <script>), and
// shows the verdict, the totals and both charts.
func TestHTMLEscapesAndShows(t *testing.T) {
	r := New("verify", "imbundle test")
	r.Manifest("site.imb", manifest(), "id1", 4096)
	for _, ds := range manifest().Datasets {
		for i, p := range ds.Parts {
			r.PartVerified(verify.PartResult{Dataset: ds.Name, Index: i, Part: p})
		}
	}
	r.RelationsChecked([]verify.RelationResult{{From: "db.<script>(uid)", To: "db.users(id)", Values: 5, Orphans: 1, First: []string{"<b>7</b>"}}})
	ck := time.Now()
	c := progress.New(progress.Options{Label: "verify", BytesKind: "compressed", Clock: func() time.Time { return ck }})
	c.StageOf("db.users", progress.StageVerifying)
	ck = ck.Add(time.Second)
	c.AddTo("db.users", 100, 1700)
	c.Done("db.users")
	c.Stop()
	r.Progress(c)
	r.Finish(nil)
	var buf bytes.Buffer
	if err := WriteHTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	if strings.Contains(page, "<script>") || strings.Contains(page, "<b>7</b>") || !strings.Contains(page, "db.&lt;script&gt;") {
		t.Fatal("data reached the page unescaped")
	}
	for _, want := range []string{"verified 2 datasets, 105 rows: 0 bad parts, 0 mismatches; 1 orphans in 1 relations", `id="total-rows">105<`, `id="size-chart"`, `id="throughput-chart"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if r.Datasets[0].Seconds != 1 || r.Datasets[0].RowsPerS != 100 || r.Datasets[0].RawBytes != 0 {
		t.Fatalf("dataset timing %+v (compressed bytes are not uncompressed ones)", r.Datasets[0])
	}
}

// Past 20 datasets the size chart sums the rest in one bar.
func TestSizeBarsOthers(t *testing.T) {
	var ds []Dataset
	for i := 0; i < 30; i++ {
		ds = append(ds, Dataset{Name: fmt.Sprint("t", i), PartBytes: int64(i + 1)})
	}
	bars := sizeBars(ds, 20)
	if len(bars) != 20 || bars[0].name != "t29" || bars[19].others != 11 || bars[19].part != 66 {
		t.Fatalf("bars %+v", bars[19])
	}
}

// A report file appears only complete; an unknown extension is refused.
func TestWriteFiles(t *testing.T) {
	dir := t.TempDir()
	r := New("export", "imbundle test")
	r.Finish(nil)
	if err := CheckPaths([]string{filepath.Join(dir, "r.pdf")}); err == nil {
		t.Fatal("accepted .pdf")
	}
	paths := []string{filepath.Join(dir, "r.json"), filepath.Join(dir, "r.HTML")}
	if err := r.WriteFiles(paths); err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		if st, err := os.Stat(p); err != nil || st.Size() == 0 {
			t.Fatalf("%s: %v", p, err)
		}
		if _, err := os.Stat(p + ".partial"); !os.IsNotExist(err) {
			t.Fatalf("%s.partial left", p)
		}
	}
	if err := r.WriteFiles([]string{filepath.Join(dir, "missing", "r.json")}); err == nil || !strings.Contains(err.Error(), "r.json") {
		t.Fatalf("unwritable: %v", err)
	}
	var nilReport *Report
	if err := nilReport.WriteFiles(paths); err != nil {
		t.Fatal(err)
	}
}
