package testenv

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// The MongoDB the tests use: IMBUNDLE_TEST_MONGO (a mongodb:// URL without a
// database) if set, else a FerretDB built from tools/ferretdb and started
// once per test binary on a free loopback port.
var (
	mongoOnce sync.Once
	mongoURI  string
	mongoErr  error
	mongoSrv  *FerretDB
)

// MongoURI returns the server's mongodb:// URL (no database), starting
// FerretDB on first use; it skips t (fails it under CI) if no server can be
// had.
func MongoURI(t testing.TB) string {
	t.Helper()
	mongoOnce.Do(func() {
		if u := os.Getenv("IMBUNDLE_TEST_MONGO"); u != "" {
			mongoURI = strings.TrimSuffix(u, "/") + "/"
			mongoErr = pingMongo(mongoURI, 10*time.Second)
			return
		}
		mongoSrv, mongoErr = StartFerretDB(context.Background(), io.Discard)
		if mongoErr == nil {
			mongoURI = mongoSrv.URI
		}
	})
	if mongoErr != nil {
		Unavailable(t, "MongoDB (FerretDB from tools/ferretdb, or IMBUNDLE_TEST_MONGO)", mongoErr)
	}
	return mongoURI
}

// MongoDatabase returns the mongodb:// URL of a new database with a unique
// name, and a handle on it; the database is dropped when the test ends.
func MongoDatabase(t testing.TB, prefix string) (string, *mongo.Database) {
	t.Helper()
	uri := MongoURI(t)
	c, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	name := Name(prefix)
	db := c.Database(name)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		db.Drop(ctx)
		c.Disconnect(ctx)
	})
	return uri + name, db
}

// StopMongo stops the FerretDB this test binary started, if any. A TestMain
// may call it after m.Run; without it the server still ends with the test
// binary (it is started with a parent-death signal).
func StopMongo() {
	if mongoSrv != nil {
		mongoSrv.Stop()
	}
}

// FerretDB is a running tools/ferretdb process.
type FerretDB struct {
	URI  string // mongodb://127.0.0.1:PORT/
	cmd  *exec.Cmd
	done chan struct{}
}

// Stop ends the server (SIGTERM, then SIGKILL after 10 s) and waits for it.
func (f *FerretDB) Stop() {
	if f == nil || f.cmd.Process == nil {
		return
	}
	f.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-f.done:
	case <-time.After(10 * time.Second):
		f.cmd.Process.Kill()
		<-f.done
	}
}

// StartFerretDB builds tools/ferretdb (once, cached by content) and starts
// it on a free loopback port with its data in a fresh temporary directory.
// The server's log goes to logw. It returns once the server answers ping.
func StartFerretDB(ctx context.Context, logw io.Writer) (*FerretDB, error) {
	bin, err := FerretDBBinary()
	if err != nil {
		return nil, err
	}
	f := &FerretDB{done: make(chan struct{})}
	started := make(chan error, 1)
	// The process gets SIGTERM when the OS thread that started it dies.
	// Go reuses threads freely, so start it from a goroutine locked to a
	// thread that never exits: the server then lives exactly as long as
	// this process, even if no one calls Stop.
	go func() {
		runtime.LockOSThread()
		cmd := exec.Command(bin, "-listen", "127.0.0.1:0")
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
		cmd.Stderr = logw
		out, err := cmd.StdoutPipe()
		if err == nil {
			err = cmd.Start()
		}
		if err != nil {
			started <- err
			return
		}
		f.cmd = cmd
		started <- nil
		line := make(chan string, 1)
		go func() {
			sc := bufio.NewScanner(out)
			if sc.Scan() {
				line <- sc.Text()
			}
			close(line)
			io.Copy(io.Discard, out)
		}()
		go func() {
			select {
			case l, ok := <-line:
				if ok && strings.HasPrefix(l, "listening ") {
					f.URI = strings.TrimSuffix(strings.TrimPrefix(l, "listening "), "/") + "/"
				}
			case <-time.After(60 * time.Second):
			}
			started <- nil
		}()
		cmd.Wait()
		close(f.done)
		select {} // keep this thread, and so the parent-death signal, alive
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	select {
	case <-started:
	case <-f.done:
		return nil, fmt.Errorf("%s exited before listening (run it by hand to see why)", bin)
	case <-ctx.Done():
		f.Stop()
		return nil, ctx.Err()
	}
	if f.URI == "" {
		f.Stop()
		return nil, fmt.Errorf("%s did not print its listen address (within 60s)", bin)
	}
	if err := pingMongo(f.URI, 30*time.Second); err != nil {
		f.Stop()
		return nil, err
	}
	return f, nil
}

func pingMongo(uri string, wait time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, err := mongo.Connect(options.Client().ApplyURI(uri).SetServerSelectionTimeout(wait))
	if err != nil {
		return err
	}
	defer c.Disconnect(context.Background())
	var last error
	for ctx.Err() == nil {
		if last = c.Database("admin").RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err(); last == nil {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("%s does not answer ping: %v", uri, last)
}

// FerretDBBinary returns the path of a tools/ferretdb binary built from the
// current sources. Builds are cached in the user cache directory under a
// hash of the tool's go.mod, go.sum and main.go and the Go version, so each
// machine builds it once (the first build fetches FerretDB's modules from the
// Go module proxy and takes a minute or two); concurrent test binaries
// share one build through a lock file.
func FerretDBBinary() (string, error) {
	src, err := ferretDBSource()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, name := range []string{"go.mod", "go.sum", "main.go"} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", name, len(b))
		h.Write(b)
	}
	gover, err := exec.Command("go", "env", "GOVERSION").Output()
	if err != nil {
		return "", fmt.Errorf("go toolchain needed to build tools/ferretdb: %w", err)
	}
	h.Write(gover)
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "imbundle")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "ferretdb-"+hex.EncodeToString(h.Sum(nil))[:16])
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	lock, err := os.OpenFile(bin+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if _, err := os.Stat(bin); err == nil {
		return bin, nil // another test binary built it while we waited
	}
	tmp := fmt.Sprintf("%s.tmp%d", bin, os.Getpid())
	cmd := exec.Command("go", "build", "-o", tmp, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly -buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("build tools/ferretdb: %v\n%s", err, out)
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", err
	}
	return bin, nil
}

// ferretDBSource finds tools/ferretdb from this file's location (tests run
// in the source tree), or from the working directory upwards.
func ferretDBSource() (string, error) {
	var starts []string
	if _, file, _, ok := runtime.Caller(0); ok {
		starts = append(starts, filepath.Dir(file))
	}
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	for _, d := range starts {
		for {
			p := filepath.Join(d, "tools", "ferretdb")
			if _, err := os.Stat(filepath.Join(p, "main.go")); err == nil {
				return p, nil
			}
			up := filepath.Dir(d)
			if up == d {
				break
			}
			d = up
		}
	}
	return "", errors.New("tools/ferretdb not found above this package or the working directory")
}

// RawDocs reads a collection sorted by _id, each document as the bytes the
// server sends.
func RawDocs(t testing.TB, c *mongo.Collection) []bson.Raw {
	t.Helper()
	ctx := context.Background()
	cur, err := c.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close(ctx)
	var out []bson.Raw
	for cur.Next(ctx) {
		out = append(out, append(bson.Raw(nil), cur.Current...))
	}
	if err := cur.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
