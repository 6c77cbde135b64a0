package verify

import (
	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/convert"
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
		err = bundle.Drain(conv.Records(pr, i, func(convert.Reject) error { *rejected++; return nil }), fn)
		pr.Close()
		if err != nil {
			return err
		}
	}
	return nil
}
