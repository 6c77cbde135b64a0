package mysql_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/testenv"
)

// BenchmarkMySQL exports a generated chat-log-like table (primary key and
// two secondary indexes) and imports it by each load method, and by LOAD
// DATA into a table whose secondary indexes are dropped before and added
// after the load. IMBUNDLE_BENCH_ROWS sets the size (default 20000):
//
//	IMBUNDLE_BENCH_ROWS=1000000 go test -run '^$' -bench MySQL -benchtime 1x ./importer/mysql/
func BenchmarkMySQL(b *testing.B) {
	rows := 20000
	if v := os.Getenv("IMBUNDLE_BENCH_ROWS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			b.Fatal(err)
		}
		rows = n
	}
	srcURL, src := testenv.MySQLDatabase(b, "bench_src")
	genTable(b, src, "msgs", rows, true)
	path := filepath.Join(b.TempDir(), "bench.imb")
	b.Run("export", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			exportTo(b, path, srcURL, exporter.Options{}, bundle.Options{})
		}
		b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	load := func(b *testing.B, method string, deferIndexes bool) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			dstURL, dst := testenv.MySQLDatabase(b, "bench_dst")
			mode := importer.ModeFail
			if deferIndexes {
				var ddl, name string
				if err := src.QueryRow("SHOW CREATE TABLE msgs").Scan(&name, &ddl); err != nil {
					b.Fatal(err)
				}
				exec(b, dst, ddl)
				exec(b, dst, "ALTER TABLE msgs DROP INDEX k_user, DROP INDEX k_created")
				mode = importer.ModeAppend
			}
			b.StartTimer()
			start := time.Now()
			run := importBundle(b, context.Background(), path, dstURL, mode, map[string]string{"load": method}, nil)
			if run.err != nil {
				b.Fatal(run.err)
			}
			loaded := time.Since(start)
			if deferIndexes {
				exec(b, dst, "ALTER TABLE msgs ADD KEY k_user (user_id, seq), ADD KEY k_created (created)")
				b.Logf("%d rows: load %.2fs, index build %.2fs", rows, loaded.Seconds(), time.Since(start).Seconds()-loaded.Seconds())
			}
			if n := count(b, dst, "SELECT COUNT(*) FROM msgs"); n != int64(rows) {
				b.Fatalf("imported %d rows, want %d", n, rows)
			}
		}
		b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	}
	b.Run("import-loaddata", func(b *testing.B) { load(b, "loaddata", false) })
	b.Run("import-insert", func(b *testing.B) { load(b, "insert", false) })
	b.Run("import-loaddata-deferred-indexes", func(b *testing.B) { load(b, "loaddata", true) })
}
