package importer

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/bundle"
)

// Rejects is the reject file: one JSON object a line for every record a
// target refused, with its reason. Nothing a target refuses is dropped
// silently: it lands here and in the counts.
type Rejects struct {
	mu    sync.Mutex
	path  string
	f     *os.File
	w     *bufio.Writer
	count map[string]int64
}

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
	return &Rejects{path: path, count: map[string]int64{}}
}

// Path is where rejects go.
func (r *Rejects) Path() string { return r.path }

// Add writes one reject.
func (r *Rejects) Add(rj Reject) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		f, err := os.OpenFile(r.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("open reject file: %w", err)
		}
		r.f, r.w = f, bufio.NewWriter(f)
	}
	b, err := json.Marshal(rj)
	if err != nil {
		return err
	}
	r.w.Write(append(b, '\n'))
	r.count[rj.Dataset]++
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
	var n int64
	for _, c := range r.count {
		n += c
	}
	return n
}

// Close flushes the file.
func (r *Rejects) Close() error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return nil
	}
	if err := r.w.Flush(); err != nil {
		return err
	}
	return r.f.Close()
}
