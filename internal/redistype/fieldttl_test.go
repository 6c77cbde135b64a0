package redistype

import (
	"strings"
	"testing"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/spec"
)

// TestFieldTTLColumn: the eleven-column layout carries a hash field's own
// expiry, reads back through Rows, leaves the content digest as the
// ten-column layout has it, and the ten-column layout still reads (with no
// field expiry).
func TestFieldTTLColumn(t *testing.T) {
	b := NewBuilderFor(1<<20, SchemaFieldTTL)
	defer b.Release()
	b.HashFieldExpiring([]byte("h"), []byte("f1"), []byte("v1"), 99, 1234567890123, 0)
	b.HashField([]byte("h"), []byte("f2"), []byte("v2"), 99, 1)
	b.KeyRow([]byte("h"), Hash, 2, "", 99)
	b.StringKey([]byte("s"), []byte("x"), NoExpiry)
	rec := b.Flush()
	defer rec.Release()
	if err := CheckSchema(rec.Schema()); err != nil {
		t.Fatal(err)
	}
	rows, err := NewRows(rec)
	if err != nil {
		t.Fatal(err)
	}
	if !rows.HasFieldTTLs() {
		t.Fatal("no field TTL column")
	}
	want := []int64{1234567890123, NoExpiry, NoExpiry, NoExpiry}
	for i, w := range want {
		if got := rows.FieldExpireAt(i); got != w {
			t.Errorf("row %d: field expiry %d, want %d", i, got, w)
		}
		if err := rows.Check(i); err != nil {
			t.Errorf("row %d: %v", i, err)
		}
	}

	old := NewBuilder(1 << 20)
	defer old.Release()
	old.HashField([]byte("h"), []byte("f1"), []byte("v1"), 99, 0)
	old.HashField([]byte("h"), []byte("f2"), []byte("v2"), 99, 1)
	old.KeyRow([]byte("h"), Hash, 2, "", 99)
	old.StringKey([]byte("s"), []byte("x"), NoExpiry)
	orec := old.Flush()
	defer orec.Release()
	if orec.NumCols() != NumCols {
		t.Fatalf("the ten-column builder wrote %d columns", orec.NumCols())
	}
	orows, err := NewRows(orec)
	if err != nil {
		t.Fatal(err)
	}
	if orows.HasFieldTTLs() || orows.FieldExpireAt(0) != NoExpiry {
		t.Fatal("ten-column rows report a field expiry")
	}
	var d1, d2 bundle.Digest
	d1.AddRecord(rec)
	d2.AddRecord(orec)
	if d1.Spec() != d2.Spec() {
		t.Fatalf("field_expire_at_ms changed the content digest: %v vs %v", d1.Spec(), d2.Spec())
	}
}

func TestFieldExpiryOnlyOnHashFields(t *testing.T) {
	b := NewBuilderFor(1<<20, SchemaFieldTTL)
	defer b.Release()
	// A hand-made bundle could put one on a key row: Check names it.
	b.commonExpiring([]byte("h"), Hash, NoExpiry, 5, 0)
	b.field.AppendNull()
	b.value.AppendNull()
	b.score.AppendNull()
	b.index.AppendNull()
	b.streamID.AppendNull()
	b.elements.Append(0)
	rec := b.Flush()
	defer rec.Release()
	rows, err := NewRows(rec)
	if err != nil {
		t.Fatal(err)
	}
	if err := rows.Check(0); err == nil || !strings.Contains(err.Error(), "not a hash field") {
		t.Fatalf("want a refusal of a key row with a field expiry, got %v", err)
	}
}

func TestSchemaOf(t *testing.T) {
	ds := &spec.Dataset{Options: map[string]string{"layout": LayoutName}}
	if SchemaOf(ds) != Schema || HasFieldTTLs(ds) {
		t.Fatal("a dataset without the option is ten columns")
	}
	ds.Options[OptFieldTTLs] = "7"
	if SchemaOf(ds) != SchemaFieldTTL || FieldTTLHashes(ds) != 7 {
		t.Fatal("a dataset with the option is eleven columns")
	}
	if SchemaFieldTTL.NumFields() != NumColsFieldTTL || Schema.NumFields() != NumCols {
		t.Fatal("column counts")
	}
	if v, _ := SchemaFieldTTL.Field(ColFieldExpireAt).Metadata.GetValue(bundle.MetaDigest); v != "exclude" {
		t.Fatal("field_expire_at_ms is digested")
	}
}
