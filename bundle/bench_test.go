package bundle

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/imbundle/imbundle/spec"
)

// Benchmarks report throughput; nothing here asserts a time. Run with
//
//	go test -run '^$' -bench . -benchtime 1x ./bundle/

// messageSchema is shaped like an IM message table.
func messageSchema() *arrow.Schema {
	return arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "conversation_id", Type: arrow.BinaryTypes.String},
		{Name: "sender", Type: arrow.PrimitiveTypes.Int64},
		{Name: "seq", Type: arrow.PrimitiveTypes.Int64},
		{Name: "content", Type: arrow.BinaryTypes.Binary, Nullable: true},
		{Name: "created_at", Type: &arrow.TimestampType{Unit: arrow.Millisecond}},
		{Name: "status", Type: arrow.PrimitiveTypes.Int8},
	}, nil)
}

// messageBatch builds n rows from id on. With random content the batch is
// incompressible (the bundle is about as big as the data); otherwise the
// content is repetitive text, as chat messages mostly are.
func messageBatch(rng *rand.Rand, id, n int, random bool) arrow.RecordBatch {
	b := array.NewRecordBuilder(memory.DefaultAllocator, messageSchema())
	defer b.Release()
	content := make([]byte, 240)
	words := []string{"ok ", "see you ", "hello ", "thanks! ", "on my way ", "😀 ", "lol ", "meeting at 3 "}
	for i := id; i < id+n; i++ {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("c%08d", rng.IntN(100000)))
		b.Field(2).(*array.Int64Builder).Append(rng.Int64N(1 << 40))
		b.Field(3).(*array.Int64Builder).Append(int64(i / 7))
		m := content[:40+rng.IntN(200)]
		if random {
			for j := range m {
				m[j] = byte(rng.Uint32())
			}
		} else {
			m = m[:0]
			for len(m) < 40 {
				m = append(m, words[rng.IntN(len(words))]...)
			}
		}
		b.Field(4).(*array.BinaryBuilder).Append(m)
		b.Field(5).(*array.TimestampBuilder).Append(arrow.Timestamp(1700000000000 + int64(i)))
		b.Field(6).(*array.Int8Builder).Append(int8(i % 3))
	}
	return b.NewRecordBatch()
}

const benchBatchRows = 16384 // about 4 MiB with random content

// writeMessages writes rows rows to path and returns the uncompressed Arrow
// bytes written.
func writeMessages(tb testing.TB, path string, rows int, random bool, batches []arrow.RecordBatch) int64 {
	w, err := Create(path, Options{})
	if err != nil {
		tb.Fatal(err)
	}
	if err := w.AddSource(spec.Source{ID: "s0", Engine: "mysql", URL: "mysql://db:3306/im"}); err != nil {
		tb.Fatal(err)
	}
	dw, err := w.CreateDataset(spec.Dataset{Name: "im.messages", Source: "s0", Kind: spec.KindTable, PrimaryKey: []string{"id"}}, messageSchema())
	if err != nil {
		tb.Fatal(err)
	}
	var raw int64
	for i := 0; i*benchBatchRows < rows; i++ {
		rec := batches[i%len(batches)]
		if err := dw.Write(rec); err != nil {
			tb.Fatal(err)
		}
		raw += RecordBytes(rec)
	}
	if err := dw.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return raw
}

func benchBatches(random bool) []arrow.RecordBatch {
	rng := rand.New(rand.NewPCG(1, 2))
	var out []arrow.RecordBatch
	for i := 0; i < 8; i++ {
		out = append(out, messageBatch(rng, i*benchBatchRows, benchBatchRows, random))
	}
	return out
}

// BenchmarkWrite measures the Writer alone: Arrow IPC encoding, ZSTD,
// SHA-256, digest, staging and copying into the container. Batches are
// built before the timer starts.
func BenchmarkWrite(b *testing.B) {
	for _, random := range []bool{false, true} {
		name := map[bool]string{false: "text", true: "random"}[random]
		b.Run(name, func(b *testing.B) {
			batches := benchBatches(random)
			const rows = 1 << 20
			dir := b.TempDir()
			var raw, size int64
			b.ResetTimer()
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				path := filepath.Join(dir, fmt.Sprintf("w%d.imb", i))
				raw = writeMessages(b, path, rows, random, batches)
				st, _ := os.Stat(path)
				size = st.Size()
				os.Remove(path)
			}
			sec := b.Elapsed().Seconds() / float64(b.N)
			if cpu := (cpuTime() - cpu0).Seconds() / float64(b.N); cpu > 0 {
				b.ReportMetric(float64(rows)/cpu, "rows/cpu-s")
			}
			b.ReportMetric(float64(rows)/sec, "rows/s")
			b.ReportMetric(float64(raw)/1e6/sec, "MB/s-arrow")
			b.ReportMetric(float64(size)/1e6/sec, "MB/s-bundle")
			b.ReportMetric(float64(size)/1e6, "MB-bundle")
		})
	}
}

// benchBundle writes an incompressible bundle of about 1 GB once per
// process; verify benchmarks read it from the page cache.
var benchBundlePath string

func benchBundle(b *testing.B) string {
	if benchBundlePath != "" {
		return benchBundlePath
	}
	dir, err := os.MkdirTemp("", "imbundle-bench-")
	if err != nil {
		b.Fatal(err)
	}
	benchBundlePath = filepath.Join(dir, "verify.imb")
	writeMessages(b, benchBundlePath, 4<<20, true, benchBatches(true))
	return benchBundlePath
}

func BenchmarkVerifyAll(b *testing.B) {
	path := benchBundle(b)
	for _, jobs := range []int{1, 2} {
		b.Run(fmt.Sprintf("jobs=%d", jobs), func(b *testing.B) {
			r, err := Open(path)
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			ds := r.Manifest().Datasets[0]
			b.SetBytes(r.Size())
			b.ResetTimer()
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				if err := VerifyAll(context.Background(), r, ds.Parts, jobs, nil); err != nil {
					b.Fatal(err)
				}
			}
			if cpu := (cpuTime() - cpu0).Seconds(); cpu > 0 {
				b.ReportMetric(float64(r.Size())*float64(b.N)/1e6/cpu, "MB/cpu-s")
			}
		})
	}
}

// BenchmarkOpen measures the structural check alone (container, manifest).
func BenchmarkOpen(b *testing.B) {
	path := benchBundle(b)
	for i := 0; i < b.N; i++ {
		r, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		r.Close()
	}
}

// BenchmarkDecodeDigest measures what deep verification does per part:
// decode every batch (ZSTD, validation) and digest every row, one part at
// a time on one core.
func BenchmarkDecodeDigest(b *testing.B) {
	path := benchBundle(b)
	r, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	ds := &r.Manifest().Datasets[0]
	const parts = 4
	var size int64
	for _, p := range ds.Parts[:parts] {
		size += p.Bytes
	}
	b.SetBytes(size)
	b.ResetTimer()
	cpu0 := cpuTime()
	var rows int64
	for i := 0; i < b.N; i++ {
		rows = 0
		for pi := 0; pi < parts; pi++ {
			pr, err := r.OpenPart(ds, pi)
			if err != nil {
				b.Fatal(err)
			}
			var d Digest
			for {
				rec, err := pr.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				d.AddRecord(rec)
			}
			pr.Close()
			rows += d.Rows()
		}
	}
	b.ReportMetric(float64(rows)/(b.Elapsed().Seconds()/float64(b.N)), "rows/s")
	if cpu := (cpuTime() - cpu0).Seconds(); cpu > 0 {
		b.ReportMetric(float64(size)*float64(b.N)/1e6/cpu, "MB/cpu-s")
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchBundlePath != "" {
		os.RemoveAll(filepath.Dir(benchBundlePath))
	}
	os.Exit(code)
}

// BenchmarkDigest measures the content digest alone (canonical encoding
// and SHA-256 per row) on the message schema.
func BenchmarkDigest(b *testing.B) {
	batches := benchBatches(false)
	var rows, raw int64
	for _, rec := range batches {
		rows += rec.NumRows()
		raw += RecordBytes(rec)
	}
	b.SetBytes(raw)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var d Digest
		for _, rec := range batches {
			d.AddRecord(rec)
		}
	}
	b.ReportMetric(float64(rows)/(b.Elapsed().Seconds()/float64(b.N)), "rows/s")
}
