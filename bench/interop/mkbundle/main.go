// Command mkbundle writes sample.imb for the interop check (read.js): one
// dataset with a column of most types a bundle allows, and one holding only
// a decimal256 column, which polars cannot read (SPEC.md §4).
//
//	go run ./bench/interop/mkbundle bench/interop/out/sample.imb
package main

import (
	"fmt"
	"log"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/decimal256"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/spec"
)

func main() {
	if len(os.Args) != 2 {
		log.Fatal("usage: mkbundle OUT.imb")
	}
	w, err := bundle.Create(os.Args[1], bundle.Options{Tool: spec.Tool{Name: "mkbundle", Version: "interop"}})
	check(err)
	check(w.AddSource(spec.Source{ID: "s0", Engine: "mysql", URL: "mysql://127.0.0.1:3306/interop"}))

	f := func(name string, dt arrow.DataType) arrow.Field {
		return arrow.Field{Name: name, Type: dt, Nullable: true}
	}
	types := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Uint64, Metadata: arrow.NewMetadata([]string{bundle.MetaNative}, []string{"bigint(20) unsigned"})},
		f("i8", arrow.PrimitiveTypes.Int8), f("f32", arrow.PrimitiveTypes.Float32), f("f64", arrow.PrimitiveTypes.Float64),
		f("b", arrow.FixedWidthTypes.Boolean), f("text", arrow.BinaryTypes.String), f("blob", arrow.BinaryTypes.Binary),
		f("dec", &arrow.Decimal128Type{Precision: 38, Scale: 10}), f("day", arrow.FixedWidthTypes.Date32),
		f("ts", &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}), f("dur", arrow.FixedWidthTypes.Duration_us),
		f("tags", arrow.ListOf(arrow.BinaryTypes.String)),
		// What engines write since format 2: large offsets, coarser units.
		f("ltext", bundle.Text), f("lblob", bundle.Bytes),
		f("ts_ms", &arrow.TimestampType{Unit: arrow.Millisecond}), f("ts_s", &arrow.TimestampType{Unit: arrow.Second}),
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, types)
	texts := []string{"hello", "emoji 😀👍", "", "latin1 é", "最后"}
	for i := 0; i < 5; i++ {
		b.Field(0).(*array.Uint64Builder).Append(^uint64(0) - uint64(i))
		b.Field(1).(*array.Int8Builder).Append(int8(-128 + i))
		b.Field(2).(*array.Float32Builder).Append(-3.4028235e38 / float32(i+1))
		b.Field(3).(*array.Float64Builder).Append(0.1 * float64(i))
		b.Field(4).(*array.BooleanBuilder).Append(i%2 == 0)
		b.Field(5).(*array.StringBuilder).Append(texts[i])
		b.Field(6).(*array.BinaryBuilder).Append([]byte{0, byte(i), 0xff})
		b.Field(7).(*array.Decimal128Builder).Append(decimal128.FromI64(-12345678901234 * int64(i+1)))
		b.Field(8).(*array.Date32Builder).Append(arrow.Date32(19000 + i))
		b.Field(9).(*array.TimestampBuilder).Append(arrow.Timestamp(1700000000000000 + int64(i)))
		b.Field(10).(*array.DurationBuilder).Append(arrow.Duration(-838*3600*1000000 - int64(i)))
		lb := b.Field(11).(*array.ListBuilder)
		lb.Append(true)
		lb.ValueBuilder().(*array.StringBuilder).AppendValues([]string{"a", fmt.Sprint(i)}, nil)
		b.Field(12).(*array.LargeStringBuilder).Append(texts[i])
		b.Field(13).(*array.BinaryBuilder).Append([]byte{0xff, byte(i), 0})
		b.Field(14).(*array.TimestampBuilder).Append(arrow.Timestamp(1700000000123 + int64(i)))
		b.Field(15).(*array.TimestampBuilder).Append(arrow.Timestamp(1700000000 + int64(i)))
	}
	write(w, "interop.types", types, b.NewRecordBatch())

	d256 := arrow.NewSchema([]arrow.Field{f("big", &arrow.Decimal256Type{Precision: 65, Scale: 30})}, nil)
	b2 := array.NewRecordBuilder(memory.DefaultAllocator, d256)
	b2.Field(0).(*array.Decimal256Builder).Append(decimal256.FromI64(-1))
	write(w, "interop.dec256", d256, b2.NewRecordBatch())
	check(w.Close())
	fmt.Printf("wrote %s (bundle %s)\n", os.Args[1], w.ID())
}

func write(w *bundle.Writer, name string, s *arrow.Schema, rec arrow.RecordBatch) {
	dw, err := w.CreateDataset(spec.Dataset{Name: name, Source: "s0", Kind: spec.KindTable}, s)
	check(err)
	check(dw.Write(rec))
	check(dw.Close())
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
