package bundle

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/decimal256"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/imbundle/imbundle/spec"
)

// allTypesSchema has one column of every type CheckType allows.
func allTypesSchema() *arrow.Schema {
	f := func(name string, dt arrow.DataType) arrow.Field {
		return arrow.Field{Name: name, Type: dt, Nullable: true}
	}
	return arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		f("b", arrow.FixedWidthTypes.Boolean),
		f("i8", arrow.PrimitiveTypes.Int8), f("i16", arrow.PrimitiveTypes.Int16), f("i32", arrow.PrimitiveTypes.Int32),
		f("u8", arrow.PrimitiveTypes.Uint8), f("u16", arrow.PrimitiveTypes.Uint16), f("u32", arrow.PrimitiveTypes.Uint32), f("u64", arrow.PrimitiveTypes.Uint64),
		f("f32", arrow.PrimitiveTypes.Float32), f("f64", arrow.PrimitiveTypes.Float64),
		f("s", arrow.BinaryTypes.String), f("ls", arrow.BinaryTypes.LargeString),
		f("bin", arrow.BinaryTypes.Binary), f("lbin", arrow.BinaryTypes.LargeBinary),
		f("fsb", &arrow.FixedSizeBinaryType{ByteWidth: 3}),
		f("d128", &arrow.Decimal128Type{Precision: 38, Scale: 10}), f("d256", &arrow.Decimal256Type{Precision: 65, Scale: 30}),
		f("d32", arrow.FixedWidthTypes.Date32), f("d64", arrow.FixedWidthTypes.Date64),
		f("ts", &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}), f("tsn", &arrow.TimestampType{Unit: arrow.Nanosecond}),
		f("t32", arrow.FixedWidthTypes.Time32s), f("t64", arrow.FixedWidthTypes.Time64us),
		f("dur", arrow.FixedWidthTypes.Duration_us),
		f("list", arrow.ListOf(arrow.PrimitiveTypes.Int32)), f("llist", arrow.LargeListOf(arrow.BinaryTypes.String)),
		f("fsl", arrow.FixedSizeListOf(2, arrow.PrimitiveTypes.Int16)),
		f("st", arrow.StructOf(arrow.Field{Name: "k", Type: arrow.BinaryTypes.String, Nullable: true}, arrow.Field{Name: "v", Type: arrow.PrimitiveTypes.Int64, Nullable: true})),
		f("map", arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64)),
		f("json", jsonType()),
		f("uuid", extensions.NewUUIDType()),
	}, nil)
}

func jsonType() arrow.DataType {
	jt, err := extensions.NewJSONType(arrow.BinaryTypes.String)
	if err != nil {
		panic(err)
	}
	return jt
}

// allTypesRecord holds n rows; row i%5 == 4 is NULL in every nullable column.
func allTypesRecord(t testing.TB, from, n int) arrow.RecordBatch {
	t.Helper()
	b := array.NewRecordBuilder(memory.DefaultAllocator, allTypesSchema())
	defer b.Release()
	for r := from; r < from+n; r++ {
		b.Field(0).(*array.Int64Builder).Append(int64(r))
		if r%5 == 4 {
			for c := 1; c < len(b.Fields()); c++ {
				b.Field(c).AppendNull()
			}
			continue
		}
		x := int64(r)
		b.Field(1).(*array.BooleanBuilder).Append(r%2 == 0)
		b.Field(2).(*array.Int8Builder).Append(int8(-x))
		b.Field(3).(*array.Int16Builder).Append(int16(-300 * x))
		b.Field(4).(*array.Int32Builder).Append(int32(-70000 * x))
		b.Field(5).(*array.Uint8Builder).Append(uint8(200 + x))
		b.Field(6).(*array.Uint16Builder).Append(uint16(60000 + x))
		b.Field(7).(*array.Uint32Builder).Append(uint32(4e9) + uint32(x))
		b.Field(8).(*array.Uint64Builder).Append(^uint64(0) - uint64(x))
		b.Field(9).(*array.Float32Builder).Append(float32(x) / 3)
		b.Field(10).(*array.Float64Builder).Append(-float64(x) / 7)
		b.Field(11).(*array.StringBuilder).Append("héllo😀" + string(rune('a'+r%26)))
		b.Field(12).(*array.LargeStringBuilder).Append("")
		b.Field(13).(*array.BinaryBuilder).Append([]byte{0, byte(r), 0xff})
		b.Field(14).(*array.BinaryBuilder).Append([]byte{})
		b.Field(15).(*array.FixedSizeBinaryBuilder).Append([]byte{1, 2, byte(r)})
		b.Field(16).(*array.Decimal128Builder).Append(decimal128.FromI64(-123456789012 * (x + 1)))
		b.Field(17).(*array.Decimal256Builder).Append(decimal256.FromI64(987654321 * (x + 1)).Negate())
		b.Field(18).(*array.Date32Builder).Append(arrow.Date32(-719162 + x)) // 0001-01-01 onward
		b.Field(19).(*array.Date64Builder).Append(arrow.Date64(86400000 * x))
		b.Field(20).(*array.TimestampBuilder).Append(arrow.Timestamp(1700000000000000 + x))
		b.Field(21).(*array.TimestampBuilder).Append(arrow.Timestamp(-x))
		b.Field(22).(*array.Time32Builder).Append(arrow.Time32(86399 - x))
		b.Field(23).(*array.Time64Builder).Append(arrow.Time64(x))
		b.Field(24).(*array.DurationBuilder).Append(arrow.Duration(-838*3600*1000000 + x))
		lb := b.Field(25).(*array.ListBuilder)
		lb.Append(true)
		lb.ValueBuilder().(*array.Int32Builder).AppendValues([]int32{int32(x), -1}, nil)
		lb.ValueBuilder().AppendNull()
		llb := b.Field(26).(*array.LargeListBuilder)
		llb.Append(true)
		llb.ValueBuilder().(*array.StringBuilder).Append("m")
		fl := b.Field(27).(*array.FixedSizeListBuilder)
		fl.Append(true)
		fl.ValueBuilder().(*array.Int16Builder).AppendValues([]int16{1, int16(x)}, nil)
		sb := b.Field(28).(*array.StructBuilder)
		sb.Append(true)
		sb.FieldBuilder(0).(*array.StringBuilder).Append("k")
		sb.FieldBuilder(1).AppendNull()
		mb := b.Field(29).(*array.MapBuilder)
		mb.Append(true)
		mb.KeyBuilder().(*array.StringBuilder).AppendValues([]string{"a", "b"}, nil)
		mb.ItemBuilder().(*array.Int64Builder).Append(x)
		mb.ItemBuilder().AppendNull()
		b.Field(30).(*array.ExtensionBuilder).StorageBuilder().(*array.StringBuilder).Append(fmt.Sprintf(`{"n":%d}`, x))
		b.Field(31).(*extensions.UUIDBuilder).AppendBytes([16]byte{15: byte(r)})
	}
	return b.NewRecordBatch()
}

func writeAllTypesBundle(t testing.TB, rows int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "all.imb")
	w, err := Create(path, Options{PartBytes: 8 << 10})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddSource(spec.Source{ID: "s0", Engine: "mongodb", URL: "mongodb://127.0.0.1:27017/im"}); err != nil {
		t.Fatal(err)
	}
	dw, err := w.CreateDataset(spec.Dataset{Name: "im.all", Source: "s0", Kind: spec.KindCollection, PrimaryKey: []string{"id"}}, allTypesSchema())
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < rows; i += 7 {
		rec := allTypesRecord(t, i, min(7, rows-i))
		if err := dw.Write(rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
	}
	if err := dw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}
