package mysqltype

import (
	"database/sql/driver"
	"math/big"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func TestCivilRoundTrip(t *testing.T) {
	for _, s := range []string{"0000-01-01", "0000-02-29", "0001-01-01", "1000-01-01", "1969-12-31", "1970-01-01", "2000-02-29", "2024-02-29", "9999-12-31"} {
		days, real, ok := parseDate([]byte(s))
		if !ok || !real {
			t.Fatalf("%s: ok=%v real=%v", s, ok, real)
		}
		if got := string(AppendDate(nil, days)); got != s {
			t.Errorf("%s -> %d -> %s", s, days, got)
		}
	}
	if d, _, _ := parseDate([]byte("1970-01-02")); d != 1 {
		t.Errorf("1970-01-02 is day %d, want 1", d)
	}
	for _, s := range []string{"0000-00-00", "2024-00-10", "2024-02-00", "2023-02-29", "2024-04-31", "2024-13-01"} {
		_, real, ok := parseDate([]byte(s))
		if !ok || real {
			t.Errorf("%s: ok=%v real=%v, want parsed but not a real date", s, ok, real)
		}
	}
	for _, s := range []string{"", "2024-1-01", "2024/01/01", "abcd-01-01"} {
		if _, _, ok := parseDate([]byte(s)); ok {
			t.Errorf("%q parsed", s)
		}
	}
}

func TestDatetimeAndTime(t *testing.T) {
	for _, c := range []struct {
		in, out string
	}{
		{"1000-01-01 00:00:00.000000", ""},
		{"1969-12-31 23:59:59.999999", ""},
		{"9999-12-31 23:59:59.999999", ""},
		{"2024-02-29 12:00:00", "2024-02-29 12:00:00.000000"},
		{"2024-02-29 12:00:00.5", "2024-02-29 12:00:00.500000"},
	} {
		us, real, ok := parseDatetime([]byte(c.in))
		if !ok || !real {
			t.Fatalf("%s: ok=%v real=%v", c.in, ok, real)
		}
		want := c.out
		if want == "" {
			want = c.in
		}
		if got := string(AppendDatetime(nil, us)); got != want {
			t.Errorf("%s -> %d -> %s", c.in, us, got)
		}
	}
	if us, _, _ := parseDatetime([]byte("1970-01-01 00:00:01.000001")); us != 1000001 {
		t.Errorf("got %d", us)
	}
	for _, s := range []string{"0000-00-00 00:00:00", "2024-02-00 10:20:30.123456"} {
		if _, real, ok := parseDatetime([]byte(s)); !ok || real {
			t.Errorf("%s: ok=%v real=%v", s, ok, real)
		}
	}
	for _, c := range []struct {
		in  string
		us  int64
		out string
	}{
		{"-838:59:59.000000", -(838*3600 + 59*60 + 59) * 1e6, ""},
		{"838:59:59", (838*3600 + 59*60 + 59) * 1e6, "838:59:59.000000"},
		{"-00:00:00.000001", -1, ""},
		{"25:00:00.500000", 25*3600e6 + 5e5, ""},
		{"00:00:00", 0, "00:00:00.000000"},
	} {
		us, ok := parseTime([]byte(c.in))
		if !ok || us != c.us {
			t.Errorf("%s: %d %v, want %d", c.in, us, ok, c.us)
		}
		want := c.out
		if want == "" {
			want = c.in
		}
		if got := string(AppendTime(nil, us)); got != want {
			t.Errorf("%s -> %s", c.in, got)
		}
	}
}

func TestDecimal(t *testing.T) {
	n35 := "99999999999999999999999999999999999"
	n30 := "999999999999999999999999999999"
	for _, c := range []struct {
		in    string
		scale int
		out   string
	}{
		{n35 + "." + n30, 30, ""},
		{"-" + n35 + "." + n30, 30, ""},
		{"0.000000000000000000000000000001", 30, ""},
		{"-0.000000000000000000000000000001", 30, ""},
		{"0.00", 2, ""},
		{"-1.50", 2, ""},
		{"12", 0, ""},
		{"5", 2, "5.00"},
	} {
		l, err := parseDecimal([]byte(c.in), c.scale)
		if err != nil {
			t.Fatal(c.in, err)
		}
		got := string(appendDecimal(nil, decimal256Of(l).BigInt(), c.scale))
		want := c.out
		if want == "" {
			want = c.in
		}
		if got != want {
			t.Errorf("%s -> %s", c.in, got)
		}
		if len(c.in) < 30 {
			if g := string(appendDecimal(nil, decimal128Of(l).BigInt(), c.scale)); g != want {
				t.Errorf("decimal128 %s -> %s", c.in, g)
			}
		}
	}
	want, _ := new(big.Int).SetString("-"+n35+n30, 10)
	l, _ := parseDecimal([]byte("-"+n35+"."+n30), 30)
	if decimal256Of(l).BigInt().Cmp(want) != 0 {
		t.Errorf("unscaled value %s, want %s", decimal256Of(l).BigInt(), want)
	}
	for _, bad := range []string{"", "-", "1.2.3", "1e5", "0.001"} {
		if _, err := parseDecimal([]byte(bad), 2); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// A temporal column's Arrow unit follows its precision, and values decode
// to and encode from that unit exactly (SPEC.md §7.4).
func TestTimeUnits(t *testing.T) {
	for _, c := range []struct {
		colType string
		fsp     int
		unit    arrow.TimeUnit
	}{{"datetime", 0, arrow.Second}, {"datetime(3)", 3, arrow.Millisecond}, {"timestamp(1)", 1, arrow.Millisecond}, {"time(4)", 4, arrow.Microsecond}, {"datetime(6)", 6, arrow.Microsecond}} {
		col := Column{ColumnType: c.colType}
		if col.Fsp() != c.fsp || TimeUnit(col.Fsp()) != c.unit {
			t.Errorf("%s: fsp %d unit %s", c.colType, col.Fsp(), TimeUnit(col.Fsp()))
		}
	}
	cols := []Column{
		{Name: "ms", DataType: "datetime", ColumnType: "datetime(3)", Nullable: true},
		{Name: "s", DataType: "timestamp", ColumnType: "timestamp", Nullable: true},
		{Name: "tm", DataType: "time", ColumnType: "time(2)", Nullable: true},
	}
	for i := range cols {
		if err := cols[i].Classify(); err != nil {
			t.Fatal(err)
		}
	}
	fields, err := Fields(cols)
	if err != nil {
		t.Fatal(err)
	}
	schema := arrow.NewSchema(fields, nil)
	if got := schema.Field(0).Type.String() + " " + schema.Field(2).Type.String() + " " + schema.Field(4).Type.String(); got != "timestamp[ms] timestamp[s, tz=UTC] duration[ms]" {
		t.Fatalf("types %s", got)
	}
	dec, err := NewDecoder(cols, schema, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Release()
	row := []driver.Value{[]byte("2024-01-02 03:04:05.678"), []byte("1970-01-01 00:00:09"), []byte("-838:59:59.99")}
	if err := dec.Append(row); err != nil {
		t.Fatal(err)
	}
	rec := dec.Flush()
	defer rec.Release()
	if v := rec.Column(0).(*array.Timestamp).Value(0); v != 1704164645678 {
		t.Errorf("datetime(3) = %d ms", v)
	}
	if v := rec.Column(2).(*array.Timestamp).Value(0); v != 9 {
		t.Errorf("timestamp = %d s", v)
	}
	// More fractional digits than the unit holds is an error (the export
	// stops), not a silent truncation.
	bad, err := NewDecoder(cols, schema, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Release()
	if err := bad.Append([]driver.Value{nil, []byte("1970-01-01 00:00:09.5"), nil}); err == nil {
		t.Error("a fraction in a timestamp[s] column was accepted")
	}
	enc, err := NewEncoder(schema)
	if err != nil {
		t.Fatal(err)
	}
	enc.Bind(rec)
	if got := string(enc.AppendText(nil, 0)); got != "2024-01-02 03:04:05.678000\t1970-01-01 00:00:09.000000\t-838:59:59.990000\n" {
		t.Errorf("encoded %q", got)
	}
}
