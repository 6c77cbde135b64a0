package redistype

import (
	"math"
	"testing"
)

// TestBuilderRowsRoundTrip writes one row of every kind and reads them back
// through Rows, checking Check's verdicts and the key-row conventions.
func TestBuilderRowsRoundTrip(t *testing.T) {
	b := NewBuilder(1 << 20)
	defer b.Release()
	b.StringKey([]byte{0, 0xff}, []byte{}, 123)
	b.HashField([]byte("h"), []byte("f"), []byte(""), NoExpiry, 0)
	b.KeyRow([]byte("h"), Hash, 1, "", NoExpiry)
	b.ZMember([]byte("z"), []byte("m"), math.Copysign(0, -1), 5, 0)
	b.ZMember([]byte("z"), []byte("n"), math.Inf(-1), 5, 1)
	b.KeyRow([]byte("z"), ZSet, 2, "", 5)
	b.ListElem([]byte("l"), []byte("e"), 0, NoExpiry, 0)
	b.KeyRow([]byte("l"), List, 1, "", NoExpiry)
	b.SetMember([]byte("s"), []byte(""), NoExpiry, 0)
	b.KeyRow([]byte("s"), Set, 1, "", NoExpiry)
	b.StreamPair([]byte("x"), "1-1", 0, []byte("f"), []byte("v"), NoExpiry, 0)
	b.KeyRow([]byte("x"), Stream, 1, "2-0", NoExpiry)
	b.KeyRow([]byte("empty"), Stream, 0, "0-0", NoExpiry)
	rec := b.Flush()
	defer rec.Release()
	if b.Rows() != 0 || b.Flush() != nil {
		t.Fatal("builder not empty after Flush")
	}
	rows, err := NewRows(rec)
	if err != nil {
		t.Fatal(err)
	}
	if rows.N != 13 {
		t.Fatalf("%d rows", rows.N)
	}
	for i := 0; i < rows.N; i++ {
		if err := rows.Check(i); err != nil {
			t.Errorf("row %d: %v", i, err)
		}
	}
	keyRows := 0
	for i := 0; i < rows.N; i++ {
		if rows.IsKeyRow(i) {
			keyRows++
			if rows.Seq(i) != rows.Elements(i) {
				t.Errorf("row %d: key row seq %d, elements %d", i, rows.Seq(i), rows.Elements(i))
			}
		}
	}
	if keyRows != 7 {
		t.Fatalf("%d key rows, want 7", keyRows)
	}
	if s := rows.Score(3); s != 0 || !math.Signbit(s) || !math.IsInf(rows.Score(4), -1) {
		t.Errorf("scores %v %v", rows.Score(3), rows.Score(4))
	}
	if rows.ExpireAt(0) != 123 || rows.ExpireAt(1) != NoExpiry || string(rows.Key(0)) != "\x00\xff" || len(rows.Value(0)) != 0 {
		t.Errorf("string row: key %q value %q exp %d", rows.Key(0), rows.Value(0), rows.ExpireAt(0))
	}
	if rows.StreamID(11) != "2-0" || rows.StreamID(10) != "1-1" || rows.Index(10) != 0 || rows.StreamID(0) != "" {
		t.Errorf("stream rows")
	}
	if err := CheckSchema(rec.Schema()); err != nil {
		t.Fatal(err)
	}
}

func TestBuilderCutsBatches(t *testing.T) {
	b := NewBuilder(1000)
	defer b.Release()
	for !b.Full() {
		b.StringKey([]byte("k"), make([]byte, 100), NoExpiry)
	}
	if b.Rows() < 5 || b.Rows() > 10 {
		t.Fatalf("full after %d rows of ~165 bytes at a 1000-byte target", b.Rows())
	}
	b.Flush().Release()
	b.MaxRows = 3
	for i := 0; i < 3; i++ {
		if b.Full() {
			t.Fatalf("full after %d rows with MaxRows 3", i)
		}
		b.SetMember([]byte("s"), []byte("m"), NoExpiry, int64(i))
	}
	if !b.Full() {
		t.Fatal("not full at MaxRows")
	}
}
