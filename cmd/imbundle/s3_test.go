package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/imbundle/imbundle/bundle"
	"github.com/imbundle/imbundle/internal/testenv"
	"github.com/imbundle/imbundle/spec"
)

// requestLog is the S3 client's transport in these tests: it records
// every request's method, object and range, and can cancel a context on
// the first request that matches.
type requestLog struct {
	mu   sync.Mutex
	reqs []string
	// onPut, if set, runs after a successful PUT of an object whose
	// key ends with its suffix.
	onPut func(key string)
}

func (l *requestLog) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	l.mu.Lock()
	l.reqs = append(l.reqs, r.Method+" "+r.URL.Path+" "+r.Header.Get("Range"))
	on := l.onPut
	l.mu.Unlock()
	if err == nil && r.Method == http.MethodPut && resp.StatusCode == 200 && on != nil {
		on(r.URL.Path)
	}
	return resp, err
}

// since returns the requests logged after the first n.
func (l *requestLog) since(n int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.reqs[n:]...)
}

func (l *requestLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.reqs)
}

// s3Log installs a requestLog as the S3 client's transport for the test
// binary (the client is made once); tests share it and look at what they
// did through since.
var s3Log = sync.OnceValue(func() *requestLog {
	l := &requestLog{}
	s3Transport = l
	return l
})

// objectsIn lists the keys under prefix.
func objectsIn(t *testing.T, c *minio.Client, bucket, prefix string) []string {
	t.Helper()
	var keys []string
	for o := range c.ListObjects(context.Background(), bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		keys = append(keys, o.Key)
	}
	return keys
}

// A MySQL fixture exported to s3:// as volumes verifies in place; inspect
// reads the index and the volumes' directories with a few ranged GETs and
// no part; import from s3:// ends identical to the source (verify
// --against); plan and extract read it; copy to one local file gives the
// same datasets, digests and part SHA-256s and verifies; so do copies to
// local volumes and back, and back to s3:// under another name; a second
// export or copy to the same name is refused.
func TestS3Bundle(t *testing.T) {
	log := s3Log()
	bucket := testenv.S3Bucket(t, "imb")
	srv := testenv.S3(t)
	mc := srv.Client(t)
	srcURL, _ := testenv.MySQLDatabase(t, "s3_src")
	if out, err := runCLI(t, "-q", "fixtures", "mysql", "--target", srcURL, "--seed", "7", "--users", "300", "--groups", "12", "--messages", "4000"); err != nil {
		t.Fatalf("fixtures: %v\n%s", err, out)
	}
	url := "s3://" + bucket + "/backups/site.imb"
	stage := t.TempDir()
	out, err := runCLI(t, "-q", "export", "--source", srcURL, "-o", url, "--param", "lock-wait=2", "--volume-size", "64K", "--part-size", "1", "--temp-dir", stage)
	if err != nil || !strings.Contains(out, "wrote "+url) || !strings.Contains(out, "volumes beside it") {
		t.Fatalf("export: %v\n%s", err, out)
	}
	if left, _ := os.ReadDir(stage); len(left) != 0 {
		t.Fatalf("the export left %d file(s) in its staging directory: %v", len(left), left)
	}
	keys := objectsIn(t, mc, bucket, "backups/")
	if len(keys) < 4 || keys[0] != "backups/site.imb" {
		t.Fatalf("objects after export: %v; want the index and several volumes", keys)
	}

	if out, err := runCLI(t, "verify", url); err != nil || !strings.Contains(out, "OK: bundle") {
		t.Fatalf("verify in place: %v\n%s", err, out)
	}

	// inspect reads structure only: HEAD and ranged GETs of the index and
	// each volume's start and end, never a part's bytes.
	before := log.count()
	if out, err := runCLI(t, "inspect", url); err != nil || !strings.Contains(out, "datasets") {
		t.Fatalf("inspect: %v\n%s", err, out)
	}
	reqs := log.since(before)
	r, err := openLocation(url, bundle.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	vols := r.Volumes()
	var partBytes int64
	parts := 0
	for _, ds := range r.Manifest().Datasets {
		for _, p := range ds.Parts {
			partBytes += p.Bytes
			parts++
		}
	}
	r.Close()
	var got, largest int64
	for _, q := range reqs {
		if strings.HasPrefix(q, "GET ") && strings.Contains(q, "bytes=") {
			var a, b int64
			if _, err := fmt.Sscanf(q[strings.Index(q, "bytes="):], "bytes=%d-%d", &a, &b); err == nil {
				got += b - a + 1
				if !strings.Contains(q, "site.imb ") { // a volume's: the index holds no part
					largest = max(largest, b-a+1)
				}
			}
		} else if strings.HasPrefix(q, "GET ") && !strings.Contains(q, "?") && !strings.HasSuffix(strings.TrimSpace(q), "/") {
			t.Fatalf("inspect made an unranged GET: %s", q)
		}
	}
	t.Logf("inspect: %d requests, %d bytes fetched (largest GET of a volume %d), for %d volumes holding %d parts of %d bytes", len(reqs), got, largest, len(vols), parts, partBytes)
	// Per object a HEAD, its end records, directory and first entries
	// (marker, volume.json or manifest), and one small GET per part's
	// local header (the reader checks each against the directory): small
	// requests, O(volumes + parts), none the size of a part.
	if max := 6*(len(vols)+1) + parts + 2; len(reqs) > max {
		t.Fatalf("inspect made %d requests for %d volumes and %d parts, want at most %d:\n%s", len(reqs), len(vols), parts, max, strings.Join(reqs, "\n"))
	}
	if largest > 16<<10 || got > partBytes/4 {
		t.Fatalf("inspect fetched %d bytes (largest GET of a volume %d) of a bundle whose parts are %d bytes: it read part data\n%s", got, largest, partBytes, strings.Join(reqs, "\n"))
	}

	dstURL, _ := testenv.MySQLDatabase(t, "s3_dst")
	if out, err := runCLI(t, "-q", "import", url, "--target", dstURL); err != nil {
		t.Fatalf("import from s3: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "-q", "verify", url, "--against", dstURL); err != nil {
		t.Fatalf("verify --against the imported copy: %v\n%s", err, out)
	}

	if out, err := runCLI(t, "plan", url, "--target", dstURL); err != nil {
		t.Fatalf("plan from s3: %v\n%s", err, out)
	}
	rows := filepath.Join(t.TempDir(), "users.jsonl")
	if out, err := runCLI(t, "-q", "extract", url, "--dataset", srcURL[strings.LastIndex(srcURL, "/")+1:]+".users", "-o", rows); err != nil {
		t.Fatalf("extract from s3: %v\n%s", err, out)
	}
	if b, err := os.ReadFile(rows); err != nil || strings.Count(string(b), "\n") != 300 {
		t.Fatalf("extract from s3: %d lines (%v), want the fixture's 300 users", strings.Count(string(b), "\n"), err)
	}

	// s3 -> one local file: same content, one file, verifies.
	single := filepath.Join(t.TempDir(), "site.imb")
	if out, err := runCLI(t, "copy", url, single); err != nil || !strings.Contains(out, "every part read back and checked") {
		t.Fatalf("copy to a local file: %v\n%s", err, out)
	}
	if names, _ := filepath.Glob(single + ".*"); len(names) != 0 {
		t.Fatalf("copy to one file wrote volumes beside it: %v", names)
	}
	if out, err := runCLI(t, "verify", "--deep", single); err != nil || !strings.Contains(out, "OK: bundle") {
		t.Fatalf("verify the local copy: %v\n%s", err, out)
	}
	sameContent(t, url, single)

	// local -> local volumes and back to one file: the same content.
	split := filepath.Join(t.TempDir(), "split.imb")
	if out, err := runCLI(t, "copy", single, split, "--volume-size", "64K"); err != nil || !strings.Contains(out, "volumes beside it") {
		t.Fatalf("copy to local volumes: %v\n%s", err, out)
	}
	sameContent(t, single, split)
	rejoined := filepath.Join(t.TempDir(), "rejoined.imb")
	if out, err := runCLI(t, "copy", split, rejoined); err != nil {
		t.Fatalf("copy local volumes to one file: %v\n%s", err, out)
	}
	sameContent(t, split, rejoined)

	// local -> s3 under another name, as volumes of the default size.
	back := "s3://" + bucket + "/again/site-2.imb"
	if out, err := runCLI(t, "copy", single, back); err != nil {
		t.Fatalf("copy back to s3: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "verify", back); err != nil {
		t.Fatalf("verify the copy in s3: %v\n%s", err, out)
	}
	sameContent(t, single, back)
	if keys := objectsIn(t, mc, bucket, "again/"); len(keys) != 2 {
		t.Fatalf("copy to s3 with 256M volumes: objects %v, want the index and one volume", keys)
	}

	if out, err := runCLI(t, "-q", "export", "--source", srcURL, "-o", url); exitCodeOf(err) != exitUsage || !strings.Contains(fmt.Sprint(err), "exists") {
		t.Fatalf("export over an s3 bundle: exit %d, want %d: %v\n%s", exitCodeOf(err), exitUsage, err, out)
	}
	if out, err := runCLI(t, "copy", single, url); exitCodeOf(err) != exitUsage {
		t.Fatalf("copy over an s3 bundle: exit %d, want %d: %v\n%s", exitCodeOf(err), exitUsage, err, out)
	}
	if out, err := runCLI(t, "inspect", "s3://"+bucket+"/backups/none.imb"); err == nil || !strings.Contains(fmt.Sprint(err), "index object does not exist") {
		t.Fatalf("inspect of a missing s3 bundle: %v\n%s", err, out)
	}
}

// sameContent asserts two bundles hold the same datasets with the same
// digests and part SHA-256s (SPEC.md §2.7).
func sameContent(t *testing.T, a, b string) {
	t.Helper()
	ra, err := openLocation(a, bundle.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer ra.Close()
	rb, err := openLocation(b, bundle.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer rb.Close()
	da, db := ra.Manifest().Datasets, rb.Manifest().Datasets
	if len(da) != len(db) || len(da) == 0 {
		t.Fatalf("%s has %d datasets, %s %d", a, len(da), b, len(db))
	}
	for i := range da {
		if da[i].Name != db[i].Name || da[i].Rows != db[i].Rows || !sameDigest(da[i].Digest, db[i].Digest) || len(da[i].Parts) != len(db[i].Parts) {
			t.Fatalf("dataset %d: %s has %s (%d rows), %s has %s (%d rows), or their digests differ", i, a, da[i].Name, da[i].Rows, b, db[i].Name, db[i].Rows)
		}
		for j := range da[i].Parts {
			if da[i].Parts[j].SHA256 != db[i].Parts[j].SHA256 {
				t.Fatalf("dataset %s part %d: SHA-256 %s in %s, %s in %s", da[i].Name, j, da[i].Parts[j].SHA256, a, db[i].Parts[j].SHA256, b)
			}
		}
	}
}

func sameDigest(a, b spec.Digest) bool { return a == b }

// An export to s3:// whose context is cancelled once its first volume is
// put fails cleanly: no index object, and the volumes it put are removed.
// One SIGKILLed after its first volume is put leaves no index either (so
// no bundle: a reader says so), but its volumes stay, and the next
// export to that name is refused until they are removed.
func TestS3ExportFailureLeavesNoIndex(t *testing.T) {
	log := s3Log()
	bucket := testenv.S3Bucket(t, "imbfail")
	mc := testenv.S3(t).Client(t)
	srcURL, _ := testenv.MySQLDatabase(t, "s3_fail")
	if out, err := runCLI(t, "-q", "fixtures", "mysql", "--target", srcURL, "--seed", "3", "--users", "300", "--groups", "12", "--messages", "4000"); err != nil {
		t.Fatalf("fixtures: %v\n%s", err, out)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var puts atomic.Int32
	log.mu.Lock()
	log.onPut = func(key string) {
		if strings.Contains(key, "/cancelled/site.imb.") && puts.Add(1) == 1 {
			cancel()
		}
	}
	log.mu.Unlock()
	defer func() { log.mu.Lock(); log.onPut = nil; log.mu.Unlock() }()
	url := "s3://" + bucket + "/cancelled/site.imb"
	out, err := runCLIContext(t, ctx, "-q", "export", "--source", srcURL, "-o", url, "--volume-size", "64K", "--part-size", "1")
	if err == nil || puts.Load() == 0 {
		t.Fatalf("export cancelled after its first volume: err %v, %d volume(s) put\n%s", err, puts.Load(), out)
	}
	if keys := objectsIn(t, mc, bucket, "cancelled/"); len(keys) != 0 {
		t.Fatalf("a failed export left objects %v; want none", keys)
	}

	// SIGKILL: the built binary, killed as soon as a volume object is
	// there (an export of 64K volumes puts many before its index).
	bin := builtCLI(t)
	killed := "s3://" + bucket + "/killed/site.imb"
	cmd := exec.Command(bin, "-q", "export", "--source", srcURL, "-o", killed, "--volume-size", "64K", "--part-size", "1", "--jobs", "1", "--temp-dir", t.TempDir())
	cmd.Env = os.Environ()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	for len(objectsIn(t, mc, bucket, "killed/")) == 0 {
		select {
		case err := <-exited:
			t.Fatalf("the export ended (%v) before any volume object was seen", err)
		case <-time.After(20 * time.Millisecond): // poll again
		}
	}
	cmd.Process.Kill()
	<-exited
	keys := objectsIn(t, mc, bucket, "killed/")
	for _, k := range keys {
		if k == "killed/site.imb" {
			t.Fatalf("the export was killed after its index was put (objects %v): the fixture is too small for this test", keys)
		}
	}
	if out, err := runCLI(t, "verify", killed); err == nil || !strings.Contains(fmt.Sprint(err), "index object does not exist") {
		t.Fatalf("verify of a killed export's volumes: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "-q", "export", "--source", srcURL, "-o", killed); exitCodeOf(err) != exitUsage || !strings.Contains(fmt.Sprint(err), "left by an export that was killed") {
		t.Fatalf("export over a killed export's volumes: exit %d: %v\n%s", exitCodeOf(err), err, out)
	}
}

// An encrypted export to s3:// shows only its summary to inspect without
// an identity, verifies with one, and copy refuses it (its parts are
// sealed to a key in its index) without leaving anything at DST.
func TestS3Encrypted(t *testing.T) {
	bucket := testenv.S3Bucket(t, "imbenc")
	mc := testenv.S3(t).Client(t)
	srcURL, src := testenv.MySQLDatabase(t, "s3_enc")
	for _, q := range []string{
		"CREATE TABLE secret_users (id BIGINT PRIMARY KEY, name VARCHAR(64))",
		"INSERT INTO secret_users VALUES (1, 'ann-the-secret'), (2, 'bob'), (3, 'cy')",
	} {
		if _, err := src.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	alice, aliceR := identityFile(t, t.TempDir(), "alice.txt")
	url := "s3://" + bucket + "/enc/site.imb"
	if out, err := runCLI(t, "-q", "export", "--source", srcURL, "-o", url, "--param", "lock-wait=2", "--encrypt-to", aliceR); err != nil {
		t.Fatalf("encrypted export to s3: %v\n%s", err, out)
	}
	out, err := runCLI(t, "inspect", url)
	if err != nil || strings.Contains(out, "secret_users") || !strings.Contains(strings.ToLower(out), "encrypted") {
		t.Fatalf("inspect without an identity: %v\n%s", err, out)
	}
	if out, err := runCLI(t, "verify", url, "--identity", alice); err != nil || !strings.Contains(out, "OK: bundle") {
		t.Fatalf("verify with the identity: %v\n%s", err, out)
	}
	dst := "s3://" + bucket + "/enc2/site.imb"
	out, err = runCLI(t, "copy", url, dst)
	if err == nil || !strings.Contains(fmt.Sprint(err), "encrypted") {
		t.Fatalf("copy of an encrypted bundle: %v\n%s", err, out)
	}
	t.Logf("copy of an encrypted bundle: %v", err)
	if keys := objectsIn(t, mc, bucket, "enc2/"); len(keys) != 0 {
		t.Fatalf("a refused copy left %v", keys)
	}
}
