package importer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/bundle"
)

// Rejects is the reject file: one JSON object a line for every record a
// target refused, with its reason. Nothing a target refuses is dropped
// silently: it lands here and in the counts, or Add fails and with it the
// part being loaded.
type Rejects struct {
	mu    sync.Mutex
	path  string
	f     *os.File
	count map[string]int64
	total int64
	// reasons count the rejects by reason for the run's report, with
	// the first few of each; at most maxReasons distinct ones, the rest
	// under otherReasons, so that reasons carrying values stay bounded.
	reasons map[string]*ReasonCount
	order   []string
	max     int64 // stop once total is over max; < 0 = no limit
	err     error // the first write error: every later Add returns it
}

// ErrTooManyRejects is returned by Add once more records were refused than
// SetMax allows (the record itself is written first).
var ErrTooManyRejects = errors.New("too many records refused")

// Reject is one line of the reject file.
type Reject struct {
	Dataset string            `json:"dataset"`
	Part    int               `json:"part"`
	Row     int64             `json:"row"` // row number within the part
	Key     []string          `json:"key,omitempty"`
	Reason  string            `json:"reason"`
	Values  map[string]any    `json:"values,omitempty"`
	Extra   map[string]string `json:"extra,omitempty"`
}

// NewRejects returns a reject file that is created on the first reject.
func NewRejects(path string) *Rejects {
	return &Rejects{path: path, count: map[string]int64{}, reasons: map[string]*ReasonCount{}, max: -1}
}

// SetMax makes Add fail with ErrTooManyRejects once more than n records were
// refused, so that an import going wrong stops early; n < 0 is no limit
// (the default).
func (r *Rejects) SetMax(n int64) { r.max = n }

// Path is where rejects go.
func (r *Rejects) Path() string { return r.path }

// Add writes one reject.
func (r *Rejects) Add(rj Reject) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	if r.f == nil {
		f, err := os.OpenFile(r.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			r.err = fmt.Errorf("open reject file (choose another with --rejects): %w", err)
			return r.err
		}
		r.f = f
	}
	b, err := json.Marshal(rj)
	if err != nil {
		return err
	}
	// Unbuffered: a target commits the part once Add returns, so a reject
	// that only sat in a buffer could be lost with nobody told (a full
	// disk). Rejects are few; one write each is cheap.
	if _, err := r.f.Write(append(b, '\n')); err != nil {
		r.err = fmt.Errorf("write reject file %s: %w; the import cannot keep the records the target refuses", r.path, err)
		return r.err
	}
	r.count[rj.Dataset]++
	r.total++
	r.countReason(rj)
	if r.max >= 0 && r.total > r.max {
		return fmt.Errorf("%w: more than %d (--max-rejects), the last: %s", ErrTooManyRejects, r.max, rj.Reason)
	}
	return nil
}

// AddRow writes row i of rec as a reject, rendering every column.
func (r *Rejects) AddRow(dataset string, part int, rowInPart int64, rec arrow.RecordBatch, i int, key []string, reason string) error {
	vals := make(map[string]any, rec.NumCols())
	for c := 0; c < int(rec.NumCols()); c++ {
		col := rec.Column(c)
		if col.IsNull(i) {
			vals[rec.ColumnName(c)] = nil
			continue
		}
		vals[rec.ColumnName(c)] = bundle.KeyString(col, i)
	}
	return r.Add(Reject{Dataset: dataset, Part: part, Row: rowInPart, Key: key, Reason: reason, Values: vals})
}

// Count is the number of rejects of a dataset.
func (r *Rejects) Count(dataset string) int64 {
	if r == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.count[dataset]
}

// Total is the number of rejects.
func (r *Rejects) Total() int64 {
	if r == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.total
}

// Close closes the file and returns the first error writing it: an import
// whose rejects could not all be kept has failed. Safe to call twice.
func (r *Rejects) Close() error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f != nil {
		if err := r.f.Close(); err != nil && r.err == nil {
			r.err = fmt.Errorf("close reject file %s: %w", r.path, err)
		}
		r.f = nil
	}
	return r.err
}

// ReasonCount is how many records were refused for one reason, with the
// first of them (without their values).
type ReasonCount struct {
	Reason string
	Count  int64
	First  []Reject
}

const (
	maxReasons     = 50
	firstPerReason = 3
	otherReasons   = "(other reasons: more than 50 distinct ones)"
)

func (r *Rejects) countReason(rj Reject) {
	reason := rj.Reason
	if r.reasons[reason] == nil && len(r.order) >= maxReasons {
		reason = otherReasons
	}
	rc := r.reasons[reason]
	if rc == nil {
		rc = &ReasonCount{Reason: reason}
		r.reasons[reason] = rc
		r.order = append(r.order, reason)
	}
	rc.Count++
	if len(rc.First) < firstPerReason {
		rj.Values, rj.Extra = nil, nil
		rc.First = append(rc.First, rj)
	}
}

// Reasons are the rejects counted by reason, in the order each reason was
// first seen.
func (r *Rejects) Reasons() []ReasonCount {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]ReasonCount, 0, len(r.order))
	for _, reason := range r.order {
		rc := *r.reasons[reason]
		rc.First = append([]Reject(nil), rc.First...)
		out = append(out, rc)
	}
	return out
}
