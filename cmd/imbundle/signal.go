package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// interrupt cancels a command's context on SIGINT or SIGTERM, so that the
// command stops the way it stops on an error: the export removes its
// partial and staging files, the import commits no half part. A second
// signal kills at once (the next run removes what that leaves).
type interrupt struct {
	ch     chan os.Signal
	done   chan struct{}
	cancel context.CancelFunc
	mu     sync.Mutex
	sig    os.Signal
}

func onInterrupt(parent context.Context) (context.Context, *interrupt) {
	ctx, cancel := context.WithCancel(parent)
	in := &interrupt{ch: make(chan os.Signal, 1), done: make(chan struct{}), cancel: cancel}
	signal.Notify(in.ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case sig := <-in.ch:
			in.mu.Lock()
			in.sig = sig
			in.mu.Unlock()
			signal.Stop(in.ch)
			fmt.Fprintf(os.Stderr, "imbundle: %s: stopping and cleaning up (send it again to quit at once)\n", signalName(sig))
			cancel()
		case <-in.done:
		}
	}()
	return ctx, in
}

// stop stops listening; deferred by the command.
func (in *interrupt) stop() {
	signal.Stop(in.ch)
	close(in.done)
	in.cancel()
}

// result is the command's error after a signal: exit 128+signal (130 for
// SIGINT, 143 for SIGTERM) with what became of the work and how to resume.
// Without a signal, or if the command finished anyway, it is err.
func (in *interrupt) result(err error, what string) error {
	in.mu.Lock()
	sig := in.sig
	in.mu.Unlock()
	if err == nil || sig == nil {
		return err
	}
	code := exitError
	if s, ok := sig.(syscall.Signal); ok {
		code = 128 + int(s)
	}
	return withCode(code, fmt.Errorf("interrupted by %s: %s", signalName(sig), what))
}

func signalName(sig os.Signal) string {
	switch sig {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return sig.String()
}
