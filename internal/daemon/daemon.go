// Package daemon wires a loaded configuration into running parts: the
// store, one intake watcher (and one Sent watcher) per mailbox, the outbox
// and the deadlines; it runs each as a supervised loop (restarted after a
// panic, watched by the systemd watchdog) until its context ends, and
// shuts them down in order.
package daemon

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"gatewayd/internal/answer"
	"gatewayd/internal/backoff"
	"gatewayd/internal/clock"
	"gatewayd/internal/config"
	"gatewayd/internal/deadlines"
	"gatewayd/internal/intake"
	"gatewayd/internal/outbox"
	"gatewayd/internal/store"
	"gatewayd/internal/supervise"
	"gatewayd/internal/triage"
	"gatewayd/internal/version"
)

// Daemon is a configured, running gatewayd.
type Daemon struct {
	// Config is the configuration at start; Reload may swap in another
	// (see Current).
	Config *config.Config
	// LoadConfig reads the configuration again on Reload (nil: Reload
	// reloads the rules and templates only, and Config stays in force).
	LoadConfig func() (*config.Config, error)
	Log        *slog.Logger
	Now        clock.Clock    // nil: the system clock
	Backoff    intake.Backoff // zero: intake.DefaultBackoff
	Observer   intake.Observer
	// OutboxBackoff paces answer retries (zero: the configuration's).
	OutboxBackoff outbox.Backoff
	// RestartBackoff paces the restart of a loop after a panic (zero:
	// supervise.DefaultBackoff).
	RestartBackoff backoff.Backoff

	office    atomic.Pointer[office]
	config    atomic.Pointer[config.Config] // in force
	policy    atomic.Pointer[answer.Policy]
	store     *store.Store
	sender    *outbox.Sender
	scheduler *deadlines.Scheduler
	hearts    supervise.Hearts
	sup       *supervise.Supervisor

	mu    sync.Mutex      // Reload, and the mailboxes' loops
	ctx   context.Context // Run's: the loops a reload starts live under it
	boxes map[string]*mailboxLoops
}

// Open opens the store; Run then starts the mailboxes.
func (d *Daemon) Open(ctx context.Context) error {
	r, t, err := LoadOffice(d.Config)
	if err != nil {
		return err
	}
	if r == nil {
		d.Log.Warn("no rules_dir: every well-formed message is accepted, and none is answered")
	}
	if d.Config.Shadow {
		d.Log.Warn("shadow mode: answers are rendered and kept as held, none is sent")
	}
	d.office.Store(newOffice(r, t))
	d.config.Store(d.Config)
	st, err := store.Open(ctx, store.Options{
		StateDir: d.Config.StateDir, Office: d.Config.Office.Code,
		Format: d.Config.Protocol.Parsed, Now: d.Now,
	})
	if err != nil {
		return fmt.Errorf("opening store: %w", err)
	}
	d.store = st
	d.sender = &outbox.Sender{Store: d.store, Log: d.Log, Now: d.Now}
	d.sender.Init()
	d.scheduler = &deadlines.Scheduler{Store: st, Office: d.Office, Config: d.Config, Now: d.Now, Log: d.Log, Queued: d.sender.Poke}
	d.policy.Store(d.newPolicy(d.Config))
	return nil
}

// Current returns the configuration in force.
func (d *Daemon) Current() *config.Config {
	if c := d.config.Load(); c != nil {
		return c
	}
	return d.Config
}

// Deadlines returns the scheduler of the deadlines (the demo and tests run
// its passes on a simulated clock).
func (d *Daemon) Deadlines() *deadlines.Scheduler { return d.scheduler }

// Store returns the open store.
func (d *Daemon) Store() *store.Store { return d.store }

// SetClassifier swaps in another classifier (tests); batches already
// classified keep the old one's decisions.
func (d *Daemon) SetClassifier(c triage.Classifier) {
	o := *d.office.Load()
	o.classifier = c
	d.office.Store(&o)
}

// Run runs the loops until ctx ends — one intake watcher per mailbox, its
// Sent watcher, the outbox, the deadlines and the watchdog's feeder, each
// restarted after a panic — then waits for each to finish its batch in
// hand, and closes the store.
func (d *Daemon) Run(ctx context.Context) error {
	cfg := d.Current()
	d.sup = &supervise.Supervisor{Log: d.Log, Hearts: &d.hearts, Backoff: d.RestartBackoff}
	d.sender.Accounts, d.sender.Backoff = accounts(cfg, nil), d.outboxBackoff(cfg)
	d.sender.Window = func(it store.OutboxItem, now time.Time) time.Time {
		return deadlines.Window(d.office.Load().Rules, it, now)
	}
	if !cfg.Shadow {
		d.sup.Go(ctx, "outbox", func(ctx context.Context, h *supervise.Heart) {
			d.sender.Heart = h
			d.sender.Run(ctx)
		})
	}
	d.mu.Lock()
	d.ctx, d.boxes = ctx, map[string]*mailboxLoops{}
	for _, m := range cfg.Mailboxes {
		d.boxes[m.Name] = d.startMailbox(cfg, m)
	}
	d.mu.Unlock()
	d.sup.Go(ctx, "deadlines", func(ctx context.Context, h *supervise.Heart) {
		d.scheduler.Heart = h
		d.scheduler.Run(ctx)
	})
	stopWatchdog := d.startWatchdog(ctx)
	d.Log.Info("gatewayd running", "version", version.Short(), "config", cfg.File, "state_dir", cfg.StateDir,
		"rules_dir", cfg.RulesDir, "office", cfg.Office.Code, "mailboxes", len(cfg.Mailboxes))
	<-ctx.Done()
	d.mu.Lock() // no reload starts loops any more
	d.sup.Wait()
	d.mu.Unlock()
	stopWatchdog()
	d.Log.Info("gatewayd stopped")
	return d.store.Close()
}

// outboxBackoff is the pacing of answer retries.
func (d *Daemon) outboxBackoff(cfg *config.Config) outbox.Backoff {
	if d.OutboxBackoff != (outbox.Backoff{}) {
		return d.OutboxBackoff
	}
	return outbox.Backoff{Base: cfg.Outbox.MinBackoff, Max: cfg.Outbox.MaxBackoff}
}

// accounts are the SMTP accounts by mailbox name: cfg's, and those of
// old for mailboxes cfg no longer has (their queued answers still leave).
func accounts(cfg *config.Config, old map[string]*config.SMTP) map[string]*config.SMTP {
	out := map[string]*config.SMTP{}
	for name, a := range old {
		out[name] = a
	}
	for _, m := range cfg.Mailboxes {
		if m.SMTP != nil {
			out[m.Name] = m.SMTP
		}
	}
	return out
}

// newPolicy is the answers' policy over a configuration.
func (d *Daemon) newPolicy(cfg *config.Config) *answer.Policy {
	return &answer.Policy{Office: d.Office, Config: cfg, Now: d.Now, Log: d.Log}
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

// Office returns the rules and templates in force.
func (d *Daemon) Office() *answer.Office { return &d.office.Load().Office }
