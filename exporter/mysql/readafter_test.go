package mysql_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/internal/testenv"
	"github.com/imbundle/imbundle/spec"
)

// keyedRows reads ds with read and returns each row's key as
// bundle.KeyString renders it (what a part's key_range records) and its
// row hash, in the order read.
func keyedRows(t *testing.T, ds *spec.Dataset, read func(emit func(arrow.RecordBatch) error) error) (keys [][]string, rows []string) {
	t.Helper()
	var d bundle.Digest
	err := read(func(rec arrow.RecordBatch) error {
		var cols []int
		for _, k := range ds.PrimaryKey {
			cols = append(cols, rec.Schema().FieldIndices(k)[0])
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			key := make([]string, len(cols))
			for j, c := range cols {
				key[j] = bundle.KeyString(rec.Column(c), i)
			}
			h := d.RowHash(rec, i)
			keys, rows = append(keys, key), append(rows, fmt.Sprintf("%x", h))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("dataset %s: %v", ds.Name, err)
	}
	return keys, rows
}

// ReadAfter the key_range text of any row reads exactly the rows after it,
// for every key type it accepts (extremes, signs, exponent-rendered
// decimals, binary with zero bytes, text in a case-insensitive collation,
// dates and times of every precision, a composite key under a --where
// with an OR in it); a key type whose order or text it cannot bind back
// is refused.
func TestReadAfterEveryKeyType(t *testing.T) {
	url, db := testenv.MySQLDatabase(t, "exprat")
	for _, s := range []string{
		"CREATE TABLE i64 (k BIGINT PRIMARY KEY)",
		"INSERT INTO i64 VALUES (-9223372036854775808), (-1), (0), (1), (9007199254740993), (9223372036854775807)",
		"CREATE TABLE u64 (k BIGINT UNSIGNED PRIMARY KEY)",
		"INSERT INTO u64 VALUES (0), (1), (9223372036854775808), (18446744073709551614), (18446744073709551615)",
		"CREATE TABLE i8 (k TINYINT PRIMARY KEY)",
		"INSERT INTO i8 VALUES (-128), (-1), (0), (127)",
		"CREATE TABLE u8 (k TINYINT UNSIGNED PRIMARY KEY)",
		"INSERT INTO u8 VALUES (0), (200), (255)",
		"CREATE TABLE dec20 (k DECIMAL(20,4) PRIMARY KEY)",
		"INSERT INTO dec20 VALUES (-10000000000), (-1.5), (0), (0.0001), (0.0002), (1), (10000000000), (12345678901234.5678), (9999999999999999.9999)",
		"CREATE TABLE dec38 (k DECIMAL(38,10) PRIMARY KEY)",
		"INSERT INTO dec38 VALUES (-9999999999999999999999999999.9999999999), (0.0000000001), (1234567890123456789012345678.0123456789), (9999999999999999999999999999.9999999999)",
		"CREATE TABLE str (k VARCHAR(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci PRIMARY KEY)",
		"INSERT INTO str VALUES (''), ('a'), ('B'), ('c'), ('NULL'), ('x y'), ('é'), ('z'), ('😀'), ('0x41')",
		"CREATE TABLE bin (k VARBINARY(8) PRIMARY KEY)",
		"INSERT INTO bin VALUES (''), (0x00), (0x0000), (0x01), (0x7f), (0x80), (0xff), (0xffff)",
		"CREATE TABLE fbin (k BINARY(4) PRIMARY KEY)",
		"INSERT INTO fbin VALUES (0x00), (0x0001), (0x01020304), (0xffffffff)",
		"CREATE TABLE d (k DATE PRIMARY KEY)",
		"INSERT INTO d VALUES ('1000-01-01'), ('1970-01-01'), ('2024-02-29'), ('9999-12-31')",
		"CREATE TABLE dt6 (k DATETIME(6) PRIMARY KEY)",
		"INSERT INTO dt6 VALUES ('1000-01-01 00:00:00'), ('2024-01-01 00:00:00.000001'), ('2024-01-01 00:00:00.1'), ('2024-01-01 23:59:59.999999'), ('9999-12-31 23:59:59.999999')",
		"CREATE TABLE dt0 (k DATETIME PRIMARY KEY)",
		"INSERT INTO dt0 VALUES ('1999-12-31 23:59:59'), ('2000-01-01 00:00:00'), ('2000-01-01 00:00:01')",
		"CREATE TABLE ts3 (k TIMESTAMP(3) PRIMARY KEY)",
		"INSERT INTO ts3 VALUES ('1970-01-01 00:00:01'), ('2021-03-28 01:30:00.5'), ('2021-03-28 02:30:00.123'), ('2038-01-19 03:14:07.999')",
		"CREATE TABLE comp (a INT, b VARCHAR(8), c DATETIME(3), v TEXT, PRIMARY KEY (a, b, c))",
		"INSERT INTO comp SELECT seq DIV 6, CONCAT('k', seq MOD 2), TIMESTAMPADD(SECOND, seq MOD 3, '2024-01-01'), seq FROM seq_1_to_60",
		"CREATE TABLE fl (k FLOAT PRIMARY KEY)",
		"INSERT INTO fl VALUES (1.5)",
		"CREATE TABLE en (k ENUM('z', 'a') PRIMARY KEY)",
		"INSERT INTO en VALUES ('z'), ('a')",
		"CREATE TABLE lat (k VARCHAR(8) CHARACTER SET latin1 PRIMARY KEY)",
		"INSERT INTO lat VALUES ('a')",
	} {
		mustExec(t, db, s)
	}
	ctx := context.Background()
	filter := &exporter.Filter{Where: []exporter.Where{{Pattern: "comp", Filter: "a MOD 2 = 0 OR b = 'k1'"}}}
	src, err := exporter.Open(ctx, url, exporter.Options{Filter: filter, Params: map[string]string{"lock-wait": "2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	desc, err := src.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rr := src.(exporter.ResumeReader)
	refused := map[string]bool{"fl": true, "en": true, "lat": true}
	seen := 0
	for _, d := range desc.Datasets {
		ds := d.Spec
		why := rr.CanReadAfter(&ds, nil)
		if refused[ds.Object] {
			if why == "" {
				t.Errorf("%s: a key of this type is accepted", ds.Object)
			}
			continue
		}
		if why != "" {
			t.Errorf("%s: refused: %s", ds.Object, why)
			continue
		}
		seen++
		keys, rows := keyedRows(t, &ds, func(emit func(arrow.RecordBatch) error) error { return src.Read(ctx, &ds, emit) })
		if len(rows) < 3 || (ds.Object == "comp") != (ds.Filter != "") || ds.Object == "comp" && len(rows) != 45 {
			t.Fatalf("%s: %d rows, filter %q", ds.Object, len(rows), ds.Filter)
		}
		for i, key := range keys {
			if why := rr.CanReadAfter(&ds, key); why != "" {
				t.Errorf("%s: after %q refused: %s", ds.Object, key, why)
				continue
			}
			_, got := keyedRows(t, &ds, func(emit func(arrow.RecordBatch) error) error { return rr.ReadAfter(ctx, &ds, key, emit) })
			if want := rows[i+1:]; strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("%s: after row %d (key %q): read %d rows, want the %d after it", ds.Object, i, key, len(got), len(want))
			}
		}
	}
	if seen != 14 {
		t.Fatalf("%d accepted tables, want 13", seen)
	}
	// A value that does not render back to its text is refused, not
	// bound as something near it.
	for _, d := range desc.Datasets {
		ds := d.Spec
		var bad []string
		switch ds.Object {
		case "i8":
			bad = []string{"128"}
		case "dec20":
			bad = []string{"0.00001"}
		case "bin":
			bad = []string{"41"}
		case "dt6":
			bad = []string{"2024-01-01 00:00:00"}
		default:
			continue
		}
		if why := rr.CanReadAfter(&ds, bad); why == "" {
			t.Errorf("%s: after %q accepted", ds.Object, bad)
		}
	}
}
