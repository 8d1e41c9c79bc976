// Package daemon wires a loaded configuration into running parts: the
// store, one intake watcher per mailbox, and the classifier; it runs them
// until its context ends and shuts them down in order.
package daemon

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"gatewayd/internal/deadlines"
	"gatewayd/internal/health"
	"gatewayd/internal/logging"
	"gatewayd/internal/mailparse"
	"gatewayd/internal/metrics"
	"gatewayd/internal/register"
	"gatewayd/internal/rules"
	"gatewayd/internal/sentwatch"

	"gatewayd/internal/answer"

	"gatewayd/internal/clock"

	"gatewayd/internal/config"
	"gatewayd/internal/intake"
	"gatewayd/internal/outbox"
	"gatewayd/internal/store"
	"gatewayd/internal/triage"
)

// Daemon is a configured, running gatewayd.
type Daemon struct {
	Config   *config.Config
	Log      *slog.Logger
	Now      clock.Clock    // nil: the system clock
	Backoff  intake.Backoff // zero: intake.DefaultBackoff
	Observer intake.Observer
	// OutboxBackoff paces answer retries (zero: outbox.DefaultBackoff).
	OutboxBackoff outbox.Backoff
	office        atomic.Pointer[office]
	store         *store.Store
	sender        *outbox.Sender
	scheduler     *deadlines.Scheduler
	register      *register.Producer
	board         *health.Board
	metrics       *metrics.Metrics
	// HTTPReady, if set, is told the address /metrics and /healthz are
	// served on (tests listen on port 0).
	HTTPReady func(net.Addr)
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
	d.scheduler = &deadlines.Scheduler{Store: st, Office: func() *answer.Office { return &d.office.Load().Office },
		Config: d.Config, Now: d.Now, Log: d.Log, Queued: d.sender.Poke}
	names := make([]string, 0, len(d.Config.Mailboxes))
	for _, m := range d.Config.Mailboxes {
		names = append(names, m.Name)
	}
	d.board = health.NewBoard(d.Now.Now, names...)
	d.metrics = metrics.New(st, d.board, d.Now.Now, nil, d.Log)
	d.register = &register.Producer{Store: st, StateDir: d.Config.StateDir, Office: d.registerOffice,
		Handover: d.Config.Register, Now: d.Now, Log: d.Log, Producer: "gatewayd " + Version()}
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

// lateHandovers are the pending days whose handover is past the working
// day after them (Monday to Friday without rules).
func (d *Daemon) lateHandovers(pending []store.RegisterDay, now time.Time) []store.RegisterDay {
	next := func(day time.Time) time.Time {
		for day = day.AddDate(0, 0, 1); day.Weekday() == time.Saturday || day.Weekday() == time.Sunday; day = day.AddDate(0, 0, 1) {
		}
		return day
	}
	if r := d.office.Load().Rules; r != nil {
		next = r.Calendar.NextWorkday
	}
	return register.Late(pending, next, now)
}

// Register returns the producer of the daily registers (the demo runs it
// on a simulated clock).
func (d *Daemon) Register() *register.Producer { return d.register }

// registerOffice names the office in the daily registers: the rules'
// office with its AOO code, else the configuration's.
func (d *Daemon) registerOffice() register.Office {
	if r := d.office.Load().Rules; r != nil {
		return register.Office{Name: r.Office.Name, Code: r.Office.Code, AOO: r.Office.AOO}
	}
	return register.Office{Name: d.Config.Office.Name, Code: d.Config.Office.Code}
}

// Version is the module version of the running binary.
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok || bi.Main.Version == "" {
		return "(devel)"
	}
	return bi.Main.Version
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

// Run runs one watcher per mailbox until ctx ends, then waits for each to
// finish its batch in hand, and closes the store.
func (d *Daemon) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	accounts := map[string]*config.SMTP{}
	for _, m := range d.Config.Mailboxes {
		accounts[m.Name] = m.SMTP
	}
	backoff := d.OutboxBackoff
	if backoff == (outbox.Backoff{}) {
		backoff = outbox.Backoff{Base: d.Config.Outbox.MinBackoff, Max: d.Config.Outbox.MaxBackoff}
	}
	d.sender.Accounts, d.sender.Backoff = accounts, backoff
	d.sender.Window = func(it store.OutboxItem, now time.Time) time.Time {
		return deadlines.Window(d.office.Load().Rules, it, now)
	}
	if !d.Config.Shadow {
		wg.Go(func() { d.sender.Run(ctx) })
	}
	if d.Config.HTTP.Listen != "none" {
		srv := &health.Server{Board: d.board, Stats: d.store.Stats, StaleAfter: d.Config.HTTP.StaleAfter, Late: d.lateHandovers,
			Metrics: promhttp.HandlerFor(d.metrics.Registry, promhttp.HandlerOpts{}), Now: d.Now.Now, Log: d.Log}
		wg.Go(func() { srv.Run(ctx, d.Config.HTTP.Listen, d.HTTPReady) })
	}
	observe := func(mailbox string, r store.Result, f mailparse.Facts) {
		d.metrics.Observe(mailbox, r)
		if d.Observer != nil {
			d.Observer(mailbox, r, f)
		}
	}
	policy := &answer.Policy{Office: func() *answer.Office { return &d.office.Load().Office }, Config: d.Config, Now: d.Now, Log: d.Log}
	for _, m := range d.Config.Mailboxes {
		w := &intake.Watcher{
			Mailbox: m, Store: d.store, Log: d.Log, Backoff: d.Backoff, Observer: observe, Health: d.board,
			Classifier: func() triage.Classifier { return d.office.Load().classifier },
			Followup: func(r store.Result, it store.Item) store.Followup {
				rs := d.office.Load().Rules
				f := store.Followup{Mails: policy.Answers(m, r, it), Case: deadlines.NewCase(rs, m.Address, r, it)}
				if p := it.Decision.FollowsUp; p != "" && !r.SeenAgain {
					f.Then = deadlines.FollowupEffect(rs, p, it.Facts.MessageID, it.InternalDate, it.Decision.RegionAnswer)
				}
				return f
			},
			Committed: d.sender.Poke, Now: d.Now, Shadow: d.Config.Shadow,
			Counterparts: func(c store.Case) []string {
				rs := d.office.Load().Rules
				if m, ok := rs.Mailbox(c.Address); ok && rs.Deadlines != nil && store.LadderKind(c.Ladder) == rules.LadderRegion {
					return rs.Deadlines.Counterparts(m)
				}
				return nil
			},
		}
		wg.Go(func() { w.Run(ctx) })
	}
	for _, m := range d.Config.Mailboxes {
		if m.WatchSent() && d.Config.RulesDir != "" { // without rules there are no cases to close
			sw := &sentwatch.Watcher{Mailbox: m, Store: d.store, Office: func() *answer.Office { return &d.office.Load().Office },
				Log: d.Log, Backoff: d.Backoff}
			wg.Go(func() { sw.Run(ctx) })
		}
	}
	wg.Go(func() { d.scheduler.Run(ctx) })
	wg.Go(func() { d.register.Run(ctx) })
	wg.Go(func() { d.retain(ctx) })
	d.Log.Info("gatewayd running", "office", d.Config.Office.Code, "mailboxes", len(d.Config.Mailboxes))
	<-ctx.Done()
	wg.Wait()
	d.Log.Info("gatewayd stopped")
	return d.store.Close()
}

// NewLogger builds the slog logger the configuration asks for: times in
// Europe/Rome, personal data masked at info level (internal/logging).
func NewLogger(w io.Writer, c config.Log) *slog.Logger { return logging.New(w, c.Level, c.Format) }

// Office returns the rules and templates in force.
func (d *Daemon) Office() *answer.Office { return &d.office.Load().Office }
