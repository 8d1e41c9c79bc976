package daemon

import (
	"context"
	"reflect"

	"gatewayd/internal/config"
	"gatewayd/internal/deadlines"
	"gatewayd/internal/intake"
	"gatewayd/internal/mailparse"
	"gatewayd/internal/rules"
	"gatewayd/internal/sentwatch"
	"gatewayd/internal/store"
	"gatewayd/internal/supervise"
	"gatewayd/internal/triage"
)

// mailboxLoops are the running loops of one mailbox: its intake watcher
// and, where rules give cases, its Sent watcher.
type mailboxLoops struct {
	cfg    config.Mailbox
	sent   bool
	cancel context.CancelFunc
	done   []<-chan struct{} // closed when each loop has returned
}

// startMailbox starts the loops of mailbox m. Call it with d.mu held, and
// only once the mailbox's previous loops have returned: two watchers never
// work on one mailbox's state at once.
func (d *Daemon) startMailbox(cfg *config.Config, m config.Mailbox) *mailboxLoops {
	ctx, cancel := context.WithCancel(d.ctx)
	l := &mailboxLoops{cfg: m, sent: watchesSent(cfg, m), cancel: cancel}
	l.done = append(l.done, d.sup.Go(ctx, "intake "+m.Name, func(ctx context.Context, h *supervise.Heart) {
		w := d.watcher(m)
		w.Heart = h
		w.Run(ctx)
	}))
	if l.sent {
		l.done = append(l.done, d.sup.Go(ctx, "sent "+m.Name, func(ctx context.Context, h *supervise.Heart) {
			sw := &sentwatch.Watcher{Mailbox: m, Store: d.store, Office: d.Office, Log: d.Log, Backoff: d.Backoff, Heart: h}
			sw.Run(ctx)
		}))
	}
	return l
}

// stop cancels the loops; they return after the batch in hand.
func (l *mailboxLoops) stop() { l.cancel() }

// wait waits until the loops have returned.
func (l *mailboxLoops) wait() {
	for _, c := range l.done {
		<-c
	}
}

// watchesSent: the Sent folder is watched only where rules give cases to
// close.
func watchesSent(cfg *config.Config, m config.Mailbox) bool {
	return m.WatchSent() && cfg.RulesDir != ""
}

// sameMailbox reports whether a mailbox's settings are unchanged (its
// loops can go on): everything but where it stands in the file; CA pools
// by their certificates.
func sameMailbox(a, b config.Mailbox) bool {
	if !samePool(a.IMAP, b.IMAP) || (a.SMTP == nil) != (b.SMTP == nil) || a.SMTP != nil && !samePool(a.SMTP.Server, b.SMTP.Server) {
		return false
	}
	a.Line, b.Line = 0, 0
	a.IMAP.RootCAs, b.IMAP.RootCAs = nil, nil
	if a.SMTP != nil {
		as, bs := *a.SMTP, *b.SMTP
		as.RootCAs, bs.RootCAs = nil, nil
		a.SMTP, b.SMTP = &as, &bs
	}
	return reflect.DeepEqual(a, b)
}

func samePool(a, b config.Server) bool {
	if a.RootCAs == nil || b.RootCAs == nil {
		return a.RootCAs == b.RootCAs
	}
	return a.RootCAs.Equal(b.RootCAs)
}

// observe counts a recorded message in the metrics and tells the
// Observer, if any.
func (d *Daemon) observe(mailbox string, r store.Result, f mailparse.Facts) {
	d.metrics.Observe(mailbox, r)
	if d.Observer != nil {
		d.Observer(mailbox, r, f)
	}
}

// watcher is the intake watcher of mailbox m, wired to the office, the
// answers' policy and the deadlines in force.
func (d *Daemon) watcher(m config.Mailbox) *intake.Watcher {
	return &intake.Watcher{
		Mailbox: m, Store: d.store, Log: d.Log, Backoff: d.Backoff, Observer: d.observe, Health: d.board,
		Shadow:     d.Current().Shadow, // only a restart changes it
		Classifier: func() triage.Classifier { return d.office.Load().classifier },
		Followup: func(r store.Result, it store.Item) store.Followup {
			rs := d.office.Load().Rules
			f := store.Followup{Mails: d.policy.Load().Answers(m, r, it), Case: deadlines.NewCase(rs, m.Address, r, it)}
			if p := it.Decision.FollowsUp; p != "" && !r.SeenAgain {
				f.Then = deadlines.FollowupEffect(rs, p, it.Facts.MessageID, it.InternalDate, it.Decision.RegionAnswer)
			}
			return f
		},
		Committed: d.sender.Poke, Now: d.Now,
		Counterparts: func(c store.Case) []string {
			rs := d.office.Load().Rules
			if m, ok := rs.Mailbox(c.Address); ok && rs.Deadlines != nil && store.LadderKind(c.Ladder) == rules.LadderRegion {
				return rs.Deadlines.Counterparts(m)
			}
			return nil
		},
	}
}
