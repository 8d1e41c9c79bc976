package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"gatewayd/internal/clock"
	"gatewayd/internal/triage"
)

// Outbox states.
const (
	OutQueued     = "queued"
	OutHeld       = "held"       // shadow mode: rendered, kept, never sent
	OutSent       = "sent"       // accepted by the SMTP server
	OutFailed     = "failed"     // refused for good (5xx); never retried by itself
	OutSuppressed = "suppressed" // loop protection: not to be sent
)

// Mail is a mail to enqueue: an answer to a message, or (later) a
// deadline mail about a case. It is rendered before it is enqueued; the
// store only records it, applies the daily limit and keeps it queued.
type Mail struct {
	Message   int64 // the message the mail is about
	Case      int64 // the case a deadline mail is about (0: an answer)
	Cc        []string
	Mailbox   string // the configured mailbox whose SMTP account sends it
	Kind      string // accettazione, rifiuto, …
	MessageID string // deterministic: a resend is recognisable
	From, To  string
	Raw       []byte
	State     string // OutQueued, OutHeld or OutSuppressed
	Reason    string // why held or suppressed
	// DailyLimit caps the mails to one recipient per day (0: none); past
	// it the mail is recorded as suppressed. Mails to an authenticated
	// sender and to an unauthenticated one are counted apart, so that
	// forged mail cannot use up a real sender's answers.
	DailyLimit int
	// Authenticated: the recipient is a sender that was authenticated.
	Authenticated bool
}

// Tx is a transaction of the store's: what is done through it is
// committed together, or not at all.
type Tx struct {
	tx         *sql.Tx
	now        time.Time
	lastOutbox int64 // the row of the last mail enqueued
	// openChecked is set once registerOpen found the register open at
	// now: the answer holds for the transaction (its time is fixed) until
	// it records a daily register itself.
	openChecked bool
}

// Update runs f in one write transaction, committed when f returns nil.
func (s *Store) Update(ctx context.Context, f func(ctx context.Context, tx *Tx) error) error {
	return update(ctx, s.db, s.now, f)
}

// update runs f in a write transaction whose time is read once the write
// lock is held (_txlock=immediate): transactions' times follow their
// commit order, so a daily register closed at midnight cannot miss a
// registration that waited for the lock.
func update(ctx context.Context, db *sql.DB, now func() time.Time, f func(ctx context.Context, tx *Tx) error) error {
	ctx = context.WithoutCancel(ctx) // finished once begun: shutdown rolls back only what was not begun
	sqltx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	defer sqltx.Rollback()
	if err := f(ctx, &Tx{tx: sqltx, now: now()}); err != nil {
		return err
	}
	if err := sqltx.Commit(); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	return nil
}

// Enqueue records a mail in the transaction, applying the daily limit per
// recipient: the one way into the outbox.
func (t *Tx) Enqueue(ctx context.Context, m Mail) error {
	tx, now := t.tx, t.now
	if m.State == OutQueued && m.DailyLimit > 0 {
		var n int
		dayStart := startOfDay(now)
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM outbox WHERE lower(rcpt) = lower(?) AND authenticated = ?
			AND created_at >= ? AND state IN ('queued', 'sent', 'failed', 'held')`, m.To, m.Authenticated, ts(dayStart)).Scan(&n); err != nil {
			return fmt.Errorf("counting mails: %w", err)
		}
		if n >= m.DailyLimit {
			m.State, m.Reason = OutSuppressed, fmt.Sprintf("rate limit: %d answers to this sender today", n)
		}
	}
	var caseID any
	if m.Case != 0 {
		caseID = m.Case
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO outbox (message, mailbox, kind, message_id, mail_from, rcpt, body, state, reason,
		next_attempt, created_at, authenticated, case_id, cc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.Message, m.Mailbox, m.Kind, m.MessageID, m.From, m.To, append([]byte{}, m.Raw...), m.State, m.Reason, ts(now), ts(now),
		m.Authenticated, caseID, strings.Join(m.Cc, ","))
	if err != nil {
		return fmt.Errorf("enqueueing mail: %w", err)
	}
	t.lastOutbox, _ = res.LastInsertId()
	kind := map[string]string{OutQueued: "answer-queued", OutHeld: "answer-held", OutSuppressed: "answer-suppressed"}[m.State]
	return addEvents(ctx, tx, now, m.Message, m.Mailbox, event{kind, map[string]any{
		"kind": m.Kind, "message_id": m.MessageID, "to": m.To, "reason": m.Reason, "authenticated": m.Authenticated}})
}

func startOfDay(t time.Time) time.Time { return clock.Day(t) }

// OutboxItem is one answer of the outbox.
type OutboxItem struct {
	ID          int64
	Message     int64
	Mailbox     string
	Kind        string
	MessageID   string
	From, To    string
	Raw         []byte
	State       string
	Reason      string
	Attempts    int
	NextAttempt time.Time
	LastError   string
	CreatedAt   time.Time
	QueuedAt    time.Time // put in the queue again by an operator (zero: never)
	SentAt      time.Time
	Cc          []string
	Case        int64
	Protocol    string // the protocol number of the message it is about ('' for none)
	Delivery    string // the furthest PEC receipt: accettazione, avvenuta-consegna, errore-consegna …
	// Undelivered: a signed PEC receipt said the answer was not delivered, for good.
	Undelivered bool
}

// InQueueSince is when the mail last entered the queue: created, or put
// back by an operator.
func (it OutboxItem) InQueueSince() time.Time {
	if it.QueuedAt.After(it.CreatedAt) {
		return it.QueuedAt
	}
	return it.CreatedAt
}

const outboxCols = `id, message, mailbox, kind, message_id, mail_from, rcpt, body, state, reason, attempts, next_attempt,
	last_error, created_at, queued_at, sent_at, delivery, undelivered, cc, coalesce(case_id, 0),
	coalesce((SELECT label FROM protocols WHERE protocols.message = outbox.message), '')`

func scanOutbox(row interface{ Scan(...any) error }) (OutboxItem, error) {
	var it OutboxItem
	var next, created, queued, sent, cc string
	err := row.Scan(&it.ID, &it.Message, &it.Mailbox, &it.Kind, &it.MessageID, &it.From, &it.To, &it.Raw, &it.State,
		&it.Reason, &it.Attempts, &next, &it.LastError, &created, &queued, &sent, &it.Delivery, &it.Undelivered, &cc, &it.Case, &it.Protocol)
	if cc != "" {
		it.Cc = strings.Split(cc, ",")
	}
	it.NextAttempt, it.CreatedAt, it.QueuedAt, it.SentAt = parseTS(next), parseTS(created), parseTS(queued), parseTS(sent)
	return it, err
}

// NextAnswer returns the queued answer due first, and whether it is due
// now; ok is false when the queue is empty.
func (s *Store) NextAnswer(ctx context.Context) (it OutboxItem, due bool, ok bool, err error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+outboxCols+` FROM outbox WHERE state = 'queued' ORDER BY next_attempt, id LIMIT 1`)
	it, err = scanOutbox(row)
	if errors.Is(err, sql.ErrNoRows) {
		return it, false, false, nil
	}
	if err != nil {
		return it, false, false, fmt.Errorf("reading outbox: %w", err)
	}
	return it, !it.NextAttempt.After(s.now()), true, nil
}

// BeginAttempt stores the attempt and when the next may come, before the
// attempt: a crash while sending cannot cause a hot loop.
func (s *Store) BeginAttempt(ctx context.Context, id int64, next time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE outbox SET attempts = attempts + 1, next_attempt = ? WHERE id = ? AND state = 'queued'`,
		ts(next), id)
	if err != nil {
		return fmt.Errorf("recording attempt: %w", err)
	}
	return nil
}

// Postpone moves a queued mail's next attempt without counting one (a
// deadline mail held until office hours).
func (s *Store) Postpone(ctx context.Context, id int64, at time.Time) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE outbox SET next_attempt = ? WHERE id = ? AND state = 'queued'`, ts(at), id); err != nil {
		return fmt.Errorf("postponing mail: %w", err)
	}
	return nil
}

// EndAttempt records an attempt's outcome: sent, failed for good, or a
// temporary error (the item stays queued until its stored next attempt).
func (s *Store) EndAttempt(ctx context.Context, it OutboxItem, state, errText string) error {
	ctx = context.WithoutCancel(ctx)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("recording attempt: %w", err)
	}
	defer tx.Rollback()
	now := s.now()
	sent := ""
	if state == OutSent {
		sent = ts(now)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE outbox SET state = ?, last_error = ?, sent_at = ? WHERE id = ?`,
		state, errText, sent, it.ID); err != nil {
		return fmt.Errorf("recording attempt: %w", err)
	}
	kind := map[string]string{OutSent: "answer-sent", OutFailed: "answer-failed", OutQueued: "answer-retry"}[state]
	if err := addEvents(ctx, tx, now, it.Message, it.Mailbox, event{kind, map[string]any{
		"outbox": it.ID, "message_id": it.MessageID, "attempt": it.Attempts + 1, "error": errText}}); err != nil {
		return err
	}
	return tx.Commit()
}

// Outbox lists answers, newest first, optionally of one state.
func (s *Store) Outbox(ctx context.Context, state string, limit int) ([]OutboxItem, error) {
	return listOutbox(ctx, s.db, state, limit)
}

func listOutbox(ctx context.Context, db *sql.DB, state string, limit int) ([]OutboxItem, error) {
	q := `SELECT ` + outboxCols + ` FROM outbox`
	var args []any
	switch state {
	case "":
	case Undelivered:
		q += ` WHERE undelivered = 1`
	default:
		q += ` WHERE state = ?`
		args = append(args, state)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("reading outbox: %w", err)
	}
	defer rows.Close()
	var out []OutboxItem
	for rows.Next() {
		it, err := scanOutbox(rows)
		if err != nil {
			return nil, fmt.Errorf("reading outbox: %w", err)
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// Recipients are the envelope recipients: To (a deadline mail may have
// several, comma-separated), then Cc.
func (it OutboxItem) Recipients() []string { return append(strings.Split(it.To, ","), it.Cc...) }

// Undelivered is the outbox list's filter for answers a final PEC
// failure receipt came back for.
const Undelivered = "undelivered"

// UndeliveredTotal counts the answers marked undelivered since start.
var UndeliveredTotal atomic.Int64

// receiptRank orders PEC receipts: a later one never gives way to an
// earlier one arriving late. The 12-hour warning ranks below the outcomes
// of delivery, which rank highest.
var receiptRank = map[string]int{"": 0, "accettazione": 1, "presa-in-carico": 2, "preavviso-errore-consegna": 3,
	"avvenuta-consegna": 4, "non-accettazione": 5, "errore-consegna": 5, "rilevazione-virus": 5}

// linkReceipt records a signed PEC receipt of one of our answers (by its
// Message-ID): an event always, the delivery state only forward, and a
// final failure marks the answer undelivered. The receipt must be about
// our answer: it arrived on the mailbox that sent it, and daticert's
// mittente and destinatari are the answer's sender and recipient — a
// receipt of someone else's message carrying our Message-ID is not
// linked. It reports whether an answer matched.
func linkReceipt(ctx context.Context, tx *sql.Tx, d triage.Decision, now time.Time, mailbox string) (bool, error) {
	var id, msg int64
	var current, from, rcpt, sentBy string
	err := tx.QueryRowContext(ctx, `SELECT id, message, delivery, mail_from, rcpt, mailbox FROM outbox WHERE message_id = ?`,
		strings.Trim(d.PECRef, "<> ")).Scan(&id, &msg, &current, &from, &rcpt, &sentBy)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("linking receipt: %w", err)
	}
	if sentBy != mailbox || !strings.EqualFold(from, d.PECReceiptFrom) || !containsFold(d.PECReceiptTo, rcpt) {
		return false, nil
	}
	kind, final := d.PEC.Kind, d.PECFinalFailure
	rank := receiptRank[kind]
	if final {
		rank = receiptRank["errore-consegna"]
	}
	if rank >= receiptRank[current] {
		if _, err := tx.ExecContext(ctx, `UPDATE outbox SET delivery = ?, delivery_at = ? WHERE id = ?`, kind, ts(now), id); err != nil {
			return false, fmt.Errorf("linking receipt: %w", err)
		}
	}
	if final {
		if _, err := tx.ExecContext(ctx, `UPDATE outbox SET undelivered = 1 WHERE id = ?`, id); err != nil {
			return false, fmt.Errorf("linking receipt: %w", err)
		}
		UndeliveredTotal.Add(1)
	}
	return true, addEvents(ctx, tx, now, msg, mailbox, event{"answer-delivery", map[string]any{"outbox": id, "receipt": kind, "final_failure": final}})
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(strings.TrimSpace(v), s) {
			return true
		}
	}
	return false
}

// Isolated runs f inside a savepoint of the transaction: when f fails or
// panics, what it wrote is undone and the rest of the transaction stands
// (the panic goes on up to the caller, who contains it).
func (t *Tx) Isolated(ctx context.Context, f func() error) (err error) {
	if _, err := t.tx.ExecContext(ctx, `SAVEPOINT isolated`); err != nil {
		return fmt.Errorf("opening a savepoint: %w", err)
	}
	done := false
	defer func() {
		if !done {
			t.tx.ExecContext(ctx, `ROLLBACK TO isolated`)
			t.tx.ExecContext(ctx, `RELEASE isolated`)
		}
	}()
	if err = f(); err != nil {
		return err
	}
	done = true
	_, err = t.tx.ExecContext(ctx, `RELEASE isolated`)
	return err
}
