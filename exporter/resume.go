package exporter

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

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
// reason and exported again.
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
	for _, c := range cands {
		i, ok := byName[c.Dataset.Name]
		if !ok {
			log.Warn("resume: a dataset the killed run exported is no longer selected; it is left out", "dataset", c.Dataset.Name)
			continue
		}
		reason := stillHolds(ctx, work[i], &c)
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
		if !keep[j.ds.Spec.Name] {
			left = append(left, j)
		}
	}
	log.Info("resume: kept the datasets a killed run of this export finished", "kept", len(keep), "to_export", len(left))
	return left, nil
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
	check, err := memberCheck(ctx, rc.ResumeCheck, &j.ds.Spec)
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

// ReadChecker is implemented by SnapshotCheckers whose check counts the
// rows of the snapshot: asked right after Read, given ds.Rows = the rows
// Read gave in that snapshot (each member's for a logical dataset), it
// takes them for the count instead of counting again. MySQL's COUNT(*)
// is a scan of the whole table on the server, as long as a third of the
// read itself (bench/results/bigtable-2026-12-01.md).
type ReadChecker interface {
	ResumeCheckRead(ctx context.Context, ds *spec.Dataset) (string, error)
}

// readChecked runs read and returns the ResumeCheck of src on ds to
// record: taken before and after the read (after only, for a source that
// reads in a snapshot), "" (never kept) for a dataset that changed while
// it was read or whose check failed: the check only serves a resume, so
// its failure costs that, never the export.
//
// read returns the rows it read: a source that checks in its snapshot
// and implements ReadChecker is given them.
func readChecked(ctx context.Context, src Source, ds *spec.Dataset, read func() (int64, error)) (string, error) {
	rc, ok := src.(ResumeChecker)
	if !ok {
		_, err := read()
		return "", err
	}
	sc, _ := src.(SnapshotChecker)
	inSnapshot := sc != nil && sc.ChecksInSnapshot()
	var before string
	var berr error
	if !inSnapshot {
		before, berr = memberCheck(ctx, rc.ResumeCheck, ds)
	}
	rows, err := read()
	if err != nil {
		return "", err
	}
	check := rc.ResumeCheck
	counted := ds
	if rd, ok := src.(ReadChecker); ok && inSnapshot {
		// The members' rows are in ds.Members already (ReadDataset).
		check, counted = rd.ResumeCheckRead, new(spec.Dataset)
		*counted = *ds
		counted.Rows = rows
	}
	after, err := memberCheck(ctx, check, counted)
	if err != nil || berr != nil || (!inSnapshot && before != after) {
		return "", nil
	}
	return after, nil
}
