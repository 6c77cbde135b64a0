package mongotype

import (
	"bytes"
	"io"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/fixtures"
	"github.com/imbundle/imbundle/internal/bundletest"
	"github.com/imbundle/imbundle/spec"
)

// TestBundleRoundTrip carries every edge document, including the values
// FerretDB refuses (NaN payloads, Decimal128, MinKey, JavaScript, nested
// arrays, dotted keys, invalid UTF-8, duplicate keys, missing and array
// _ids), through a record batch and a bundle file, and expects the same
// bytes back in the same order.
func TestBundleRoundTrip(t *testing.T) {
	docs := append(fixtures.BSONEdgeDocs(), fixtures.BSONCodecOnlyDocs()...)
	path := filepath.Join(t.TempDir(), "edge.imb")
	// Small record batches, so the documents span several batches and
	// (with 64 KiB parts and the 200 KB string) several parts.
	b := NewBuilder(nil)
	defer b.Release()
	var recs []arrow.RecordBatch
	for i, d := range docs {
		if err := b.Append(d); err != nil {
			t.Fatalf("doc %d: %v", i, err)
		}
		if b.Len() == 3 || i == len(docs)-1 {
			recs = append(recs, b.NewRecord())
		}
	}
	bundletest.Write(t, path, bundle.Options{PartBytes: 64 << 10}, spec.Source{Engine: "mongodb", URL: "mongodb://127.0.0.1:1/db"},
		spec.Dataset{Name: "db.edge", Kind: spec.KindCollection, Namespace: "db", Object: "edge", PrimaryKey: PrimaryKey}, Schema(), recs...)

	r, err := bundle.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ds, ok := r.Dataset("db.edge")
	if !ok {
		t.Fatal("dataset missing")
	}
	if len(ds.Parts) < 2 {
		t.Errorf("want several parts, got %d", len(ds.Parts))
	}
	var got []bson.Raw
	var ids []string
	for p := range ds.Parts {
		pr, err := r.OpenPart(ds, p)
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
			rows, err := RowsOf(rec)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < rows.Len(); i++ {
				if err := rows.Check(i); err != nil {
					t.Errorf("row %d: %v", len(got), err)
				}
				got = append(got, append(bson.Raw(nil), rows.Doc(i)...))
				ids = append(ids, rows.IDJSON(i))
			}
		}
		pr.Close()
	}
	if len(got) != len(docs) {
		t.Fatalf("read %d documents, wrote %d", len(got), len(docs))
	}
	seen := map[string]int{}
	for i := range docs {
		if !bytes.Equal(got[i], docs[i]) {
			t.Errorf("document %d changed:\n wrote %x\n  read %x", i, []byte(docs[i]), []byte(got[i]))
		}
		if ids[i] == "" {
			continue // the document without _id
		}
		if j, dup := seen[ids[i]]; dup {
			t.Errorf("documents %d and %d render the same _id_json %s", j, i, ids[i])
		}
		seen[ids[i]] = i
	}
}

func TestIDEncoding(t *testing.T) {
	dec, _ := bson.ParseDecimal128("1.00")
	for _, c := range []struct {
		v    any
		json string
	}{
		{int32(7), `{"$numberInt":"7"}`},
		{int64(7), `{"$numberLong":"7"}`},
		{7.0, `{"$numberDouble":"7.0"}`},
		{"7", `"7"`},
		{dec, `{"$numberDecimal":"1.00"}`},
		{bson.MinKey{}, `{"$minKey":1}`},
		{bson.D{{Key: "b", Value: 1}, {Key: "a", Value: 2}}, `{"b":{"$numberInt":"1"},"a":{"$numberInt":"2"}}`},
	} {
		raw, err := bson.Marshal(bson.D{{Key: "_id", Value: c.v}})
		if err != nil {
			t.Fatal(err)
		}
		id := bson.Raw(raw).Lookup("_id")
		js, err := IDJSON(id)
		if err != nil {
			t.Fatal(err)
		}
		if js != c.json {
			t.Errorf("%T %v: _id_json %s, want %s", c.v, c.v, js, c.json)
		}
		back, err := DecodeID(EncodeID(id))
		if err != nil || back.Type != id.Type || !bytes.Equal(back.Value, id.Value) {
			t.Errorf("%T: DecodeID(EncodeID) = %v, %v", c.v, back, err)
		}
	}
	if _, err := DecodeID([]byte{0x77, 1}); err == nil {
		t.Error("DecodeID accepted an unknown type byte")
	}
}

func TestMalformedDocument(t *testing.T) {
	b := NewBuilder(nil)
	defer b.Release()
	good, _ := bson.Marshal(bson.D{{Key: "_id", Value: 1}, {Key: "s", Value: "abc"}})
	for name, bad := range map[string][]byte{
		"truncated":      good[:len(good)-3],
		"trailing bytes": append(append([]byte(nil), good...), 0),
		"empty":          {},
	} {
		if err := b.Append(bad); err == nil {
			t.Errorf("%s document accepted", name)
		}
	}
	if b.Len() != 0 {
		t.Errorf("builder holds %d rows after refusals", b.Len())
	}
}

func TestCollectionOptionsRoundTrip(t *testing.T) {
	dec, _ := bson.ParseDecimal128("0.10")
	opts, _ := bson.Marshal(bson.D{
		{Key: "capped", Value: true}, {Key: "size", Value: int64(1 << 20)},
		{Key: "validator", Value: bson.D{{Key: "price", Value: bson.D{{Key: "$gte", Value: dec}}}}},
		{Key: "validationLevel", Value: "moderate"},
		{Key: "collation", Value: bson.D{{Key: "locale", Value: "fr"}, {Key: "strength", Value: int32(2)}}},
	})
	ix1, _ := bson.Marshal(bson.D{{Key: "key", Value: bson.D{{Key: "_id", Value: int32(1)}}}, {Key: "name", Value: "_id_"}})
	ix2, _ := bson.Marshal(bson.D{{Key: "key", Value: bson.D{{Key: "a", Value: int32(1)}, {Key: "b", Value: int32(-1)}}}, {Key: "name", Value: "a_b"}, {Key: "unique", Value: true}})
	ix3, _ := bson.Marshal(bson.D{{Key: "key", Value: bson.D{{Key: "t", Value: int32(1)}}}, {Key: "name", Value: "t_ttl"}, {Key: "expireAfterSeconds", Value: int32(3600)}})
	c := Collection{Type: "collection", Options: opts, Indexes: []bson.Raw{ix1, ix2, ix3}}
	m, err := c.ToOptions()
	if err != nil {
		t.Fatal(err)
	}
	back, err := CollectionFromOptions(m)
	if err != nil {
		t.Fatal(err)
	}
	if back.Type != c.Type || !bytes.Equal(back.Options, c.Options) || len(back.Indexes) != 3 {
		t.Fatalf("round trip changed the collection: %+v", back)
	}
	for i := range c.Indexes {
		if !bytes.Equal(back.Indexes[i], c.Indexes[i]) {
			t.Errorf("index %d: %s became %s", i, c.Indexes[i], back.Indexes[i])
		}
	}
	if !IsIDIndex(back.Indexes[0]) || IsTTL(back.Indexes[1]) || !IsTTL(back.Indexes[2]) {
		t.Error("index classification wrong")
	}
	create, validation, err := SplitOptions(back.Options)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := create.LookupErr("validator"); err == nil {
		t.Error("validator left in the create options")
	}
	if _, err := create.LookupErr("collation"); err != nil {
		t.Error("collation missing from the create options")
	}
	if v, _ := validation.Lookup("validationLevel").StringValueOK(); v != "moderate" {
		t.Errorf("validation options %s", validation)
	}
	withV, _ := bson.Marshal(bson.D{{Key: "v", Value: int32(2)}, {Key: "key", Value: bson.D{{Key: "x", Value: 1}}}, {Key: "name", Value: "x_1"}, {Key: "ns", Value: "db.c"}})
	clean, err := CleanIndexSpec(withV)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := bson.Marshal(bson.D{{Key: "key", Value: bson.D{{Key: "x", Value: 1}}}, {Key: "name", Value: "x_1"}})
	if !bytes.Equal(clean, want) {
		t.Errorf("CleanIndexSpec gave %s", clean)
	}
}
