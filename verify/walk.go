package verify

import (
	"context"
	"errors"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/spec"
)

type keyedRow struct {
	key  []string
	hash [32]byte
}

var errEnough = errors.New("enough differences")

// walkDiff reads the bundle and the target side by side, both in key order,
// and names the rows where key or content differ. Bundle and target were
// read by the same exporter, so their key orders agree wherever their rows
// do; after a difference it realigns on the next equal key within a window.
func walkDiff(ctx context.Context, src exporter.Source, orig, mapped *spec.Dataset, bundleRows func(func(arrow.RecordBatch) error) error, limit int) ([]Difference, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	bch := streamRows(ctx, orig.PrimaryKey, bundleRows)
	tch := streamRows(ctx, orig.PrimaryKey, func(fn func(arrow.RecordBatch) error) error {
		return exporter.ReadDataset(ctx, src, mapped, conformed(orig.Columns, fn), nil)
	})
	var diffs []Difference
	var row int64
	const window = 4096
	var bq, tq []keyedRow
	bDone, tDone := false, false
	fill := func(q *[]keyedRow, ch <-chan keyedRow, done *bool) {
		for !*done && len(*q) < window {
			kr, ok := <-ch
			if !ok {
				*done = true
				return
			}
			*q = append(*q, kr)
		}
	}
	for len(diffs) < limit {
		fill(&bq, bch, &bDone)
		fill(&tq, tch, &tDone)
		if len(bq) == 0 && len(tq) == 0 {
			break
		}
		switch {
		case len(tq) == 0:
			diffs = append(diffs, Difference{Row: row, BundleKey: bq[0].key})
			bq = bq[1:]
		case len(bq) == 0:
			diffs = append(diffs, Difference{Row: row, TargetKey: tq[0].key})
			tq = tq[1:]
		case slices.Equal(bq[0].key, tq[0].key):
			if bq[0].hash != tq[0].hash {
				diffs = append(diffs, Difference{Row: row, BundleKey: bq[0].key, TargetKey: tq[0].key})
			}
			bq, tq = bq[1:], tq[1:]
		default:
			// Is the target's key further on in the bundle (rows missing on
			// the target), or the bundle's further on in the target?
			if i := indexKey(bq, tq[0].key); i > 0 {
				for _, kr := range bq[:i] {
					diffs = append(diffs, Difference{Row: row, BundleKey: kr.key})
				}
				bq = bq[i:]
			} else if j := indexKey(tq, bq[0].key); j > 0 {
				for _, kr := range tq[:j] {
					diffs = append(diffs, Difference{Row: row, TargetKey: kr.key})
				}
				tq = tq[j:]
			} else {
				diffs = append(diffs, Difference{Row: row, BundleKey: bq[0].key, TargetKey: tq[0].key})
				bq, tq = bq[1:], tq[1:]
			}
		}
		row++
	}
	if len(diffs) > limit {
		diffs = diffs[:limit]
	}
	return diffs, nil
}

func indexKey(q []keyedRow, key []string) int {
	for i, kr := range q {
		if slices.Equal(kr.key, key) {
			return i
		}
	}
	return -1
}

func streamRows(ctx context.Context, pk []string, each func(func(arrow.RecordBatch) error) error) <-chan keyedRow {
	ch := make(chan keyedRow, 1024)
	go func() {
		defer close(ch)
		var d bundle.Digest
		_ = each(func(rec arrow.RecordBatch) error {
			var cols []int
			for _, k := range pk {
				cols = append(cols, rec.Schema().FieldIndices(k)...)
			}
			for i := 0; i < int(rec.NumRows()); i++ {
				key := make([]string, len(cols))
				for j, c := range cols {
					key[j] = bundle.KeyString(rec.Column(c), i)
				}
				select {
				case ch <- keyedRow{key: key, hash: d.RowHash(rec, i)}:
				case <-ctx.Done():
					return errEnough
				}
			}
			return nil
		})
	}()
	return ch
}
