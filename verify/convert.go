package verify

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/convert"
	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/spec"
)

// conversionTo returns the default conversion of ds into engine (package
// convert), the one an import into such a target applies, or nil.
func conversionTo(ds *spec.Dataset, src *spec.Source, engine string, rule *convert.DatasetRule) *convert.Conversion {
	for _, c := range convert.ForMapped(ds, src, rule) {
		if c.To == engine && c.Err == nil && c.Conversion != nil && len(c.Conversion.Refused) == 0 {
			return c.Conversion
		}
	}
	return nil
}

// intoExisting returns the conversion of orig onto the target's existing
// object at (the converted dataset, placed), as the import converted it,
// when src reads existing objects and a rule maps onto them; else nil.
func intoExisting(ctx context.Context, conv *convert.Conversion, orig *spec.Dataset, from *spec.Source, engine string, at *spec.Dataset, src exporter.Source) (*convert.Conversion, error) {
	sh, ok := src.(convert.Shapes)
	if !ok || !convert.WantsExisting(conv, from.Engine, engine) {
		return nil, nil
	}
	into, err := sh.Existing(ctx, at)
	if err != nil {
		return nil, fmt.Errorf("dataset %q: read the target's %s: %w", orig.Name, at.Object, err)
	}
	c, err := convert.Onto(conv, orig, from, engine, into)
	if err == nil && c != nil && len(c.Refused) > 0 && conv.NeedsExisting() {
		// Nothing else can read the target: say why, as the import does.
		err = fmt.Errorf("dataset %q cannot be converted into the existing %s exactly (%s): %s", orig.Name, at.Object, c.Rule, strings.Join(c.Refused, "; "))
	}
	if err != nil || c == nil || len(c.Refused) > 0 {
		return nil, err
	}
	return c, nil
}

// eachConverted hands fn the bundle's records of orig converted as an
// import converts them; the records the conversion refuses (which the
// import sent to its reject file) and those a mapping's filter leaves out
// are counted.
func eachConverted(r *bundle.Reader, orig *spec.Dataset, conv *convert.Conversion, n *leftOut, fn func(arrow.RecordBatch) error) error {
	*n = leftOut{}
	count := func(rj convert.Reject) error {
		if rj.Filtered {
			n.filtered++
		} else {
			n.rejected++
		}
		return nil
	}
	if conv.Whole { // one input: every part in order (SPEC.md §11.9)
		pr := r.OpenParts(orig)
		defer pr.Close()
		var inputs []convert.Records // embedded datasets (§11.1), each whole
		for _, ds := range conv.Inputs {
			in := r.OpenParts(ds)
			defer in.Close()
			inputs = append(inputs, in)
		}
		recs := conv.RecordsWith(pr, inputs, 0, count)
		if c, ok := recs.(io.Closer); ok {
			defer c.Close()
		}
		return bundle.Drain(recs, fn)
	}
	for i := range orig.Parts {
		pr, err := r.OpenPart(orig, i)
		if err != nil {
			return err
		}
		err = bundle.Drain(conv.Records(pr, i, count), fn)
		pr.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// leftOut counts the bundle's rows a conversion does not hand on.
type leftOut struct{ rejected, filtered int64 }
