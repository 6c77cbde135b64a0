package bundle

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// VarLen reads all four variable-length types alike, sliced arrays
// included, and refuses other types.
func TestVarLen(t *testing.T) {
	vals := []string{"", "a", "\xff\x00b", "😀"}
	for _, dt := range []arrow.DataType{arrow.BinaryTypes.String, arrow.BinaryTypes.LargeString, arrow.BinaryTypes.Binary, arrow.BinaryTypes.LargeBinary} {
		b := array.NewBuilder(memory.DefaultAllocator, dt)
		bb, ok := VarLenBuilder(b)
		if !ok {
			t.Fatalf("%s: no VarLenBuilder", dt)
		}
		for _, v := range vals {
			bb.AppendString(v)
		}
		bb.AppendNull()
		a := b.NewArray()
		b.Release()
		for _, arr := range []arrow.Array{a, array.NewSlice(a, 1, 5)} {
			v, ok := AsVarLen(arr)
			if !ok {
				t.Fatalf("%s: AsVarLen refused", dt)
			}
			off := len(vals) + 1 - arr.Len()
			for i := 0; i < arr.Len(); i++ {
				want := ""
				if i+off < len(vals) {
					want = vals[i+off]
				}
				if got := string(v.Value(i)); got != want || v.IsNull(i) != (i+off == len(vals)) {
					t.Errorf("%s offset %d row %d: %q null=%v, want %q", dt, off, i, got, v.IsNull(i), want)
				}
			}
			if arr != a {
				arr.Release()
			}
		}
		a.Release()
	}
	i := array.NewInt64Builder(memory.DefaultAllocator)
	i.Append(1)
	ia := i.NewArray()
	if _, ok := AsVarLen(ia); ok {
		t.Error("AsVarLen took an int64 array")
	}
	if !SameValues("utf8", "large_utf8") || !SameValues("large_binary", "binary") || SameValues("utf8", "binary") || SameValues("timestamp[ms]", "timestamp[us]") {
		t.Error("SameValues")
	}
}
