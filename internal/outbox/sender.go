// Package outbox delivers the queued answers with go-smtp: one goroutine
// owns the queue, waking at the next stored due time or when told that
// answers were enqueued. Temporary failures (4xx, timeouts, refused
// connections) retry with stored, jittered, capped backoff; permanent ones
// (5xx) end the answer as failed, recorded, never retried by themselves.
package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"gatewayd/internal/clock"

	"github.com/emersion/go-smtp"

	"gatewayd/internal/backoff"
	"gatewayd/internal/config"
	"gatewayd/internal/store"
	"gatewayd/internal/supervise"
)

// Backoff paces retries after temporary failures.
type Backoff = backoff.Backoff

// DefaultBackoff: 30 s doubling to 1 h.
var DefaultBackoff = Backoff{Base: 30 * time.Second, Max: time.Hour}

// Expiry is how long an answer keeps being retried after temporary
// failures before it is given up as failed (as Postfix's queue lifetime).
const Expiry = 5 * 24 * time.Hour

// Queue is what the sender needs of the store: the next mail due, and the
// record of each attempt (stored before it is made).
type Queue interface {
	NextAnswer(ctx context.Context) (it store.OutboxItem, due bool, ok bool, err error)
	BeginAttempt(ctx context.Context, id int64, next time.Time) error
	EndAttempt(ctx context.Context, it store.OutboxItem, state, errText string) error
	Postpone(ctx context.Context, id int64, at time.Time) error
}

// Sender owns the outbox loop.
type Sender struct {
	Store    Queue
	Accounts map[string]*config.SMTP // by mailbox name
	Log      *slog.Logger
	Backoff  Backoff
	Now      clock.Clock // nil: the system clock
	// Window says when a mail may leave: a time after now holds it until
	// then (deadline mails go out only on working days in office hours,
	// retries included); nil: any time.
	Window func(it store.OutboxItem, now time.Time) time.Time
	// Heart beats while the loop is alive (nil: no watchdog).
	Heart *supervise.Heart
	wake  chan struct{}
	mu    sync.Mutex // Accounts and Backoff, which Configure changes
	// unrecorded are answers the SMTP server accepted that the store has
	// not yet recorded as sent: nothing is sent before they are recorded,
	// so their rows, still queued, cannot be sent again.
	unrecorded []store.OutboxItem
}

// Configure swaps in other accounts and pacing (a configuration reload);
// the answer being sent finishes with those it started with.
func (s *Sender) Configure(accounts map[string]*config.SMTP, b Backoff) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Accounts = accounts
	if b != (Backoff{}) {
		s.Backoff = b
	}
}

// AccountsInUse returns the accounts in force.
func (s *Sender) AccountsInUse() map[string]*config.SMTP {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Accounts
}

// settings returns the account of a mailbox and the pacing in force.
func (s *Sender) settings(mailbox string) (*config.SMTP, Backoff) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Accounts[mailbox], s.Backoff
}

// Poke tells the sender that answers were enqueued.
func (s *Sender) Poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Init prepares the sender; call it before Run and before any Poke.
func (s *Sender) Init() {
	s.wake = make(chan struct{}, 1)
	if s.Backoff == (Backoff{}) {
		s.Backoff = DefaultBackoff
	}
}

// idleCheck bounds the sender's sleep: mail queued by another process is
// sent within it.
const idleCheck = 5 * time.Second

// Run delivers until ctx ends.
func (s *Sender) Run(ctx context.Context) {
	log := s.Log.With("component", "outbox")
	for ctx.Err() == nil {
		s.Heart.Beat()
		wait, err := s.step(ctx, log)
		if err != nil {
			log.Error("outbox", "err", err)
			wait = storePause // the store is failing: do not spin
		}
		if wait > 0 {
			// Operators' commands queue mail from another process (outbox
			// retry, release, protocol annul, redecide): look again soon.
			wait = min(wait, idleCheck)
			s.Heart.Wait(wait)
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
			case <-s.wake:
			case <-t.C:
			}
			t.Stop()
		}
	}
	for tries := 0; len(s.unrecorded) > 0 && tries < 3; tries++ { // stopping: a last try
		if err := s.recordAccepted(context.WithoutCancel(ctx), log); err != nil {
			clock.Sleep(context.WithoutCancel(ctx), time.Second)
		}
	}
	for _, it := range s.unrecorded {
		log.Error("an answer the server accepted could not be recorded before stopping: it will be sent again",
			"outbox", it.ID, "message_id", it.MessageID)
	}
}

// storePause is how long the sender waits after the store failed.
var storePause = 5 * time.Second

// recordAccepted records the answers the server accepted and the store
// refused to record, oldest first.
func (s *Sender) recordAccepted(ctx context.Context, log *slog.Logger) error {
	for len(s.unrecorded) > 0 {
		it := s.unrecorded[0]
		if err := s.Store.EndAttempt(ctx, it, store.OutSent, ""); err != nil {
			return fmt.Errorf("recording answer %d, which the server accepted (nothing is sent until it is recorded): %w", it.ID, err)
		}
		s.unrecorded = s.unrecorded[1:]
		log.Info("a sent answer recorded at last", "outbox", it.ID, "message_id", it.MessageID)
	}
	return nil
}

// step sends the answer due first, if any, and says how long to wait.
func (s *Sender) step(ctx context.Context, log *slog.Logger) (time.Duration, error) {
	if err := s.recordAccepted(ctx, log); err != nil {
		return 0, err
	}
	it, due, ok, err := s.Store.NextAnswer(ctx)
	if err != nil {
		return 0, err
	}
	if !ok {
		return time.Minute, nil
	}
	if !due {
		return it.NextAttempt.Sub(s.Now.Now()), nil
	}
	if s.Window != nil {
		if at := s.Window(it, s.Now.Now()); at.After(s.Now.Now()) {
			log.Info("mail held until office hours", "outbox", it.ID, "kind", it.Kind, "until", at)
			return 0, s.Store.Postpone(ctx, it.ID, at)
		}
	}
	acct, b := s.settings(it.Mailbox)
	if err := s.Store.BeginAttempt(ctx, it.ID, s.Now.Now().Add(b.Next(it.Attempts+1))); err != nil {
		return 0, err
	}
	state, errText, quit := s.attempt(ctx, acct, it)
	if quit != nil {
		defer quit() // after the record: a crash before it resends the same Message-ID
	}
	if ctx.Err() != nil && state != store.OutSent {
		return 0, nil // shutting down: the stored next attempt stands
	}
	attrs := []any{"outbox", it.ID, "mailbox", it.Mailbox, "kind", it.Kind, "message_id", it.MessageID, "attempt", it.Attempts + 1}
	switch state {
	case store.OutSent:
		log.Info("answer sent", attrs...)
	case store.OutFailed:
		log.Warn("answer failed for good", append(attrs, "err", errText)...)
	default:
		log.Warn("answer not sent, will retry", append(attrs, "err", errText)...)
	}
	err = s.Store.EndAttempt(context.WithoutCancel(ctx), it, state, errText)
	if err != nil && state == store.OutSent {
		// Accepted by the server: recorded before anything else is sent,
		// however long the store takes (a busy or full disk clears).
		s.unrecorded = append(s.unrecorded, it)
		return 0, fmt.Errorf("recording answer %d, which the server accepted (nothing is sent until it is recorded): %w", it.ID, err)
	}
	return 0, err
}

// attempt sends one answer and classifies the outcome.
func (s *Sender) attempt(ctx context.Context, acct *config.SMTP, it store.OutboxItem) (state, errText string, quit func()) {
	if acct == nil {
		return store.OutFailed, fmt.Sprintf("mailbox %s has no smtp account configured", it.Mailbox), nil
	}
	quit, err := send(ctx, acct, it)
	switch {
	case err == nil:
		return store.OutSent, "", quit
	case Permanent(err):
		return store.OutFailed, err.Error(), nil
	case s.Now.Now().Sub(it.InQueueSince()) > Expiry:
		return store.OutFailed, "given up after " + Expiry.String() + ": " + err.Error(), nil
	}
	return store.OutQueued, err.Error(), nil
}

// Permanent reports a 5xx SMTP reply: the answer must not be retried.
func Permanent(err error) bool {
	var se *smtp.SMTPError
	return errors.As(err, &se) && se.Code >= 500 && se.Code < 600
}
