package bundle

import (
	"io"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
)

// Every allowed type survives the bundle exactly, and the digest recomputed
// from the decoded parts equals the one the writer recorded.
func TestAllTypesRoundTrip(t *testing.T) {
	const rows = 60
	r, err := Open(writeAllTypesBundle(t, rows))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ds, _ := r.Dataset("im.all")
	if len(ds.Parts) < 2 || ds.Rows != rows {
		t.Fatalf("%d rows in %d parts; want %d rows in several parts", ds.Rows, len(ds.Parts), rows)
	}
	want := allTypesRecord(t, 0, rows)
	defer want.Release()
	var d Digest
	at := 0
	for i := range ds.Parts {
		if err := r.VerifyPart(ds.Parts[i]); err != nil {
			t.Fatal(err)
		}
		pr, err := r.OpenPart(ds, i)
		if err != nil {
			t.Fatal(err)
		}
		for {
			rec, err := pr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			exp := want.NewSlice(int64(at), int64(at)+rec.NumRows())
			if !array.RecordEqual(rec, exp) {
				t.Fatalf("rows %d..%d differ after the round trip:\n got %v\nwant %v", at, at+int(rec.NumRows()), rec, exp)
			}
			exp.Release()
			d.AddRecord(rec)
			at += int(rec.NumRows())
		}
		pr.Close()
	}
	if d.Spec() != ds.Digest {
		t.Fatalf("digest of decoded rows %+v, manifest %+v", d.Spec(), ds.Digest)
	}
	var whole Digest
	whole.AddRecord(want)
	if whole.Spec() != ds.Digest {
		t.Fatalf("digest of the source record %+v, manifest %+v", whole.Spec(), ds.Digest)
	}
}
