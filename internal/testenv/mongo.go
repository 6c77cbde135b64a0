package testenv

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
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
// current sources (toolBinary: built once per machine, cached by content;
// the first build fetches FerretDB's modules and takes a minute or two).
func FerretDBBinary() (string, error) {
	return toolBinary("ferretdb", ".", "go.mod", "go.sum", "main.go")
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
