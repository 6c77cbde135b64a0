package testenv

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// The S3-compatible server the tests use: versitygw (github.com/versity/
// versitygw, built from tools/versitygw) with its posix backend, started
// once per test binary on a free loopback port with its data in a fresh
// temporary directory and throwaway root credentials.
var (
	s3Once sync.Once
	s3Srv  *S3Server
	s3Err  error
)

// S3Server is a running versitygw.
type S3Server struct {
	Endpoint  string // http://127.0.0.1:PORT
	AccessKey string
	SecretKey string
	dir       string
	cmd       *exec.Cmd
	done      chan struct{}
}

// S3 returns the tests' S3 server, starting it on first use; it skips t
// (fails it under CI) if none can be had.
func S3(t testing.TB) *S3Server {
	t.Helper()
	s3Once.Do(func() { s3Srv, s3Err = StartVersityGW(io.Discard) })
	if s3Err != nil {
		Unavailable(t, "an S3-compatible server (versitygw from tools/versitygw)", s3Err)
	}
	return s3Srv
}

// S3Bucket makes a new bucket with a unique name on the tests' server and
// points the AWS environment variables of t at the server, as a user
// would (objstore reads nothing else). The bucket is left with the
// server's temporary directory, which goes when the server stops.
func S3Bucket(t testing.TB, prefix string) string {
	t.Helper()
	s := S3(t)
	t.Setenv("AWS_ENDPOINT_URL", s.Endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", s.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s.SecretKey)
	t.Setenv("AWS_REGION", "us-east-1")
	bucket := strings.ReplaceAll(Name(prefix), "_", "-")
	c := s.Client(t)
	if err := c.MakeBucket(context.Background(), bucket, minio.MakeBucketOptions{}); err != nil {
		t.Fatalf("make bucket %s on %s: %v", bucket, s.Endpoint, err)
	}
	return bucket
}

// Client is a plain S3 client of the server, for tests to look at
// objects directly.
func (s *S3Server) Client(t testing.TB) *minio.Client {
	t.Helper()
	c, err := minio.New(strings.TrimPrefix(s.Endpoint, "http://"), &minio.Options{
		Creds: credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""), Region: "us-east-1", BucketLookup: minio.BucketLookupPath})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// StopS3 stops the server this test binary started, if any, and removes
// its data. A TestMain may call it after m.Run; without it the server
// still ends with the test binary (parent-death signal).
func StopS3() {
	if s3Srv == nil {
		return
	}
	s3Srv.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s3Srv.done:
	case <-time.After(10 * time.Second):
		s3Srv.cmd.Process.Kill()
		<-s3Srv.done
	}
	os.RemoveAll(s3Srv.dir)
}

// VersityGWBinary builds tools/versitygw's server once per machine (the
// first build fetches versitygw's modules and takes minutes).
func VersityGWBinary() (string, error) {
	return toolBinary("versitygw", "github.com/versity/versitygw/cmd/versitygw", "go.mod", "go.sum")
}

// StartVersityGW starts versitygw's posix backend on a free loopback port
// and returns once it accepts connections. Its log goes to logw.
func StartVersityGW(logw io.Writer) (*S3Server, error) {
	bin, err := VersityGWBinary()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "imbundle-versitygw-*")
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	s := &S3Server{Endpoint: "http://" + addr, AccessKey: "imbundle-test", SecretKey: Name("secret"), dir: dir, done: make(chan struct{})}
	started := make(chan error, 1)
	// As for FerretDB: the process gets SIGTERM when the thread that
	// started it dies, so start it from a thread that never exits.
	go func() {
		runtime.LockOSThread()
		cmd := exec.Command(bin, "--port", addr, "posix", dir)
		// Credentials by environment, as versitygw documents, not on
		// its command line.
		cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+s.AccessKey, "ROOT_SECRET_KEY="+s.SecretKey)
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
		cmd.Stdout, cmd.Stderr = logw, logw
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		s.cmd = cmd
		started <- nil
		cmd.Wait()
		close(s.done)
		select {}
	}()
	if err := <-started; err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return s, nil
		}
		select {
		case <-s.done:
			os.RemoveAll(dir)
			return nil, fmt.Errorf("%s exited before listening on %s (run it by hand to see why)", bin, addr)
		default:
		}
		if time.Now().After(deadline) {
			s3Srv = s
			StopS3()
			s3Srv = nil
			return nil, fmt.Errorf("%s does not listen on %s after 30s", bin, addr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
