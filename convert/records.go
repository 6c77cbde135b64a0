package convert

import "github.com/apache/arrow-go/v18/arrow"

// batches is the Records of a conversion that turns each input batch into
// one output batch: batches whose every row was rejected are skipped, so a
// target never sees an empty batch.
type batches struct {
	in      Records
	convert func(arrow.RecordBatch) (arrow.RecordBatch, error)
}

func (b *batches) Next() (arrow.RecordBatch, error) {
	for {
		rec, err := b.in.Next()
		if err != nil {
			return nil, err
		}
		out, err := b.convert(rec)
		if err != nil {
			return nil, err
		}
		if out.NumRows() > 0 {
			return out, nil
		}
		out.Release()
	}
}
