package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/spec"
)

// VerifyParts is the pre-flight of an import, run before the target is
// touched: the SHA-256 of every part of the items and its structure against
// the manifest (bundle.VerifyAll: schema, rows per batch, compression,
// buffer sizes), jobs at a time, then that every batch can be decoded
// within the reader's memory limit (bundle.OpenPart). No value is decoded.
// A delta's deleted keys (SPEC.md §14.1) are parts like any other.
func VerifyParts(ctx context.Context, r *bundle.Reader, items []*Item, opts Options) error {
	if err := bundle.VerifyAll(ctx, r, inputParts(items), opts.Jobs, nil); err != nil {
		return err
	}
	for _, it := range items {
		for _, ds := range []*spec.Dataset{it.Stored(), spec.DeletedDataset(it.Stored())} {
			if ds == nil {
				continue
			}
			for i := range ds.Parts {
				pr, err := r.OpenPart(ds, i)
				if err != nil {
					return err
				}
				pr.Close()
			}
		}
	}
	return nil
}

// verificationFailed marks an error that proves the bundle wrong (damaged,
// or its rows not those its manifest describes): the CLI exits 3 for it.
func verificationFailed(err error) error {
	return fmt.Errorf("bundle failed verification: %w", err)
}

// digestingSource hands a part's batches to a target and adds each to the
// part's content digest. The rest of the part is read by finish, so a
// target that skips a part it loaded in an earlier run (or stops early)
// still leaves every row digested: the check of checkDigests covers the
// whole bundle, resumed parts included.
type digestingSource struct {
	recs RecordSource
	d    bundle.Digest
	eof  bool
	off  bool // another item digests these rows (Item.sharedDigest)
	// read is told each batch's records as count counts them
	// (progress); may be nil.
	read  func(n int64)
	count func(arrow.RecordBatch) int64
}

func (s *digestingSource) Next() (arrow.RecordBatch, error) {
	if s.eof {
		return nil, io.EOF
	}
	rec, err := s.recs.Next()
	switch {
	case err == io.EOF:
		s.eof = true
	case err == nil:
		if !s.off {
			s.d.AddRecord(rec)
		}
		if s.read != nil {
			s.read(s.count(rec))
		}
	}
	return rec, err
}

// finish reads and digests what the target left unread.
func (s *digestingSource) finish() error {
	for {
		_, err := s.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// datasetDigests sums the digests of loaded parts per item; parts load in
// parallel and digests add up in any order (SPEC.md §6).
type datasetDigests struct {
	mu   sync.Mutex
	sums []bundle.Digest
}

func newDatasetDigests(items []*Item) *datasetDigests {
	return &datasetDigests{sums: make([]bundle.Digest, len(items))}
}

func (d *datasetDigests) add(item int, part *bundle.Digest) {
	d.mu.Lock()
	d.sums[item].Merge(part)
	d.mu.Unlock()
}

// check compares every item's digest with its manifest's. It runs after
// every part is loaded and before the target's Finish.
func (d *datasetDigests) check(items []*Item) error {
	var errs []error
	for i, it := range items {
		ds := it.Stored()
		if it.sharedDigest {
			continue // checked with the item that digests it
		}
		if got := d.sums[i].Spec(); got.Sum != ds.Digest.Sum || got.Rows != ds.Digest.Rows {
			errs = append(errs, fmt.Errorf("dataset %q: the rows loaded digest to %s (%d rows), the manifest says %s (%d rows)", ds.Name, got.Sum, got.Rows, ds.Digest.Sum, ds.Digest.Rows))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return verificationFailed(fmt.Errorf("%w\nthe parts are intact but do not hold the rows their manifest describes, so the bundle's writer or an edit of it is at fault: the target holds the rows loaded so far, unfinished (no deferred indexes or objects); export the bundle again and import it with --mode replace", errors.Join(errs...)))
}
