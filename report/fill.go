package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/records"
	"github.com/imbundle/imbundle/spec"
	"github.com/imbundle/imbundle/verify"
)

// Manifest records the bundle: its datasets' rows, parts and compressed
// bytes. fileBytes is the bundle file's size, 0 if unknown.
func (r *Report) Manifest(path string, m *spec.Manifest, id string, fileBytes int64) {
	if r == nil || m == nil {
		return
	}
	r.Bundle, r.BundleID, r.Totals.FileBytes = path, id, fileBytes
	engine := map[string]string{}
	for _, s := range m.Sources {
		engine[s.ID] = s.Engine
	}
	for _, ds := range m.Datasets {
		d := r.dataset(ds.Name)
		d.Kind, d.Source, d.Rows, d.Parts, d.PartBytes = ds.Kind, engine[ds.Source], ds.Rows, len(ds.Parts), 0
		d.Unit = records.Of(&ds).Unit
		d.Records, _ = records.Total(&ds)
		for _, p := range ds.Parts {
			d.PartBytes += p.Bytes
		}
	}
}

// Imported records one target's import.
func (r *Report) Imported(rep *importer.Report) {
	if r == nil || rep == nil {
		return
	}
	for _, dr := range rep.Datasets {
		d := r.dataset(dr.Dataset)
		d.Import = &Import{Target: dr.Target, Written: dr.Written, Rejected: dr.Rejected, Filtered: dr.Filtered, Expired: dr.Expired, PartsResumed: dr.PartsResumed}
	}
}

// RejectFile records the import's reject file, counted by reason.
func (r *Report) RejectFile(rj *importer.Rejects) {
	if r == nil || rj == nil || rj.Total() == 0 {
		return
	}
	out := &Rejects{File: rj.Path(), Total: rj.Total()}
	for _, rc := range rj.Reasons() {
		reason := Reason{Reason: rc.Reason, Count: rc.Count}
		for _, x := range rc.First {
			reason.First = append(reason.First, fmt.Sprintf("%s part %d row %d key (%s)", x.Dataset, x.Part, x.Row, strings.Join(x.Key, ", ")))
		}
		out.Reasons = append(out.Reasons, reason)
	}
	r.Rejects = out
}

// PartVerified records one part's offline verification.
func (r *Report) PartVerified(pr verify.PartResult) {
	if r == nil {
		return
	}
	d := r.dataset(pr.Dataset)
	if d.Verify == nil {
		d.Verify = &Verify{Match: true}
	}
	if pr.Err != nil {
		d.Verify.BadParts++
		d.Verify.Match = false
		if d.Verify.Error == "" {
			d.Verify.Error = fmt.Sprintf("part %d (%s): %v", pr.Index, pr.Part.Path, pr.Err)
		}
	}
}

// Compared records a dataset read back from a database by verify --against.
func (r *Report) Compared(against string, dr verify.DatasetResult) {
	if r == nil {
		return
	}
	v := &Verify{Against: against, Target: dr.Target, TargetRows: dr.TargetRows, Match: dr.Match && dr.Err == nil, Conversion: dr.Conversion}
	if dr.Err != nil {
		v.Error = dr.Err.Error()
	}
	for _, df := range dr.Differences {
		v.Differences = append(v.Differences, fmt.Sprintf("row %d: bundle key (%s), target key (%s)", df.Row, strings.Join(df.BundleKey, ", "), strings.Join(df.TargetKey, ", ")))
	}
	r.dataset(dr.Dataset).Verify = v
}

// SchemaDifferences records verify --against's schema and finally
// differences.
func (r *Report) SchemaDifferences(diffs []string) {
	if r == nil {
		return
	}
	r.Schema = append(r.Schema, diffs...)
}

// RelationsChecked records verify --relations.
func (r *Report) RelationsChecked(rs []verify.RelationResult) {
	if r == nil {
		return
	}
	r.Relations = append(r.Relations, rs...)
}

// ChecksRun records verify --profile/--map's checks.
func (r *Report) ChecksRun(cs []verify.CheckResult) {
	if r == nil {
		return
	}
	r.Checks = append(r.Checks, cs...)
}

// Finish closes the report with the run's outcome: sums the totals and
// writes the verdict.
func (r *Report) Finish(err error) {
	if r == nil {
		return
	}
	r.Finished = time.Now().UTC()
	r.Seconds = r.Finished.Sub(r.Started).Seconds()
	r.OK = err == nil
	if err != nil {
		r.Error = err.Error()
	}
	t := Totals{FileBytes: r.Totals.FileBytes}
	for _, d := range r.Datasets {
		t.Datasets++
		t.Rows += d.Rows
		t.Records += d.Records
		switch {
		case d.Unit == "":
		case t.Unit == "":
			t.Unit = d.Unit
		case t.Unit != d.Unit:
			t.Unit = "records"
		}
		t.Parts += d.Parts
		t.PartBytes += d.PartBytes
		t.RawBytes += d.RawBytes
		if d.Import != nil {
			t.Written += d.Import.Written
			t.Rejected += d.Import.Rejected
		}
		if v := d.Verify; v != nil {
			t.BadParts += v.BadParts
			switch {
			case v.Error != "" && v.Against != "":
				t.ReadErrors++
			case !v.Match && v.Against != "":
				t.Mismatches++
			}
		}
	}
	for _, rr := range r.Relations {
		t.Orphans += rr.Orphans
	}
	for _, c := range r.Checks {
		t.Violations += c.Violations
	}
	if r.Seconds > 0 {
		rows := t.Rows
		if r.Command == "import" {
			rows = t.Written
		}
		t.RowsPerSec = int64(float64(rows) / r.Seconds)
		t.BytesPerSec = int64(float64(t.RawBytes) / r.Seconds)
	}
	r.Totals = t
	r.Verdict = r.verdict()
}

// verdict says at a glance whether the copy is complete.
func (r *Report) verdict() string {
	t := r.Totals
	if !r.OK {
		return fmt.Sprintf("%s FAILED: %s", r.Command, firstLine(r.Error))
	}
	var s string
	switch r.Command {
	case "export":
		s = fmt.Sprintf("bundle written: %d datasets, %s, complete", t.Datasets, t.recordsText())
	case "import":
		s = fmt.Sprintf("imported %d of %d rows into %d datasets, %d rejected", t.Written, t.Rows, t.Datasets, t.Rejected)
	default:
		s = fmt.Sprintf("verified %d datasets, %s: %d bad parts, %d mismatches", t.Datasets, t.recordsText(), t.BadParts, t.Mismatches)
		compared := 0
		for _, d := range r.Datasets {
			if d.Verify != nil && d.Verify.Against != "" {
				compared++
			}
		}
		if compared > 0 {
			// Not every dataset need be compared (another engine's,
			// --datasets): say how many were.
			s = fmt.Sprintf("compared %d of %d datasets with the database: %d match, %d differ, %d unreadable", compared, t.Datasets, compared-t.Mismatches-t.ReadErrors, t.Mismatches, t.ReadErrors)
		}
	}
	if len(r.Relations) > 0 {
		s += fmt.Sprintf("; %d orphans in %d relations", t.Orphans, len(r.Relations))
	}
	if len(r.Checks) > 0 {
		s += fmt.Sprintf("; %d violations of %d checks", t.Violations, len(r.Checks))
	}
	return s
}

// recordsText is the bundle's records: "3040 rows", or, when they are not
// all rows, "5003 keys (25000 rows)".
func (t Totals) recordsText() string {
	if t.Unit == "" || t.Unit == "rows" || t.Records == t.Rows {
		return fmt.Sprintf("%d rows", t.Rows)
	}
	return fmt.Sprintf("%d %s (%d rows)", t.Records, t.Unit, t.Rows)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// Source records a source URL (redacted by the caller).
func (r *Report) Source(redacted string) {
	if r != nil {
		r.Sources = append(r.Sources, redacted)
	}
}

// Target records an import target or a verify --against database
// (redacted by the caller).
func (r *Report) Target(redacted string) {
	if r != nil {
		r.Targets = append(r.Targets, redacted)
	}
}
