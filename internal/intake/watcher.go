// Package intake watches one IMAP folder per configured mailbox and brings
// every message into the store exactly once: fetched by UID, inspected,
// classified, recorded (with its protocol number) in one transaction, and
// only then moved to the folder of its outcome.
package intake

import (
	"context"
	"log/slog"
	"time"

	"gatewayd/internal/backoff"
	"gatewayd/internal/clock"
	"gatewayd/internal/config"
	"gatewayd/internal/health"
	"gatewayd/internal/mailparse"
	"gatewayd/internal/panics"
	"gatewayd/internal/store"
	"gatewayd/internal/supervise"
	"gatewayd/internal/triage"
)

// Backoff paces reconnections after failures.
type Backoff = backoff.Backoff

// DefaultBackoff is used when the Watcher sets none.
var DefaultBackoff = Backoff{Base: time.Second, Max: 5 * time.Minute}

// Observer is told of every message recorded and moved (the demo prints them).
type Observer func(mailbox string, r store.Result, f mailparse.Facts)

// Watcher owns the loop of one mailbox.
type Watcher struct {
	Mailbox    config.Mailbox
	Store      Store
	Classifier func() triage.Classifier // the current classifier (rules reload)
	Log        *slog.Logger
	Backoff    Backoff
	Observer   Observer
	Followup   store.FollowupFunc // the answers and the case that follow a recorded message; nil: none
	Committed  func()             // called after each batch is committed (wakes the outbox)
	Now        clock.Clock        // nil: the system clock
	// Counterparts are who else may answer on a case (the region, for a
	// question forwarded to it); nil: nobody.
	Counterparts func(c store.Case) []string
	// Health is told of each round synced and each session failed (nil: nobody).
	Health *health.Board
	// Shadow: the folder is EXAMINEd, never changed: no folder created,
	// no message moved or flagged (sightings remember what was seen).
	Shadow bool
	// Heart beats while the loop is alive (nil: no watchdog).
	Heart *supervise.Heart
}

// Run syncs the mailbox until ctx ends, reconnecting after any failure
// with the stored, jittered backoff. It never returns an error: failures
// are logged and recorded, and a failing mailbox blocks no other.
func (w *Watcher) Run(ctx context.Context) {
	if w.Backoff == (Backoff{}) {
		w.Backoff = DefaultBackoff
	}
	log := w.Log.With("mailbox", w.Mailbox.Name)
	for ctx.Err() == nil {
		w.Heart.Beat()
		st, err := w.Store.MailboxState(ctx, w.Mailbox.Name)
		if err != nil {
			log.Error("reading mailbox state", "err", err)
			st.Attempts, st.NextAttempt = 1, w.Now.Now().Add(w.Backoff.Next(1))
		}
		until := st.NextAttempt.Sub(w.Now.Now())
		w.Heart.Wait(until)
		if !clock.Sleep(ctx, until) {
			return
		}
		err = w.guardedSession(ctx, log)
		if ctx.Err() != nil {
			log.Info("mailbox stopped")
			return
		}
		w.Health.Failed(w.Mailbox.Name, err)
		attempts := st.Attempts + 1
		wait := w.Backoff.Next(attempts)
		log.Warn("mailbox session failed, will retry", "err", err, "attempt", attempts, "retry_in", wait.Round(time.Millisecond))
		if rerr := w.Store.RecordFailure(ctx, w.Mailbox.Name, attempts, w.Now.Now().Add(wait), err); rerr != nil {
			log.Error("recording failure", "err", rerr)
			w.Heart.Wait(wait)
			clock.Sleep(ctx, wait) // the store is failing too: do not spin
		}
	}
}

// guardedSession runs one session, turning a panic into an error.
func (w *Watcher) guardedSession(ctx context.Context, log *slog.Logger) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = panics.Recovered(log, "intake", "panic in mailbox session", v)
		}
	}()
	s := &session{w: w, log: log}
	return s.run(ctx)
}
