package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/convert"
	"github.com/imbundle/imbundle/internal/mongotype"
	"github.com/imbundle/imbundle/internal/testenv"
)

// TestMySQLBundleIntoMongo: a MySQL bundle imported into MongoDB goes
// through the default mapping (a document per row, _id from the primary
// key), every value the BSON types hold exactly arrives exactly, each row a
// BSON value cannot hold exactly is a reject naming the column (exit 4),
// indexes are carried over, and verify --against the MongoDB target
// converts the bundle the same way: OK, then MISMATCH once a field changes.
func TestMySQLBundleIntoMongo(t *testing.T) {
	srcURL, path := exportedMySQL(t, "cv_src", []string{
		"SET SESSION sql_mode = 'ALLOW_INVALID_DATES'",
		`CREATE TABLE edge (
  id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
  i8 TINYINT, u64 BIGINT UNSIGNED, big BIGINT, f FLOAT, d DOUBLE,
  dt3 DATETIME(3), dt6 DATETIME(6), dte DATE, tm TIME(6), y YEAR,
  s VARCHAR(40) CHARACTER SET utf8mb4, l1 VARCHAR(20) CHARACTER SET latin1, b VARBINARY(16), j JSON,
  n INT NULL,
  KEY k_s (s), UNIQUE KEY u_b (b), KEY k_multi (big DESC, i8)
) ENGINE=InnoDB`,
		`INSERT INTO edge VALUES
 (1, -128, 9223372036854775807, 9007199254740993, 3.4028235e38, -2.2250738585072014e-308,
  '2024-02-29 23:59:59.999', '2024-01-01 00:00:00.123000', '1000-01-01', '-838:59:59.000000', 2155,
  'emoji 😀 ok', x'e9e8', x'00ff', '{"a": [1, 2.5, "x"]}', NULL),
 (2, 0, 0, -9223372036854775808, 0.1, 1e-320,
  '1970-01-01 00:00:00', '2038-01-19 03:14:07', '9999-12-31', '838:59:59.999999', 1901,
  '', '', x'', 'null', 7)`,
		// Rejected: microseconds in a DATETIME(6), a zero date.
		`INSERT INTO edge (id, dt6, b) VALUES (3, '2024-01-01 00:00:00.000001', x'03')`,
		`INSERT INTO edge (id, dte, b) VALUES (5, '0000-00-00', x'05')`,
		// Decimal128 values, which FerretDB 1.x cannot store: converted
		// in-process below.
		"CREATE TABLE num (id INT PRIMARY KEY, u64 BIGINT UNSIGNED, dec65 DECIMAL(65,30), dec2 DECIMAL(10,2))",
		`INSERT INTO num VALUES (1, 18446744073709551615, '1234567890123456789.012345678901234', 1.50),
 (2, 9223372036854775807, '12345678901234567890.123456789012345', -0.01), (3, 0, 0, 0)`,
		"CREATE TABLE pair (a INT NOT NULL, b VARCHAR(8) NOT NULL, v INT, PRIMARY KEY (a, b))",
		"INSERT INTO pair VALUES (1, 'x', 10), (1, 'y', 11), (2, 'x', 12)",
		"CREATE TABLE nopk (v INT)",
		"INSERT INTO nopk VALUES (1), (1), (NULL)",
	})
	dir := t.TempDir()
	dstURL, db := testenv.MongoDatabase(t, "cv_dst")
	srcDB := srcURL[strings.LastIndexByte(srcURL, '/')+1:]
	dstDB := dstURL[strings.LastIndexByte(dstURL, '/')+1:]
	out, err := runCLI(t, "plan", path, "--target", dstURL)
	if err != nil || !strings.Contains(out, "convert  "+srcDB+".edge -> collection "+srcDB+".edge") ||
		!strings.Contains(out, "dt6 (datetime(6)): BSON date (milliseconds): a value with microseconds is rejected") ||
		!strings.Contains(out, "4 of 4 dataset(s) would be imported") {
		t.Errorf("plan into MongoDB: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "plan", path, "--target", "redis://127.0.0.1:1/0"); err != nil || !strings.Contains(out, "convert  "+srcDB+".edge -> keyspace 0.edge (4 rows) by mysql-table to redis-hashes v1") {
		t.Errorf("plan into Redis (a hash per row, SPEC.md §11.7): %v\n%s", err, out)
	}
	rejects := filepath.Join(dir, "rejects.jsonl")
	only := srcDB + ".edge," + srcDB + ".pair," + srcDB + ".nopk"
	out, err = runCLI(t, "-q", "import", path, "--target", dstURL, "--map", srcDB+"="+dstDB, "--rejects", rejects, "--datasets", only)
	if exitCodeOf(err) != exitRejects {
		t.Fatalf("import: exit %d (%v), want %d (rejects)\n%s", exitCodeOf(err), err, exitRejects, out)
	}
	reasons := map[string]string{}
	f, err := os.Open(rejects)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var rj struct {
			Key    []string
			Reason string
		}
		if err := json.Unmarshal(sc.Bytes(), &rj); err != nil {
			t.Fatal(err)
		}
		reasons[strings.Join(rj.Key, ",")] = rj.Reason
	}
	f.Close()
	for key, want := range map[string]string{"3": "column dt6", "5": "column dte"} {
		if !strings.Contains(reasons[key], want) {
			t.Errorf("reject of row %s: %q, want it to name %s", key, reasons[key], want)
		}
	}
	if len(reasons) != 2 {
		t.Errorf("%d rejects, want 2: %v", len(reasons), reasons)
	}

	ctx := context.Background()
	get := func(coll string, id any) bson.Raw {
		t.Helper()
		raw, err := db.Collection(coll).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Raw()
		if err != nil {
			t.Fatalf("%s _id %v: %v", coll, id, err)
		}
		return raw
	}
	doc := get("edge", int64(1))
	check := func(field string, want bson.RawValue) {
		t.Helper()
		got := doc.Lookup(field)
		if got.Type != want.Type || string(got.Value) != string(want.Value) {
			t.Errorf("%s: %s %v, want %s %v", field, got.Type, got, want.Type, want)
		}
	}
	val := func(v any) bson.RawValue {
		typ, b, err := bson.MarshalValue(v)
		if err != nil {
			t.Fatal(err)
		}
		return bson.RawValue{Type: typ, Value: b}
	}
	check("i8", val(int32(-128)))
	check("u64", val(int64(9223372036854775807)))
	check("big", val(int64(9007199254740993)))
	check("f", val(float64(float32(3.4028235e38))))
	check("d", val(-2.2250738585072014e-308))
	check("dt3", val(bson.DateTime(1709251199999)))
	check("dt6", val(bson.DateTime(1704067200123)))
	check("dte", val(bson.DateTime(-30610224000000)))
	check("tm", val("-838:59:59.000000"))
	check("y", val(int32(2155)))
	check("s", val("emoji 😀 ok"))
	check("l1", val(bson.Binary{Data: []byte{0xe9, 0xe8}}))
	check("b", val(bson.Binary{Data: []byte{0x00, 0xff}}))
	check("j", val(`{"a": [1, 2.5, "x"]}`))
	check("n", bson.RawValue{Type: bson.TypeNull})
	if k, _ := doc.IndexErr(0); k.Key() != "_id" {
		t.Errorf("first field %q, want _id", k.Key())
	}
	if _, err := doc.LookupErr("id"); err == nil {
		t.Errorf("the primary key column is repeated as a field: %s", doc)
	}
	if d := get("edge", int64(2)).Lookup("d"); d.Double() != 1e-320 {
		t.Errorf("subnormal double: %v", d)
	}
	if v := get("pair", bson.D{{Key: "a", Value: int32(1)}, {Key: "b", Value: "y"}}).Lookup("v"); v.Int32() != 11 {
		t.Errorf("pair (1,y): v = %v", v)
	}
	if n, err := db.Collection("nopk").CountDocuments(ctx, bson.D{}); err != nil || n != 3 {
		t.Errorf("nopk: %d documents (%v), want 3 (duplicate rows kept)", n, err)
	}
	names := map[string]bool{}
	cur, err := db.Collection("edge").Indexes().List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for cur.Next(ctx) {
		names[cur.Current.Lookup("name").StringValue()] = true
		if cur.Current.Lookup("name").StringValue() == "u_b" && !cur.Current.Lookup("unique").Boolean() {
			t.Errorf("u_b is not unique: %s", cur.Current)
		}
	}
	if !names["k_s"] || !names["u_b"] || !names["k_multi"] {
		t.Errorf("indexes on edge: %v, want k_s, u_b, k_multi", names)
	}

	out, err = runCLI(t, "verify", path, "--against", dstURL, "--map", srcDB+"="+dstDB, "--datasets", only)
	if err != nil {
		t.Fatalf("verify --against the converted target: %v\n%s", err, out)
	}
	if !strings.Contains(out, "2 refused by the conversion") {
		t.Errorf("verify does not say the conversion refused rows:\n%s", out)
	}
	out, err = runCLI(t, "-q", "import", path, "--target", dstURL, "--map", srcDB+"="+dstDB, "--rejects", filepath.Join(dir, "again.jsonl"), "--datasets", only)
	if err != nil || !strings.Contains(out, "already imported") {
		t.Errorf("the same import again: %v\n%s", err, out)
	}
	if _, err := db.Collection("pair").UpdateOne(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "a", Value: int32(2)}, {Key: "b", Value: "x"}}}}, bson.D{{Key: "$set", Value: bson.D{{Key: "v", Value: int32(13)}}}}); err != nil {
		t.Fatal(err)
	}
	out, err = runCLI(t, "verify", path, "--against", dstURL, "--map", srcDB+"="+dstDB, "--datasets", only)
	if exitCodeOf(err) != exitMismatch || !strings.Contains(out, "MISMATCH "+srcDB+".pair") || !strings.Contains(out, `target key ({"a":{"$numberInt":"2"},"b":"x"})`) {
		t.Fatalf("verify after a changed field: exit %d (%v), want %d naming pair\n%s", exitCodeOf(err), err, exitMismatch, out)
	}
}

// TestMySQLDecimalsToBSON converts, in-process, a MySQL bundle's DECIMAL
// and BIGINT UNSIGNED values that FerretDB 1.x cannot store (Decimal128):
// each fits exactly, scale kept where 34 digits allow, or is rejected.
func TestMySQLDecimalsToBSON(t *testing.T) {
	r, ds, conv := exportedConversion(t, "cv_dec", []string{
		"CREATE TABLE num (id INT PRIMARY KEY, u64 BIGINT UNSIGNED, dec65 DECIMAL(65,30), dec2 DECIMAL(10,2))",
		`INSERT INTO num VALUES (1, 18446744073709551615, '1234567890123456789.012345678901234', 1.50),
 (2, 9223372036854775807, '12345678901234567890.123456789012345', -0.01), (3, 0, 0, 0)`,
	}, "mongodb")
	pr, err := r.OpenPart(ds, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	var rejects []convert.Reject
	recs := conv.Records(pr, 0, func(rj convert.Reject) error { rejects = append(rejects, rj); return nil })
	docs := map[int32]bson.Raw{}
	for {
		rec, err := recs.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		rows, err := mongotype.RowsOf(rec)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < rows.Len(); i++ {
			docs[rows.Doc(i).Lookup("_id").Int32()] = rows.Doc(i)
		}
	}
	if len(rejects) != 1 || rejects[0].Key[0] != "2" || !strings.Contains(rejects[0].Reason, "dec65") || !strings.Contains(rejects[0].Reason, "35 significant digits") {
		t.Errorf("rejects %+v, want row id 2 for its 35-digit dec65", rejects)
	}
	for id, want := range map[int32]map[string]string{
		1: {"u64": "18446744073709551615", "dec65": "1234567890123456789.012345678901234", "dec2": "1.50"},
		3: {"u64": "", "dec65": "0E-30", "dec2": "0.00"},
	} {
		doc := docs[id]
		if doc == nil {
			t.Fatalf("no document for id %d", id)
		}
		for f, text := range want {
			v := doc.Lookup(f)
			if text == "" {
				if v.Type != bson.TypeInt64 || v.Int64() != 0 {
					t.Errorf("id %d %s: %s %v, want Int64 0", id, f, v.Type, v)
				}
				continue
			}
			if v.Type != bson.TypeDecimal128 || v.Decimal128().String() != text {
				t.Errorf("id %d %s: %s %v, want Decimal128 %s", id, f, v.Type, v, text)
			}
		}
	}
}
