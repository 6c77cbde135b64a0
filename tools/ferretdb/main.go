// Command ferretdb runs an embedded FerretDB v1 (a MongoDB wire-protocol
// server) for imbundle's tests and benchmarks, where MongoDB itself cannot
// be installed. It lives in its own Go module so that FerretDB's dependency
// graph never reaches the imbundle binary.
//
// It listens on -listen (port 0 picks a free port), keeps its data in -dir
// (a fresh temporary directory, removed on exit, when not given), prints
// "listening mongodb://HOST:PORT/" on standard output once the listener is
// up, and runs until SIGINT or SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "TCP address to listen on; port 0 picks a free port")
	dir := flag.String("dir", "", "SQLite data directory; default a new temporary directory removed on exit")
	handler := flag.String("handler", "sqlite", "backend: sqlite, or postgresql (with -postgresql-url)")
	pgURL := flag.String("postgresql-url", "postgres://127.0.0.1:5432/ferretdb", "PostgreSQL URL for -handler postgresql")
	logLevel := flag.String("log-level", "warn", "debug, info, warn or error")
	flag.Parse()

	if err := run(*listen, *dir, *handler, *pgURL, *logLevel); err != nil {
		fmt.Fprintln(os.Stderr, "ferretdb:", err)
		os.Exit(1)
	}
}

func run(listen, dir, handler, pgURL, logLevel string) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		return fmt.Errorf("-log-level %q: %w", logLevel, err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	if dir == "" && handler == "sqlite" {
		tmp, err := os.MkdirTemp("", "ferretdb-*")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	cfg := &ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: listen},
		Logger:   log,
		Handler:  handler,
	}
	switch handler {
	case "sqlite":
		abs, err := filepath.Abs(dir)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(abs, 0o755); err != nil {
			return err
		}
		// FerretDB wants a file: URI naming a directory, with a trailing slash.
		cfg.SQLiteURL = (&url.URL{Scheme: "file", Path: abs + "/"}).String()
	case "postgresql":
		cfg.PostgreSQLURL = pgURL
	default:
		return fmt.Errorf("-handler %q: want sqlite or postgresql", handler)
	}

	f, err := ferretdb.New(cfg)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	// MongoDBURI blocks until Run has bound the listener, so the printed
	// address carries the real port even for -listen 127.0.0.1:0.
	fmt.Printf("listening %s\n", f.MongoDBURI())
	os.Stdout.Sync()
	err = <-done
	if ctx.Err() != nil {
		return nil // stopped by a signal: a normal end
	}
	return err
}
