// Package redistest holds the round-trip helpers of the Redis tests: real
// servers (the machine's Redis, an embedded miniredis on loopback), and
// export, import and verify through the same code paths as the CLI.
package redistest

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/importer"
	"github.com/imbundle/imbundle/internal/redistype"
	"github.com/imbundle/imbundle/internal/redistype/resp"
	"github.com/imbundle/imbundle/internal/testenv"
	"github.com/imbundle/imbundle/spec"
	"github.com/imbundle/imbundle/verify"

	_ "github.com/imbundle/imbundle/exporter/redis" // the engines under test
	_ "github.com/imbundle/imbundle/importer/redis"
)

// Redis returns the URL of logical database db on the machine's Redis,
// flushed, and a connection to it. Tests use a database of their own
// (9..13), never db 0 and never FLUSHALL: the server is shared.
func Redis(t testing.TB, db int) (string, *resp.Conn) {
	t.Helper()
	if db == 0 {
		t.Fatal("redistest: db 0 is shared; use 9..13")
	}
	c := testenv.Redis(t, db)
	if err := c.FlushDB(context.Background()).Err(); err != nil {
		t.Fatalf("FLUSHDB %d: %v", db, err)
	}
	// Leave the shared server as found (the FLUSHDB runs before testenv
	// closes the client: cleanups run last-registered first).
	t.Cleanup(func() { c.FlushDB(context.Background()) })
	u := fmt.Sprintf("redis://%s/%d", testenv.RedisAddr(), db)
	return u, Conn(t, u)
}

// StartRedis starts a private redis-server (from PATH) on a free port of
// 6390..6399 with no persistence, for tests that need a server of their
// own: an empty keyspace, server-wide state such as function libraries.
// It is stopped when the test ends.
func StartRedis(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("redis-server not in PATH: %v", err)
		}
		t.Skip("redis-server not in PATH")
	}
	for port := 6390; port <= 6399; port++ {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue // taken
		}
		l.Close()
		cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir())
		if err := cmd.Start(); err != nil {
			t.Fatalf("start redis-server: %v", err)
		}
		stop := func() {
			cmd.Process.Kill()
			cmd.Wait()
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		for i := 0; i < 100; i++ {
			c, err := resp.Dial(context.Background(), resp.Options{Addr: addr})
			if err == nil {
				// Ours, not a server someone started on the port meanwhile.
				v, err := c.Do(context.Background(), "INFO", "server")
				c.Close()
				if err == nil && strings.Contains(string(v.Str), fmt.Sprintf("process_id:%d\r", cmd.Process.Pid)) {
					t.Cleanup(stop)
					return "redis://" + addr
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		stop() // lost the port to another process: try the next
	}
	t.Fatal("no free port in 6390..6399 for a private redis-server")
	return ""
}

// Miniredis starts an embedded miniredis on loopback: the server that is not
// Redis (no DUMP/RESTORE beyond strings, no XSETID, TTLs that do not tick).
func Miniredis(t testing.TB) (string, *miniredis.Miniredis) {
	t.Helper()
	m, err := miniredis.Run()
	if err != nil {
		t.Fatalf("start miniredis: %v", err)
	}
	t.Cleanup(m.Close)
	return "redis://" + m.Addr(), m
}

// Conn opens a connection to the database of rawURL.
func Conn(t testing.TB, rawURL string) *resp.Conn {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	o, err := resp.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	c, err := resp.Dial(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Do runs a command and fails the test on an error.
func Do(t testing.TB, c *resp.Conn, args ...string) resp.Value {
	t.Helper()
	v, err := c.Do(context.Background(), args...)
	if err == nil {
		err = v.Err()
	}
	if err != nil {
		t.Fatalf("%s: %v", strings.Join(args, " "), err)
	}
	return v
}

// CommandCalls returns the calls of each command (upper case) since the
// server's last CONFIG RESETSTAT, from INFO commandstats: what a test
// counts on a server of its own (StartRedis).
func CommandCalls(t testing.TB, rawURL string) map[string]int64 {
	t.Helper()
	v := Do(t, Conn(t, rawURL), "INFO", "commandstats")
	calls := map[string]int64{}
	for _, line := range strings.Split(string(v.Str), "\r\n") {
		name, rest, ok := strings.Cut(strings.TrimPrefix(line, "cmdstat_"), ":calls=")
		if !ok || name == line {
			continue
		}
		n, _ := strconv.ParseInt(strings.SplitN(rest, ",", 2)[0], 10, 64)
		calls[strings.ToUpper(name)] = n
	}
	return calls
}

// ExportOptions tune Export.
type ExportOptions struct {
	Params    map[string]string
	PartBytes int64 // small values make keys straddle parts
	Jobs      int
	BatchRows int                   // rows per record batch (0 = about 4 MiB)
	Setup     func(exporter.Source) // test hooks
}

// Export writes a bundle of src into t's temp dir and returns its path and
// manifest. A failed export returns the error with no path.
func Export(t testing.TB, src string, o ExportOptions) (string, *spec.Manifest, error) {
	t.Helper()
	ctx := context.Background()
	s, err := exporter.Open(ctx, src, exporter.Options{Params: o.Params, BatchRows: o.BatchRows})
	if err != nil {
		return "", nil, err
	}
	defer s.Close()
	if o.Setup != nil {
		o.Setup(s)
	}
	path := filepath.Join(t.TempDir(), "b.imb")
	w, err := bundle.Create(path, bundle.Options{PartBytes: o.PartBytes, Tool: spec.Tool{Name: "imbundle", Version: "test"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := exporter.Export(ctx, []exporter.Source{s}, w, max(o.Jobs, 1)); err != nil {
		w.Abort()
		return "", nil, err
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path, w.Manifest(), nil
}

// MustExport is Export that fails the test on error.
func MustExport(t testing.TB, src string, o ExportOptions) (string, *spec.Manifest) {
	t.Helper()
	p, m, err := Export(t, src, o)
	if err != nil {
		t.Fatalf("export %s: %v", src, err)
	}
	return p, m
}

// Import loads the bundle at path into target. Setup, if set, may adjust
// the opened target (test hooks) before the import runs.
func Import(t testing.TB, path, target string, o importer.Options, setup func(importer.Target)) (*importer.Report, error) {
	t.Helper()
	ctx := context.Background()
	r, err := bundle.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if o.Rejects == nil {
		o.Rejects = importer.NewRejects(filepath.Join(t.TempDir(), "rejects.jsonl"))
		defer o.Rejects.Close()
	}
	tg, err := importer.Open(ctx, target, o)
	if err != nil {
		return nil, err
	}
	defer tg.Close()
	if setup != nil {
		setup(tg)
	}
	return importer.Import(ctx, r, tg, o)
}

// MustImport is Import that fails the test on error or rejects.
func MustImport(t testing.TB, path, target string, o importer.Options) *importer.Report {
	t.Helper()
	rep, err := Import(t, path, target, o, nil)
	if err != nil {
		t.Fatalf("import into %s: %v", target, err)
	}
	for _, d := range rep.Datasets {
		if d.Rejected != 0 {
			t.Fatalf("import into %s: %s: %d rows rejected", target, d.Dataset, d.Rejected)
		}
	}
	return rep
}

// Verify compares the bundle with target (verify --against).
func Verify(t testing.TB, path, target string, dbMap map[string]string, params map[string]string) []verify.DatasetResult {
	t.Helper()
	return VerifyDatasets(t, path, target, dbMap, params, nil)
}

// VerifyDatasets is Verify of the named datasets only (nil: all).
func VerifyDatasets(t testing.TB, path, target string, dbMap map[string]string, params map[string]string, datasets []string) []verify.DatasetResult {
	t.Helper()
	ctx := context.Background()
	r, err := bundle.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	src, err := exporter.Open(ctx, target, exporter.Options{Params: params})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	res, err := verify.Against(ctx, r, src, verify.AgainstOptions{Map: dbMap, Engine: "redis", Datasets: datasets})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// RequireMatch fails the test unless every dataset of the bundle matches
// target (and there is at least one).
func RequireMatch(t testing.TB, path, target string, dbMap map[string]string) {
	t.Helper()
	RequireMatchTTL(t, path, target, dbMap, 0)
}

// RequireMatchTTL is RequireMatch with a TTL tolerance (0 = the default):
// miniredis TTLs do not tick, so expiry times read back from it drift by
// the time since they were written.
func RequireMatchTTL(t testing.TB, path, target string, dbMap map[string]string, tol time.Duration) {
	t.Helper()
	RequireMatchOf(t, path, target, dbMap, tol, nil)
}

// RequireMatchOf is RequireMatchTTL of the named datasets only (nil: all):
// a hop through a server that cannot hold some of them (miniredis has no
// stream state beyond entries) is compared on the others.
func RequireMatchOf(t testing.TB, path, target string, dbMap map[string]string, tol time.Duration, datasets []string) {
	t.Helper()
	var params map[string]string
	if tol > 0 {
		params = map[string]string{"ttl-tolerance": tol.String()}
	}
	res := VerifyDatasets(t, path, target, dbMap, params, datasets)
	if len(res) == 0 {
		t.Fatalf("verify %s: no dataset compared", target)
	}
	for _, d := range res {
		if !d.Match {
			t.Fatalf("verify %s: %s -> %s differs: bundle %d rows %s, target %d rows %s, err %v, first differences %+v",
				target, d.Dataset, d.Target, d.BundleRows, d.BundleSum, d.TargetRows, d.TargetSum, d.Err, d.Differences)
		}
	}
}

// UserKeys is DBSIZE less imbundle's last-applied record (SPEC.md §14.3),
// which every finished import leaves in the databases it wrote.
func UserKeys(t testing.TB, c *resp.Conn) int64 {
	t.Helper()
	return Do(t, c, "DBSIZE").Int - Do(t, c, "EXISTS", redistype.AppliedKey).Int
}
