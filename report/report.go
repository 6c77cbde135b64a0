// Package report is the record of one export, import or verify run: per
// dataset rows, bytes, time and throughput, rejects by reason, relation and
// invariant checks, verify verdicts and throughput over time. The commands
// fill one Report as they run; it is written as JSON (for scripts) and as
// one self-contained HTML page (for people), SPEC.md §12.
package report

import (
	"context"
	"time"

	"github.com/imbundle/imbundle/progress"
	"github.com/imbundle/imbundle/verify"
)

// Report is one run. A nil *Report is valid and records nothing, so the
// commands fill it without checking whether --report was given.
type Report struct {
	Tool     string    `json:"tool"`    // imbundle and its version
	Command  string    `json:"command"` // export, import or verify
	Bundle   string    `json:"bundle,omitempty"`
	BundleID string    `json:"bundle_id,omitempty"`
	Sources  []string  `json:"sources,omitempty"` // redacted URLs
	Targets  []string  `json:"targets,omitempty"` // import targets, verify --against databases (redacted)
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Seconds  float64   `json:"seconds"`
	OK       bool      `json:"ok"`
	// Verdict is the run's result in one sentence, the page's headline.
	Verdict   string                  `json:"verdict"`
	Error     string                  `json:"error,omitempty"`
	Totals    Totals                  `json:"totals"`
	Datasets  []Dataset               `json:"datasets"`
	Rejects   *Rejects                `json:"rejects,omitempty"`
	Relations []verify.RelationResult `json:"relations,omitempty"`
	Checks    []verify.CheckResult    `json:"checks,omitempty"`
	Schema    []string                `json:"schema_differences,omitempty"`
	// Throughput is rows and bytes done over time, sampled by the
	// progress counters of the run.
	Throughput []Sample `json:"throughput,omitempty"`
}

// Totals sum the datasets.
type Totals struct {
	Datasets    int    `json:"datasets"`
	Rows        int64  `json:"rows"`                  // bundle rows (documents) in the bundle
	Records     int64  `json:"records"`               // the datasets' records (Dataset.Records)
	Unit        string `json:"unit"`                  // what Records counts: the datasets' unit when they agree, else "records"
	FileBytes   int64  `json:"file_bytes,omitempty"`  // the bundle file's size (compressed)
	PartBytes   int64  `json:"part_bytes"`            // the datasets' parts, compressed, as stored in the bundle
	RawBytes    int64  `json:"raw_bytes,omitempty"`   // the rows in memory, uncompressed, as counted while reading
	Written     int64  `json:"written,omitempty"`     // import: rows written
	Rejected    int64  `json:"rejected,omitempty"`    // import: rows the target refused
	Parts       int    `json:"parts"`                 // parts in the bundle
	BadParts    int    `json:"bad_parts,omitempty"`   // verify: parts that failed their checksum
	Mismatches  int    `json:"mismatches,omitempty"`  // verify --against: datasets that differ
	ReadErrors  int    `json:"read_errors,omitempty"` // verify --against: datasets that could not be read
	Orphans     int64  `json:"orphans,omitempty"`     // verify --relations
	Violations  int64  `json:"violations,omitempty"`  // verify --profile checks
	RowsPerSec  int64  `json:"rows_per_second"`       // bundle rows, over the whole run
	BytesPerSec int64  `json:"raw_bytes_per_second"`  // uncompressed, over the whole run
}

// Dataset is one dataset of the run.
type Dataset struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Source string `json:"source"` // engine
	Rows   int64  `json:"rows"`   // in the bundle
	// Records are what the operator counts (internal/records): a Redis
	// database's keys (its "keys" counter; a key is many bundle rows),
	// else its rows. 0 for a keyspace of a bundle without the counter.
	Records   int64   `json:"records"`
	Unit      string  `json:"unit"` // rows, keys, documents
	Parts     int     `json:"parts"`
	PartBytes int64   `json:"part_bytes"`                // compressed, in the bundle
	RawBytes  int64   `json:"raw_bytes,omitempty"`       // uncompressed, counted while reading or loading
	Seconds   float64 `json:"seconds,omitempty"`         // from its first to its last batch
	RowsPerS  int64   `json:"rows_per_second,omitempty"` // records (Unit) per second, as progress counted them
	Import    *Import `json:"import,omitempty"`
	Verify    *Verify `json:"verify,omitempty"`
}

// Import is what an import did with a dataset.
type Import struct {
	Target       string `json:"target"`
	Written      int64  `json:"written"`
	Rejected     int64  `json:"rejected"`
	Filtered     int64  `json:"filtered,omitempty"`
	Expired      int64  `json:"expired,omitempty"`
	PartsResumed int    `json:"parts_resumed,omitempty"`
}

// Verify is a dataset's verification: offline (its parts' checksums) or
// against a database (rows and digests read back).
type Verify struct {
	BadParts    int      `json:"bad_parts,omitempty"`
	Against     string   `json:"against,omitempty"`
	Target      string   `json:"target,omitempty"`
	TargetRows  int64    `json:"target_rows,omitempty"`
	Match       bool     `json:"match"`
	Conversion  string   `json:"conversion,omitempty"`
	Differences []string `json:"differences,omitempty"` // the first differing keys
	Error       string   `json:"error,omitempty"`
}

// Rejects are the records the targets refused, counted by reason.
type Rejects struct {
	File    string   `json:"file"`
	Total   int64    `json:"total"`
	Reasons []Reason `json:"reasons"`
}

// Reason is one reason records were refused for, with the first of them.
type Reason struct {
	Reason string   `json:"reason"`
	Count  int64    `json:"count"`
	First  []string `json:"first"` // dataset, part, row and key of the first few
}

// Sample is the work done by a point of the run.
type Sample struct {
	Seconds float64 `json:"seconds"` // since the run started
	Rows    int64   `json:"rows"`
	Bytes   int64   `json:"raw_bytes"`
}

// New starts the report of a command.
func New(command, tool string) *Report {
	return &Report{Command: command, Tool: tool, Started: time.Now().UTC(), Datasets: []Dataset{}}
}

type ctxKey struct{}

// NewContext carries r to the command's body.
func NewContext(ctx context.Context, r *Report) context.Context {
	return context.WithValue(ctx, ctxKey{}, r)
}

// From is the report in ctx, nil if the run writes none.
func From(ctx context.Context) *Report {
	if ctx == nil {
		return nil
	}
	r, _ := ctx.Value(ctxKey{}).(*Report)
	return r
}

// dataset is the entry named name, added if new.
func (r *Report) dataset(name string) *Dataset {
	for i := range r.Datasets {
		if r.Datasets[i].Name == name {
			return &r.Datasets[i]
		}
	}
	r.Datasets = append(r.Datasets, Dataset{Name: name})
	return &r.Datasets[len(r.Datasets)-1]
}

// Progress takes a counter's per-dataset timings and samples, and the
// bytes it counted when they are the uncompressed ones (export's; import
// and verify count the parts' compressed bytes, already in PartBytes).
// Import calls it once per target; the samples then follow one another.
// A dataset timed under 10 ms gets no rate: it would mean nothing.
func (r *Report) Progress(c *progress.Counter) {
	if r == nil || c == nil {
		return
	}
	for _, t := range c.Tasks() {
		d := r.dataset(t.Name)
		if c.BytesKind() == "uncompressed" {
			d.RawBytes += t.Bytes
		}
		d.Seconds += t.Elapsed.Seconds()
		if d.Seconds >= 0.01 {
			d.RowsPerS = int64(float64(t.Rows) / d.Seconds)
		}
	}
	var base Sample
	if n := len(r.Throughput); n > 0 {
		base = r.Throughput[n-1]
	}
	for _, s := range c.Samples() {
		r.Throughput = append(r.Throughput, Sample{
			Seconds: s.At.Sub(r.Started).Seconds(),
			Rows:    base.Rows + s.Rows,
			Bytes:   base.Bytes + s.Bytes,
		})
	}
}
