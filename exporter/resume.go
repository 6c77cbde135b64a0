package exporter

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/spec"
)

// ResumeChecker is implemented by sources that can tell, cheaply, whether
// a dataset changed between two exports (SPEC.md §2.5): ResumeCheck
// returns a summary of the dataset's rows in the source's snapshot (a row
// count and largest key, a checksum), equal in two runs only if the rows
// are the same as far as the summary can see; "" when it cannot tell. A
// resumed export keeps a dataset a killed run finished only if its
// summary then and now are equal and not "". Sources without it (Redis,
// whose SCAN has no snapshot) have every dataset exported again.
type ResumeChecker interface {
	ResumeCheck(ctx context.Context, ds *spec.Dataset) (string, error)
}

// keepFinished decides which datasets a killed run of this export
// finished (w.Candidates) still hold, keeps them in w and returns the
// work left. A candidate is kept when this run describes a dataset of the
// same name, source, kind, place, key and columns, and the source's
// ResumeCheck equals the one recorded; every other one is logged with the
// reason and exported again. A partial candidate (the finished parts of a
// dataset the killed run was reading) is kept on the same conditions and
// when the source can continue the dataset (continuable); its job then
// reads after the last kept key. One that is not is read from its start.
func keepFinished(ctx context.Context, w *bundle.Writer, work []job, log *slog.Logger) ([]job, error) {
	for _, n := range w.ResumeNotes() {
		log.Warn("resume: " + n)
	}
	cands := w.Candidates()
	if len(cands) == 0 {
		return work, w.Keep(nil)
	}
	byName := map[string]int{}
	for i, j := range work {
		byName[j.ds.Spec.Name] = i
	}
	keep := map[string]bool{}
	continued := 0
	for _, c := range cands {
		i, ok := byName[c.Dataset.Name]
		if !ok {
			log.Warn("resume: a dataset the killed run exported is no longer selected; it is left out", "dataset", c.Dataset.Name)
			continue
		}
		reason := stillHolds(ctx, work[i], &c)
		if c.Partial {
			if reason == "" {
				reason = continuable(work[i])
			}
			if reason == "" && c.Dataset.Parts[len(c.Dataset.Parts)-1].KeyRange == nil {
				reason = "its last kept part records no key range"
			}
			if reason == "" {
				last := c.Dataset.Parts[len(c.Dataset.Parts)-1].KeyRange.Last
				reason = work[i].src.(ResumeReader).CanReadAfter(&work[i].ds.Spec, last)
			}
			if reason != "" {
				log.Warn("resume: reading the dataset again from its start, its parts the killed run finished dropped: "+reason, "dataset", c.Dataset.Name, "parts", len(c.Dataset.Parts))
				continue
			}
			last := c.Dataset.Parts[len(c.Dataset.Parts)-1].KeyRange.Last
			work[i].after, work[i].keptRows = last, c.Dataset.Rows
			continued++
			keep[c.Dataset.Name] = true
			log.Info(fmt.Sprintf("resume: kept %d parts of dataset %s, reading after key %s", len(c.Dataset.Parts), c.Dataset.Name, strings.Join(last, ", ")),
				"dataset", c.Dataset.Name, "parts", len(c.Dataset.Parts), "rows", c.Dataset.Rows, "after", last)
			continue
		}
		if reason != "" {
			log.Warn("resume: exporting the dataset again: "+reason, "dataset", c.Dataset.Name)
			continue
		}
		keep[c.Dataset.Name] = true
	}
	if err := w.Keep(keep); err != nil {
		return nil, err
	}
	var left []job
	for _, j := range work {
		if !keep[j.ds.Spec.Name] || j.after != nil {
			left = append(left, j)
		}
	}
	log.Info("resume: kept the datasets a killed run of this export finished", "kept", len(keep)-continued, "continued", continued, "to_export", len(left))
	return left, nil
}

// ResumeReader is implemented by sources that can continue a keyed
// dataset after a key, in the export's snapshot: a resumed export keeps
// the parts a killed run finished of a dataset it was still reading and
// reads only the rows after them (SPEC.md §2.5). Only a ResumeChecker
// whose check reads the export's snapshot (SnapshotChecker) is asked.
type ResumeReader interface {
	// CanReadAfter says why ReadAfter cannot continue ds after the key
	// after ("" if it can): a key column of a type whose key_range text
	// (bundle.KeyString) it cannot bind back exactly, a value it cannot
	// parse, a dataset read otherwise than in key order. after nil asks
	// about the dataset alone.
	CanReadAfter(ds *spec.Dataset, after []string) string
	// ReadAfter is Read of ds's rows whose key is greater than after
	// (the key's values as bundle.KeyString renders them), in key order.
	ReadAfter(ctx context.Context, ds *spec.Dataset, after []string, emit func(arrow.RecordBatch) error) error
}

// continuable says why job j's dataset cannot be continued after a key
// (ResumeReader), or "": then its finished parts are journaled as it is
// read, and kept by a resumed export.
func continuable(j job) string {
	rr, ok := j.src.(ResumeReader)
	sc, _ := j.src.(SnapshotChecker)
	switch {
	case !ok || sc == nil || !sc.ChecksInSnapshot():
		return "this engine cannot continue a dataset after a key in a snapshot"
	case len(j.ds.Spec.PrimaryKey) == 0:
		return "it has no primary key"
	case len(j.ds.Spec.Members) > 0:
		return "it is a logical dataset (its member tables are read one after another)"
	}
	return rr.CanReadAfter(&j.ds.Spec, nil)
}

// stillHolds says why candidate c cannot be kept for job j, or "".
func stillHolds(ctx context.Context, j job, c *bundle.Candidate) string {
	now, was := j.ds.Spec, c.Dataset
	switch {
	case now.Source != was.Source || now.Kind != was.Kind || now.Namespace != was.Namespace || now.Object != was.Object:
		return "it is another dataset now"
	case !sameJSON(now.PrimaryKey, was.PrimaryKey) || !sameJSON(bundle.ColumnsOf(j.ds.Schema), was.Columns):
		return "its columns or key changed"
	case now.DDL != was.DDL || now.Filter != was.Filter:
		return "its definition or filter changed"
	case !sameMembers(now.Members, was.Members):
		return "its member tables or their definitions changed"
	}
	rc, ok := j.src.(ResumeChecker)
	if !ok {
		return "this engine cannot tell whether it changed since the killed run"
	}
	check, err := memberCheck(ctx, rc, &j.ds.Spec)
	switch {
	case err != nil:
		return fmt.Sprintf("its source check failed: %v", err)
	case check == "" || c.Check == "":
		return "the source cannot tell whether it changed since the killed run"
	case check != c.Check:
		return fmt.Sprintf("the source changed since the killed run (then %s, now %s)", c.Check, check)
	}
	return ""
}

// sameMembers compares two logical datasets' members by name and DDL
// (their rows are what a run read).
func sameMembers(a, b []spec.Member) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Object != b[i].Object || a[i].DDL != b[i].DDL {
			return false
		}
	}
	return true
}

func sameJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}

// SnapshotChecker is implemented by ResumeCheckers whose check reads the
// same snapshot as Read: the check before the read is then the one after
// it, and is not asked.
type SnapshotChecker interface {
	ChecksInSnapshot() bool
}

// readChecked runs read and returns the ResumeCheck of src on ds to
// record: taken before and after the read (before only, for a source that
// reads in a snapshot: it is then known while the dataset is read, for
// its part lines, inSnapshot), "" (never kept) for a dataset that changed
// while it was read or whose check failed: the check only serves a
// resume, so its failure costs that, never the export.
func readChecked(ctx context.Context, src Source, ds *spec.Dataset, inSnapshot func(check string), read func() error) (string, error) {
	rc, ok := src.(ResumeChecker)
	if !ok {
		return "", read()
	}
	sc, _ := src.(SnapshotChecker)
	if sc != nil && sc.ChecksInSnapshot() {
		check, err := memberCheck(ctx, rc, ds)
		if err != nil {
			check = ""
		}
		inSnapshot(check)
		if err := read(); err != nil {
			return "", err
		}
		return check, nil
	}
	before, berr := memberCheck(ctx, rc, ds)
	if err := read(); err != nil {
		return "", err
	}
	after, err := memberCheck(ctx, rc, ds)
	if err != nil || berr != nil || before != after {
		return "", nil
	}
	return after, nil
}
