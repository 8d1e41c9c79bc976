package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"gatewayd/internal/supervise"
)

// signalContext is cancelled by SIGTERM or SIGINT; a second signal exits at
// once. SIGHUP calls reload. The signals are handled by a supervised loop:
// a panic (in a reload) is logged, counted, and handling goes on.
func signalContext(log *slog.Logger, reload func()) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	h := &signals{ch: make(chan os.Signal, 2), cancel: cancel, log: log, reload: reload}
	signal.Notify(h.ch, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	lctx, stopLoop := context.WithCancel(context.Background()) // outlives ctx: a second signal must be heard
	sup := &supervise.Supervisor{Log: log}
	sup.Go(lctx, "signals", h.loop)
	return ctx, func() { signal.Stop(h.ch); stopLoop(); cancel() }
}

// signals is the state of the signal handling.
type signals struct {
	ch       chan os.Signal
	cancel   context.CancelFunc
	log      *slog.Logger
	reload   func()
	stopping bool
}

func (s *signals) loop(ctx context.Context, h *supervise.Heart) {
	for {
		select {
		case <-ctx.Done():
			return
		case sig := <-s.ch:
			s.handle(sig)
		}
	}
}

func (s *signals) handle(sig os.Signal) {
	switch {
	case sig == syscall.SIGHUP:
		s.log.Info("SIGHUP: reloading the configuration and the rules")
		s.reload()
	case s.stopping:
		s.log.Info("second signal: exiting now", "signal", sig.String())
		os.Exit(exitFailure)
	default:
		s.stopping = true
		s.log.Info("signal received: finishing the batch in hand, then stopping", "signal", sig.String())
		s.cancel()
		go func() { // a stuck shutdown must not outlive systemd's patience
			time.Sleep(60 * time.Second)
			s.log.Info("shutdown took over 60s: exiting")
			os.Exit(exitFailure)
		}()
	}
}
