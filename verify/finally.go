package verify

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/convert"
)

// DocumentReader is a source that reads single documents by _id: the
// MongoDB source.
type DocumentReader interface {
	ReadDocument(ctx context.Context, namespace, collection string, id bson.RawValue) (bson.Raw, error)
}

// Finally checks a mapping's finally documents on the target (SPEC.md
// §11.6): each must be there, byte for byte. It returns a line per one
// missing or different; ok is false when src reads no documents (not a
// MongoDB target: nothing to check there).
func Finally(ctx context.Context, src any, m *convert.Mapping) (diffs []string, ok bool, err error) {
	final := m.Final()
	rd, isReader := src.(DocumentReader)
	if len(final) == 0 || !isReader {
		return nil, false, nil
	}
	for _, f := range final {
		for _, want := range f.Docs {
			id := want.Lookup("_id")
			got, err := rd.ReadDocument(ctx, f.Namespace, f.Collection, id)
			if err != nil {
				return nil, true, err
			}
			switch {
			case got == nil:
				diffs = append(diffs, fmt.Sprintf("finally document %s of %s is missing (the import writes it only when everything else loaded without a reject)", id, f.Collection))
			case !convert.SameDocument(want, got):
				diffs = append(diffs, fmt.Sprintf("finally document %s of %s differs: %s, want %s", id, f.Collection, got, want))
			}
		}
	}
	return diffs, true, nil
}
