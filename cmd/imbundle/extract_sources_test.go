package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/internal/testenv"
)

// TestExtractFerretDBCollection: a collection's documents come out as
// canonical Extended JSON that parses back into the exact BSON bytes the
// server holds, in JSON lines (one document a line), CSV and Parquet
// (columns _id_json and doc). (FerretDB stores -0.0 as 0 and refuses
// Decimal128: extract/extract_test.go puts those through in-process.)
func TestExtractFerretDBCollection(t *testing.T) {
	srcURL, db := testenv.MongoDatabase(t, "k_extract")
	ctx := context.Background()
	oid := bson.NewObjectID()
	if _, err := db.Collection("things").InsertMany(ctx, []any{
		bson.D{{Key: "_id", Value: oid}, {Key: "i32", Value: int32(-7)}, {Key: "i64", Value: int64(math.MaxInt64)},
			{Key: "f", Value: 0.1}, {Key: "sub", Value: 1e-320},
			{Key: "s", Value: "emoji 😀 \"q\"\n"}, {Key: "nested", Value: bson.D{{Key: "z", Value: true}, {Key: "a", Value: bson.A{int32(1), "x", nil}}}},
			{Key: "bin", Value: bson.Binary{Subtype: 0, Data: []byte{0, 0xff}}}, {Key: "at", Value: bson.NewDateTimeFromTime(time.UnixMilli(-1))}},
		bson.D{{Key: "_id", Value: "text id"}, {Key: "n", Value: nil}},
		bson.D{{Key: "_id", Value: int64(9007199254740993)}, {Key: "empty", Value: bson.D{}}},
	}); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, d := range testenv.RawDocs(t, db.Collection("things")) {
		want[string(d)] = true
	}
	path := filepath.Join(t.TempDir(), "mongo.imb")
	if out, err := runCLI(t, "-q", "export", "--source", srcURL, "-o", path); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	name := datasetNamed(t, path, "things")
	dir := t.TempDir()
	// same checks that the Extended JSON texts are exactly the documents.
	same := func(t *testing.T, texts []string) {
		t.Helper()
		if len(texts) != len(want) {
			t.Fatalf("%d documents, want %d", len(texts), len(want))
		}
		for _, js := range texts {
			var raw bson.Raw
			if err := bson.UnmarshalExtJSON([]byte(js), true, &raw); err != nil {
				t.Fatalf("%s: %v", js, err)
			}
			if !want[string(raw)] {
				t.Errorf("%s reads back as BSON the server does not hold", js)
			}
		}
	}

	t.Run("jsonl", func(t *testing.T) {
		out := filepath.Join(dir, "things.jsonl")
		if msg, err := runCLI(t, "-q", "extract", path, "--dataset", name, "-o", out); err != nil {
			t.Fatalf("extract: %v\n%s", err, msg)
		}
		text := string(readFile(t, out))
		same(t, strings.Split(strings.TrimSuffix(text, "\n"), "\n"))
		if !strings.Contains(text, `"i64":{"$numberLong":"9223372036854775807"}`) || !strings.Contains(text, `"sub":{"$numberDouble":"1E-320"}`) {
			t.Errorf("not canonical Extended JSON:\n%s", text)
		}
	})
	t.Run("csv", func(t *testing.T) {
		out := filepath.Join(dir, "things.csv")
		if msg, err := runCLI(t, "-q", "extract", path, "--dataset", name, "-o", out); err != nil {
			t.Fatalf("extract: %v\n%s", err, msg)
		}
		recs, err := csv.NewReader(bytes.NewReader(readFile(t, out))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(recs[0], ",") != "_id_json,doc" {
			t.Fatalf("header %q", recs[0])
		}
		var docs []string
		ids := map[string]bool{}
		for _, r := range recs[1:] {
			docs = append(docs, r[1])
			ids[r[0]] = true
		}
		same(t, docs)
		if !ids[`{"$numberLong":"9007199254740993"}`] || !ids[`"text id"`] || !ids[`{"$oid":"`+oid.Hex()+`"}`] {
			t.Errorf("_id_json column %v", ids)
		}
	})
	t.Run("parquet", func(t *testing.T) {
		out := filepath.Join(dir, "things.parquet")
		if msg, err := runCLI(t, "-q", "extract", path, "--dataset", name, "-o", out); err != nil {
			t.Fatalf("extract: %v\n%s", err, msg)
		}
		tbl := readParquet(t, out)
		defer tbl.Release()
		if got := tbl.Schema().String(); !strings.Contains(got, "_id_json: type=large_utf8") || !strings.Contains(got, "doc: type=large_utf8") || tbl.NumCols() != 2 {
			t.Fatalf("schema %s", got)
		}
		var docs []string
		for _, c := range tbl.Column(1).Data().Chunks() {
			for i := 0; i < c.Len(); i++ {
				docs = append(docs, c.(*array.LargeString).Value(i))
			}
		}
		same(t, docs)
	})
}

// TestExtractRedisKeyspace: a keyspace's rows come out with their columns
// (SPEC.md §8.2): binary keys, fields and values as base64, scores as
// exact numbers and infinity as "Infinity", NULL as null.
func TestExtractRedisKeyspace(t *testing.T) {
	const db = 14
	rc := testenv.Redis(t, db)
	ctx := context.Background()
	if err := rc.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rc.Set(ctx, "bin\x00key", "\xff\x00v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rc.HSet(ctx, "h", "f😀", "").Err(); err != nil {
		t.Fatal(err)
	}
	if err := rc.Do(ctx, "ZADD", "z", "inf", "top", "0.1", "tenth").Err(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "redis.imb")
	if out, err := runCLI(t, "-q", "export", "--source", "redis://"+testenv.RedisAddr(), "--db", "14", "-o", path); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	msg, err := runCLI(t, "-q", "extract", path, "--dataset", "redis.db14", "-o", "-", "--format", "jsonl")
	if err != nil {
		t.Fatalf("extract: %v\n%s", err, msg)
	}
	b64 := base64.StdEncoding.EncodeToString
	type row struct {
		Key, Type string
		Field     *string
		Value     *string
		Score     any
		Elements  *int64
	}
	var got []row
	for _, line := range strings.Split(strings.TrimSuffix(msg, "\n"), "\n") {
		var r row
		dec := json.NewDecoder(strings.NewReader(line))
		dec.UseNumber()
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		got = append(got, r)
	}
	find := func(key, field string) row {
		for _, r := range got {
			if r.Key == b64([]byte(key)) && ((r.Field == nil && field == "") || (r.Field != nil && *r.Field == b64([]byte(field)))) {
				return r
			}
		}
		t.Fatalf("no row of key %q field %q in\n%s", key, field, msg)
		return row{}
	}
	if r := find("bin\x00key", ""); r.Type != "string" || r.Value == nil || *r.Value != b64([]byte("\xff\x00v")) || r.Score != nil {
		t.Errorf("string row %+v", r)
	}
	if r := find("h", "f😀"); r.Type != "hash" || r.Value == nil || *r.Value != "" {
		t.Errorf("hash field row %+v", r)
	}
	if r := find("z", "top"); r.Score != "Infinity" {
		t.Errorf("zset +inf row %+v", r)
	}
	if r := find("z", "tenth"); r.Score != json.Number("0.1") {
		t.Errorf("zset 0.1 row %+v", r)
	}
	if len(got) != 6 { // string; hash field + key row; two zset members + key row
		t.Errorf("%d rows, want 6:\n%s", len(got), msg)
	}
}
