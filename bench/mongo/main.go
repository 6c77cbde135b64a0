// Command mongo is the benchmark's plain-driver side (bench/mongo/run.sh):
// what a program that only uses the Go driver achieves against the same
// server, the ceiling imbundle is measured against.
//
//	mongo load URL N       insert N OpenIM message documents (InsertMany, 1000 a call)
//	mongo cursor URL       read every document of the collection with one cursor
//	mongo cursor-sorted URL  the same, sorted by _id (imbundle's --param sort=_id)
//	mongo drop URL         drop the database
//
// URL names the database; the collection is msg_like. Each prints one line:
// "docs=N bytes=B seconds=S".
package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/imbundle/imbundle/fixtures"
)

const collection = "msg_like"

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: mongo load URL N | cursor URL | cursor-sorted URL")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2], os.Args[3:]); err != nil {
		fmt.Fprintln(os.Stderr, "mongo:", err)
		os.Exit(1)
	}
}

func run(cmd, rawURL string, args []string) error {
	ctx := context.Background()
	u, err := url.Parse(rawURL)
	if err != nil {
		return err
	}
	db := strings.TrimPrefix(u.Path, "/")
	c, err := mongo.Connect(options.Client().ApplyURI(rawURL))
	if err != nil {
		return err
	}
	defer c.Disconnect(ctx)
	coll := c.Database(db).Collection(collection)
	switch cmd {
	case "load":
		if len(args) != 1 {
			return fmt.Errorf("load URL N")
		}
		n, err := strconv.Atoi(args[0])
		if err != nil {
			return err
		}
		return load(ctx, coll, n)
	case "cursor":
		return read(ctx, coll, false)
	case "cursor-sorted":
		return read(ctx, coll, true)
	case "drop":
		return c.Database(db).Drop(ctx)
	}
	return fmt.Errorf("unknown command %q", cmd)
}

// load generates the documents up front, so that only InsertMany is timed.
func load(ctx context.Context, coll *mongo.Collection, n int) error {
	w, err := fixtures.New(1, fixtures.Scale{Users: max(10, n/100), Groups: n/2000 + 1, Messages: n})
	if err != nil {
		return err
	}
	docs := make([]any, 0, n)
	var bytes int64
	err = w.EachMessage(func(m *fixtures.Message) error {
		if len(docs) == n {
			return nil
		}
		b, err := bson.Marshal(w.MongoMessageDoc(m))
		docs = append(docs, bson.Raw(b))
		bytes += int64(len(b))
		return err
	})
	if err != nil {
		return err
	}
	start := time.Now()
	for i := 0; i < len(docs); i += 1000 {
		if _, err := coll.InsertMany(ctx, docs[i:min(i+1000, len(docs))]); err != nil {
			return err
		}
	}
	fmt.Printf("docs=%d bytes=%d seconds=%.3f\n", len(docs), bytes, time.Since(start).Seconds())
	return nil
}

func read(ctx context.Context, coll *mongo.Collection, sorted bool) error {
	start := time.Now()
	opts := options.Find().SetBatchSize(1000)
	if sorted {
		opts.SetSort(bson.D{{Key: "_id", Value: 1}})
	}
	cur, err := coll.Find(ctx, bson.D{}, opts)
	if err != nil {
		return err
	}
	defer cur.Close(ctx)
	var n, bytes int64
	for cur.Next(ctx) {
		n++
		bytes += int64(len(cur.Current))
	}
	if err := cur.Err(); err != nil {
		return err
	}
	fmt.Printf("docs=%d bytes=%d seconds=%.3f\n", n, bytes, time.Since(start).Seconds())
	return nil
}
