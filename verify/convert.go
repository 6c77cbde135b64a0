package verify

import (
	"context"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/convert"
	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/spec"
)

// conversionTo returns the default conversion of ds into engine (package
// convert), the one an import into such a target applies, or nil.
func conversionTo(ds *spec.Dataset, src *spec.Source, engine string) *convert.Conversion {
	for _, c := range convert.For(ds, src) {
		if c.To == engine && c.Err == nil && c.Conversion != nil && len(c.Conversion.Refused) == 0 {
			return c.Conversion
		}
	}
	return nil
}

// intoExisting returns the conversion of orig onto the target's existing
// object at (the converted dataset, placed), as the import converted it,
// when src reads existing objects and a rule maps onto them; else nil.
func intoExisting(ctx context.Context, orig *spec.Dataset, from *spec.Source, engine string, at *spec.Dataset, src exporter.Source) (*convert.Conversion, error) {
	sh, ok := src.(convert.Shapes)
	if !ok || !convert.CanInto(from.Engine, engine) {
		return nil, nil
	}
	into, err := sh.Existing(ctx, at)
	if err != nil {
		return nil, fmt.Errorf("dataset %q: read the target's %s: %w", orig.Name, at.Object, err)
	}
	c, err := convert.Into(orig, from, engine, into)
	if err != nil || c == nil || len(c.Refused) > 0 {
		return nil, err
	}
	return c, nil
}

// eachConverted hands fn the bundle's records of orig converted as an
// import converts them; the records the conversion refuses (which the
// import sent to its reject file) are counted in *rejected.
func eachConverted(r *bundle.Reader, orig *spec.Dataset, conv *convert.Conversion, rejected *int64, fn func(arrow.RecordBatch) error) error {
	*rejected = 0
	for i := range orig.Parts {
		pr, err := r.OpenPart(orig, i)
		if err != nil {
			return err
		}
		recs := conv.Records(pr, i, func(convert.Reject) error { *rejected++; return nil })
		for {
			rec, err := recs.Next()
			if err == io.EOF {
				break
			}
			if err == nil {
				err = fn(rec)
			}
			if err != nil {
				pr.Close()
				return err
			}
		}
		pr.Close()
	}
	return nil
}
