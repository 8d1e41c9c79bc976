// Package daemon wires a loaded configuration into running parts: the
// store, one intake watcher (and one Sent watcher) per mailbox, the outbox,
// the deadlines, the daily registers and the HTTP endpoints; it runs each
// as a supervised loop (restarted after a panic, watched by the systemd
// watchdog) until its context ends, and shuts them down in order.
package daemon

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"gatewayd/internal/answer"
	"gatewayd/internal/backoff"
	"gatewayd/internal/clock"
	"gatewayd/internal/config"
	"gatewayd/internal/deadlines"
	"gatewayd/internal/health"
	"gatewayd/internal/intake"
	"gatewayd/internal/logging"
	"gatewayd/internal/metrics"
	"gatewayd/internal/outbox"
	"gatewayd/internal/panics"
	"gatewayd/internal/register"
	"gatewayd/internal/store"
	"gatewayd/internal/supervise"
	"gatewayd/internal/triage"
	"gatewayd/internal/version"
	"gatewayd/internal/workdays"
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
	// HTTPReady, if set, is told the address /metrics and /healthz are
	// served on (tests listen on port 0).
	HTTPReady func(net.Addr)

	office    atomic.Pointer[office]
	config    atomic.Pointer[config.Config] // in force
	policy    atomic.Pointer[answer.Policy]
	store     *store.Store
	sender    *outbox.Sender
	scheduler *deadlines.Scheduler
	register  *register.Producer
	board     *health.Board
	metrics   *metrics.Metrics
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
		Format: d.Config.Protocol.Parsed, Now: d.Now, Shadow: d.Config.Shadow,
	})
	if err != nil {
		return fmt.Errorf("opening store: %w", err)
	}
	d.store = st
	d.sender = &outbox.Sender{Store: d.store, Log: d.Log, Now: d.Now}
	d.sender.Init()
	d.scheduler = &deadlines.Scheduler{Store: st, Office: d.Office, Config: d.Config, Now: d.Now, Log: d.Log, Queued: d.sender.Poke}
	d.policy.Store(d.newPolicy(d.Config))
	names := make([]string, 0, len(d.Config.Mailboxes))
	for _, m := range d.Config.Mailboxes {
		names = append(names, m.Name)
	}
	d.board = health.NewBoard(d.Now.Now, names...)
	d.metrics = metrics.New(st, d.board, d.Now.Now, func() float64 { return float64(panics.Count()) }, d.Log)
	d.register = &register.Producer{Store: st, StateDir: d.Config.StateDir, Office: d.registerOffice,
		Handover: d.Config.Register, Now: d.Now, Log: d.Log, Producer: "gatewayd " + Version()}
	if err := st.SetShadow(ctx, d.Config.Shadow); err != nil {
		st.Close()
		return err
	}
	if !d.Config.Shadow {
		if n, err := st.EndShadowCases(ctx); err != nil {
			st.Close()
			return fmt.Errorf("closing the shadow trial's cases: %w", err)
		} else if n > 0 {
			d.Log.Warn("live mode: the cases of the shadow trial are closed, their held mails stay held", "cases", n)
		}
	}
	return nil
}

// Current returns the configuration in force.
func (d *Daemon) Current() *config.Config {
	if c := d.config.Load(); c != nil {
		return c
	}
	return d.Config
}

// lateHandovers are the pending days whose handover is past the working
// day after them (the national calendar without rules, as the report's).
func (d *Daemon) lateHandovers(pending []store.RegisterDay, now time.Time) []store.RegisterDay {
	cal := nationalCalendar
	if r := d.office.Load().Rules; r != nil {
		cal = r.Calendar
	}
	return register.Late(pending, cal.NextWorkday, now)
}

// nationalCalendar is the working-day calendar without an office's rules:
// Monday to Friday less Italy's national holidays.
var nationalCalendar = workdays.New(workdays.Options{})

// Register returns the producer of the daily registers (the demo runs it
// on a simulated clock).
func (d *Daemon) Register() *register.Producer { return d.register }

// registerOffice names the office in the daily registers: the rules'
// office with its AOO code, else the configuration's.
func (d *Daemon) registerOffice() register.Office {
	if r := d.office.Load().Rules; r != nil {
		return register.Office{Name: r.Office.Name, Code: r.Office.Code, AOO: r.Office.AOO}
	}
	cfg := d.Current()
	return register.Office{Name: cfg.Office.Name, Code: cfg.Office.Code}
}

// Version is the module version of the running binary.
func Version() string { return version.Read().Module }

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
// Sent watcher, the outbox, the deadlines, the daily registers, the HTTP
// endpoints and the watchdog's feeder, each restarted after a panic — then
// waits for each to finish its batch in hand, and closes the store.
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
	if cfg.HTTP.Listen != "none" {
		srv := &health.Server{Board: d.board, Stats: d.store.Stats, StaleAfter: cfg.HTTP.StaleAfter, Late: d.lateHandovers,
			Metrics: promhttp.HandlerFor(d.metrics.Registry, promhttp.HandlerOpts{}), Now: d.Now.Now, Log: d.Log}
		d.sup.Go(ctx, "http", func(ctx context.Context, h *supervise.Heart) {
			h.Park() // net/http serves each request on its own goroutine, and recovers its panics
			srv.Run(ctx, cfg.HTTP.Listen, d.HTTPReady)
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
	d.sup.Go(ctx, "register", func(ctx context.Context, h *supervise.Heart) {
		d.register.Heart = h
		d.register.Run(ctx)
	})
	d.sup.Go(ctx, "retention", d.retain)
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

// NewLogger builds the slog logger the configuration asks for: times in
// Europe/Rome, personal data masked at info level (internal/logging).
func NewLogger(w io.Writer, c config.Log) *slog.Logger { return logging.New(w, c.Level, c.Format) }

// Office returns the rules and templates in force.
func (d *Daemon) Office() *answer.Office { return &d.office.Load().Office }
