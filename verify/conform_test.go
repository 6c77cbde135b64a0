package verify

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/spec"
)

// A target read in today's representation (milliseconds, large_utf8)
// digests like the format 1 bundle it was restored from (microseconds,
// utf8) once conformed; a finer target unit than the bundle's is refused.
func TestConformScalesToTheBundlesUnit(t *testing.T) {
	mem := memory.DefaultAllocator
	mk := func(unit arrow.TimeUnit, text arrow.DataType, ts []int64, names []string) arrow.RecordBatch {
		s := arrow.NewSchema([]arrow.Field{
			{Name: "at", Type: &arrow.TimestampType{Unit: unit, TimeZone: "UTC"}, Nullable: true},
			{Name: "took", Type: &arrow.DurationType{Unit: unit}, Nullable: true},
			{Name: "name", Type: text},
		}, nil)
		b := array.NewRecordBuilder(mem, s)
		defer b.Release()
		for i, v := range ts {
			if i == 1 {
				b.Field(0).AppendNull()
				b.Field(1).AppendNull()
			} else {
				b.Field(0).(*array.TimestampBuilder).Append(arrow.Timestamp(v))
				b.Field(1).(*array.DurationBuilder).Append(arrow.Duration(-v))
			}
			vb, _ := bundle.VarLenBuilder(b.Field(2))
			vb.AppendString(names[i])
		}
		return b.NewRecordBatch()
	}
	names := []string{"a", "b😀", ""}
	old := mk(arrow.Microsecond, arrow.BinaryTypes.String, []int64{1_700_000_000_123_000, 0, -5_000}, names)
	defer old.Release()
	target := mk(arrow.Millisecond, bundle.Text, []int64{1_700_000_000_123, 0, -5}, names)
	defer target.Release()
	cols := bundle.ColumnsOf(old.Schema())

	var want, got bundle.Digest
	want.AddRecord(old)
	err := conformed(cols, func(rec arrow.RecordBatch) error {
		if rec.Column(0).DataType().String() != "timestamp[us, tz=UTC]" || rec.Column(1).DataType().String() != "duration[us]" {
			t.Errorf("conformed types %s, %s", rec.Column(0).DataType(), rec.Column(1).DataType())
		}
		if !rec.Column(0).IsNull(1) || rec.Column(0).(*array.Timestamp).Value(2) != -5_000 {
			t.Errorf("conformed times %v", rec.Column(0))
		}
		got.AddRecord(rec)
		return nil
	})(target)
	if err != nil {
		t.Fatal(err)
	}
	if got.Spec() != want.Spec() {
		t.Fatalf("digest %+v, want %+v", got.Spec(), want.Spec())
	}

	// The other way round the counts would have to divide: refused.
	err = conformed(bundle.ColumnsOf(target.Schema()), func(arrow.RecordBatch) error { return nil })(old)
	if err == nil || !strings.Contains(err.Error(), "finer than the bundle's") {
		t.Fatalf("µs target against a ms bundle: %v", err)
	}
	// A type that is no other representation of the bundle's is refused.
	cols2 := append([]spec.Column(nil), cols...)
	cols2[2].Type = "int64"
	err = conformed(cols2, func(arrow.RecordBatch) error { return nil })(target)
	if err == nil || !strings.Contains(err.Error(), "target schema differs") {
		t.Fatalf("large_utf8 target against an int64 column: %v", err)
	}
}
