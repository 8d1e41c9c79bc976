package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"gatewayd/internal/spool"
	"gatewayd/internal/triage"
)

// Recorded is a recorded message as deciding it again needs it.
type Recorded struct {
	ID         int64
	Mailbox    string
	Outcome    triage.Outcome
	Reasons    []string
	Protocol   string
	Body       spool.Ref
	Truncated  bool
	Size       int64
	ReceivedAt time.Time
}

// Recorded reads a message by its id or Message-ID.
func (t *Tx) Recorded(ctx context.Context, key string) (Recorded, error) {
	var r Recorded
	var reasons, received string
	q := `SELECT m.id, m.mailbox, m.outcome, m.reasons, coalesce(p.label, ''), m.spool_segment, m.spool_offset, m.stored_size,
		m.sha256, m.truncated, m.size, m.received_at FROM messages m LEFT JOIN protocols p ON p.message = m.id WHERE `
	var row *sql.Row
	if id, err := strconv.ParseInt(key, 10, 64); err == nil {
		row = t.tx.QueryRowContext(ctx, q+`m.id = ?`, id)
	} else {
		row = t.tx.QueryRowContext(ctx, q+`m.message_id = ? ORDER BY m.id DESC LIMIT 1`, trimID(key))
	}
	err := row.Scan(&r.ID, &r.Mailbox, &r.Outcome, &reasons, &r.Protocol, &r.Body.Segment, &r.Body.Offset, &r.Body.Size,
		&r.Body.SHA256, &r.Truncated, &r.Size, &received)
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("message %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("reading message %s: %w", key, err)
	}
	json.Unmarshal([]byte(reasons), &r.Reasons)
	r.ReceivedAt = parseTS(received)
	if r.Body.Segment == "" {
		return r, fmt.Errorf("message %d: %w", r.ID, ErrPurged)
	}
	return r, nil
}

func trimID(s string) string {
	if len(s) > 1 && s[0] == '<' && s[len(s)-1] == '>' {
		return s[1 : len(s)-1]
	}
	return s
}

// Decide records a new decision on a refused or quarantined message (a
// redecision after a rules fix, or an operator's acceptance), with why in
// its history beside the first decision; accepted, it is registered now,
// with a new number. The caller records what follows (Follow).
func (t *Tx) Decide(ctx context.Context, n Numbering, rec Recorded, it Item, why map[string]any) (Result, error) {
	r := Result{Message: rec.ID, Outcome: it.Decision.Outcome, Reasons: it.Decision.Reasons, Due: it.Decision.Due}
	switch {
	case rec.Protocol != "":
		return r, fmt.Errorf("message %d is already registered as %s", rec.ID, rec.Protocol)
	case rec.Outcome != triage.Refused && rec.Outcome != triage.Quarantined:
		return r, fmt.Errorf("message %d was %s: only refused or quarantined messages are decided again", rec.ID, rec.Outcome)
	}
	if r.Reasons == nil {
		r.Reasons = []string{}
	}
	if r.Outcome != triage.Accepted {
		r.Due = ""
	}
	reasons, _ := json.Marshal(r.Reasons)
	decision, _ := json.Marshal(it.Decision)
	if _, err := t.tx.ExecContext(ctx, `UPDATE messages SET outcome = ?, reasons = ?, decision = ?, codice_fiscale = ?, gestione = ?,
		due = ? WHERE id = ?`, string(r.Outcome), string(reasons), string(decision), it.Decision.CodiceFiscale, it.Decision.Gestione,
		r.Due, rec.ID); err != nil {
		return r, fmt.Errorf("recording the new decision: %w", err)
	}
	detail := map[string]any{"was": rec.Outcome, "was_reasons": rec.Reasons, "outcome": r.Outcome, "reasons": r.Reasons}
	for k, v := range why {
		detail[k] = v
	}
	events := []event{{"decided-again", detail}, classified(r, it.Decision)}
	if r.Outcome == triage.Accepted {
		var err error
		if r.Protocol, err = t.Register(ctx, n, rec.ID, fieldsOf(rec.Mailbox, it)); err != nil {
			return r, err
		}
		events = append(events, event{"protocolled", map[string]any{"protocol": r.Protocol, "due": r.Due}})
	}
	return r, addEvents(ctx, t.tx, t.now, rec.ID, rec.Mailbox, events...)
}

// OpenStored opens the stored bytes of a message.
func (c *CaseTool) OpenStored(ref spool.Ref) (*spool.Reader, error) {
	sp, err := spool.Open(filepath.Join(c.stateDir, "spool"))
	if err != nil {
		return nil, err
	}
	return sp.Open(ref)
}
