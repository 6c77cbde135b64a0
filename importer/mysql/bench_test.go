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
// two secondary indexes) and imports it by each load method; index-deferral
// compares, in alternating pairs, LOAD DATA into the indexed table with LOAD
// DATA into the table without its secondary indexes followed by adding them.
// IMBUNDLE_BENCH_ROWS sets the size (default 20000):
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
	// importOnce loads the bundle into a new database and returns the time
	// to a fully indexed table. deferIndexes: the table is created first
	// with its secondary indexes dropped, and they are added after the load.
	importOnce := func(b *testing.B, method string, deferIndexes bool) time.Duration {
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
		start := time.Now()
		run := importBundle(b, context.Background(), path, dstURL, mode, map[string]string{"load": method}, nil)
		if run.err != nil {
			b.Fatal(run.err)
		}
		if deferIndexes {
			exec(b, dst, "ALTER TABLE msgs ADD KEY k_user (user_id, seq), ADD KEY k_created (created)")
		}
		took := time.Since(start)
		if n := count(b, dst, "SELECT COUNT(*) FROM msgs"); n != int64(rows) {
			b.Fatalf("imported %d rows, want %d", n, rows)
		}
		exec(b, dst, "DROP TABLE msgs")
		return took
	}
	for _, method := range []string{"loaddata", "insert"} {
		b.Run("import-"+method, func(b *testing.B) {
			var total time.Duration
			for i := 0; i < b.N; i++ {
				total += importOnce(b, method, false)
			}
			b.ReportMetric(float64(rows)*float64(b.N)/total.Seconds(), "rows/s")
		})
	}
	// Paired runs, alternating which goes first, so that both variants see
	// the same load on a shared machine.
	b.Run("index-deferral", func(b *testing.B) {
		var with, deferred time.Duration
		for i := 0; i < b.N; i++ {
			if i%2 == 0 {
				with += importOnce(b, "loaddata", false)
				deferred += importOnce(b, "loaddata", true)
			} else {
				deferred += importOnce(b, "loaddata", true)
				with += importOnce(b, "loaddata", false)
			}
		}
		b.ReportMetric(with.Seconds()/float64(b.N), "s-with-indexes")
		b.ReportMetric(deferred.Seconds()/float64(b.N), "s-deferred-indexes")
	})
}
