// Package daemon wires a loaded configuration into running parts: the
// store, one intake watcher per mailbox, and the classifier; it runs them
// until its context ends and shuts them down in order.
package daemon

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"gatewayd/internal/config"
	"gatewayd/internal/intake"
	"gatewayd/internal/store"
	"gatewayd/internal/triage"
)

// Daemon is a configured, running gatewayd.
type Daemon struct {
	Config     *config.Config
	Log        *slog.Logger
	Now        func() time.Time // nil: time.Now
	Backoff    intake.Backoff   // zero: intake.DefaultBackoff
	Observer   intake.Observer
	classifier atomic.Pointer[triage.Classifier]
	store      *store.Store
}

// Open opens the store; Run then starts the mailboxes.
func (d *Daemon) Open(ctx context.Context) error {
	r, err := LoadRules(d.Config)
	if err != nil {
		return err
	}
	if r == nil {
		d.Log.Warn("no rules_dir: every well-formed message is accepted")
	}
	cls := classifierFor(r)
	d.classifier.Store(&cls)
	st, err := store.Open(ctx, store.Options{
		StateDir: d.Config.StateDir, Office: d.Config.Office.Code,
		Format: d.Config.Protocol.Parsed, Now: d.Now,
	})
	if err != nil {
		return fmt.Errorf("opening store: %w", err)
	}
	d.store = st
	return nil
}

// Store returns the open store.
func (d *Daemon) Store() *store.Store { return d.store }

// SetClassifier swaps in a new classifier; batches already classified keep
// the old one's decisions.
func (d *Daemon) SetClassifier(c triage.Classifier) { d.classifier.Store(&c) }

// Run runs one watcher per mailbox until ctx ends, then waits for each to
// finish its batch in hand, and closes the store.
func (d *Daemon) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, m := range d.Config.Mailboxes {
		w := &intake.Watcher{
			Mailbox: m, Store: d.store, Log: d.Log, Backoff: d.Backoff, Observer: d.Observer,
			Classifier: func() triage.Classifier { return *d.classifier.Load() },
		}
		wg.Go(func() { w.Run(ctx) })
	}
	d.Log.Info("gatewayd running", "office", d.Config.Office.Code, "mailboxes", len(d.Config.Mailboxes))
	<-ctx.Done()
	wg.Wait()
	d.Log.Info("gatewayd stopped")
	return d.store.Close()
}

// NewLogger builds the slog logger the configuration asks for.
func NewLogger(w io.Writer, c config.Log) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
