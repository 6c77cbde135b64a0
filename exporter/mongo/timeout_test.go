package mongo_test

import (
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/imbundle/imbundle/exporter"
	"github.com/imbundle/imbundle/internal/testenv"
)

const shortTimeouts = "connectTimeoutMS=300&serverSelectionTimeoutMS=300&timeoutMS=300"

func TestSilentServerTimesOut(t *testing.T) {
	addr := testenv.SilentServer(t)
	_, err := exporter.Open(context.Background(), "mongodb://"+addr+"/db?"+shortTimeouts, exporter.Options{})
	if err == nil || !strings.Contains(err.Error(), addr) || !strings.Contains(err.Error(), "does not answer") {
		t.Errorf("export from a server that never answers: %v; want an error naming %s", err, addr)
	} else {
		t.Log(err)
	}
}

// freezingProxy forwards to target until frozen; then it swallows
// everything, so the server seems to go silent mid-session.
func freezingProxy(t *testing.T, target string) (addr string, freeze func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var frozen atomic.Bool
	pipe := func(dst io.Writer, src io.Reader) {
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if err != nil {
				return
			}
			if !frozen.Load() {
				if _, err := dst.Write(buf[:n]); err != nil {
					return
				}
			}
		}
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, s)
			mu.Unlock()
			go pipe(s, c)
			go pipe(c, s)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String(), func() { frozen.Store(true) }
}

// TestServerGoesSilent: a server that answered and then stops answering
// fails the read within the URL's timeoutMS, naming the server and the
// step, instead of hanging.
func TestServerGoesSilent(t *testing.T) {
	ctx := context.Background()
	_, db := testenv.MongoDatabase(t, "silent")
	if _, err := db.Collection("c").InsertOne(ctx, bson.D{{Key: "x", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	server := strings.TrimSuffix(strings.TrimPrefix(testenv.MongoURI(t), "mongodb://"), "/")
	addr, freeze := freezingProxy(t, server)
	src, err := exporter.Open(ctx, "mongodb://"+addr+"/"+db.Name()+"?directConnection=true&timeoutMS=500", exporter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	desc, err := src.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	freeze()
	err = src.Read(ctx, &desc.Datasets[0].Spec, func(arrow.RecordBatch) error { return nil })
	if err == nil || !strings.Contains(err.Error(), addr) || !strings.Contains(err.Error(), "find on "+db.Name()+".c") {
		t.Errorf("read from a server gone silent: %v; want an error naming %s and the find", err, addr)
	} else {
		t.Log(err)
	}
}
