package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// ReportTool reads what the compliance report counts (REQUIREMENTS P4),
// read-only, beside the running daemon.
type ReportTool struct {
	db *sql.DB
}

// OpenReportTool opens stateDir's database read-only for the report.
func OpenReportTool(stateDir string) (*ReportTool, error) {
	db, err := openUnlocked(stateDir, "mode=ro&_busy_timeout=5000")
	if err != nil {
		return nil, err
	}
	return &ReportTool{db: db}, nil
}

// Close closes the database.
func (r *ReportTool) Close() error { return r.db.Close() }

// Intake is one message as the report counts it.
type Intake struct {
	Mailbox     string
	ReceivedAt  time.Time // IMAP INTERNALDATE
	Outcome     string    // accepted, refused, ignored, quarantined
	Reasons     []string
	Protocolled bool // accepted with a protocol number (an accepted follow-up has none)
	FollowUp    bool // accepted as a follow-up of an open case
}

// Intake returns the messages received in [from, to). Only numbers of the
// live register count as protocolled: shadow mode's do not.
func (r *ReportTool) Intake(ctx context.Context, from, to time.Time) ([]Intake, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT m.mailbox, m.received_at, m.outcome, m.reasons, coalesce(p.register = 'protocollo', 0),
		coalesce(json_extract(m.decision, '$.follows_up'), '') != '' FROM messages m LEFT JOIN protocols p ON p.message = m.id WHERE m.received_at >= ? AND m.received_at < ?`, ts(from), ts(to))
	if err != nil {
		return nil, fmt.Errorf("reading messages: %w", err)
	}
	defer rows.Close()
	var out []Intake
	for rows.Next() {
		var it Intake
		var received, reasons string
		if err := rows.Scan(&it.Mailbox, &received, &it.Outcome, &reasons, &it.Protocolled, &it.FollowUp); err != nil {
			return nil, fmt.Errorf("reading messages: %w", err)
		}
		it.ReceivedAt = parseTS(received)
		if err := json.Unmarshal([]byte(reasons), &it.Reasons); err != nil {
			return nil, fmt.Errorf("reading the reasons of a message of %s: %w", it.Mailbox, err)
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// CaseSpan is a case as the report counts it: when it began and ended.
type CaseSpan struct {
	Mailbox     string
	ReceivedAt  time.Time // the message's IMAP INTERNALDATE
	ReceivedDay time.Time // D: the day it counts as received
	Due         time.Time
	State       string
	Outcome     string
	RepliedAt   time.Time // the reply, or the operator's closing; zero while open
}

// CaseSpans returns the cases whose message came before to and that were
// not yet replied to or closed at from.
func (r *ReportTool) CaseSpans(ctx context.Context, from, to time.Time) ([]CaseSpan, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT c.mailbox, m.received_at, c.received_day, c.due, c.state, c.outcome,
		coalesce(nullif(c.replied_at, ''), c.closed_at) FROM cases c JOIN messages m ON m.id = c.message
		WHERE m.received_at < ? AND (c.replied_at = '' AND c.closed_at = '' OR coalesce(nullif(c.replied_at, ''), c.closed_at) >= ?)`,
		ts(to), ts(from))
	if err != nil {
		return nil, fmt.Errorf("reading cases: %w", err)
	}
	defer rows.Close()
	var out []CaseSpan
	for rows.Next() {
		var c CaseSpan
		var received, day, due, replied string
		if err := rows.Scan(&c.Mailbox, &received, &day, &due, &c.State, &c.Outcome, &replied); err != nil {
			return nil, fmt.Errorf("reading cases: %w", err)
		}
		c.ReceivedAt, c.ReceivedDay, c.Due, c.RepliedAt = parseTS(received), parseDay(day), parseDay(due), parseTS(replied)
		out = append(out, c)
	}
	return out, rows.Err()
}

// LadderMail is a deadline mail sent: a level of a case's ladder.
type LadderMail struct {
	Mailbox  string
	Ladder   string // the ladder's kind: risposta, attesa, regione, riscontro
	Level    string
	Position int // 0 for the first level taken in the case's round of that ladder (mailed or skipped), 1 the next, …
	SentAt   time.Time
}

// LadderMails returns the deadline mails the SMTP server accepted in
// [from, to): levels taken and mailed (not skipped), whose outbox mail
// was sent.
func (r *ReportTool) LadderMails(ctx context.Context, from, to time.Time) ([]LadderMail, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT c.mailbox, s.ladder, s.level, s.pos, o.sent_at FROM
		(SELECT case_id, ladder, level, outbox, skipped,
			row_number() OVER (PARTITION BY case_id, ladder ORDER BY taken_at, rowid) - 1 AS pos FROM case_steps) s
		JOIN cases c ON c.id = s.case_id JOIN outbox o ON o.id = s.outbox
		WHERE s.skipped = 0 AND o.state = 'sent' AND o.sent_at >= ? AND o.sent_at < ?`, ts(from), ts(to))
	if err != nil {
		return nil, fmt.Errorf("reading deadline mails: %w", err)
	}
	defer rows.Close()
	var out []LadderMail
	for rows.Next() {
		var l LadderMail
		var sent string
		if err := rows.Scan(&l.Mailbox, &l.Ladder, &l.Level, &l.Position, &sent); err != nil {
			return nil, fmt.Errorf("reading deadline mails: %w", err)
		}
		l.Ladder, l.SentAt = LadderKind(l.Ladder), parseTS(sent)
		out = append(out, l)
	}
	return out, rows.Err()
}

// DelayRound is one request of the office whose term a sender let pass:
// a waiting round (attesa@DAY) of a case in which a level fell due, as
// CaseTool.SenderDelays counts them.
type DelayRound struct {
	Sender  string
	Mailbox string
	Day     time.Time // the day its first level fell due
}

// DelayRounds returns every sender's late rounds, in no order.
func (r *ReportTool) DelayRounds(ctx context.Context) ([]DelayRound, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT c.sender, c.mailbox, min(s.due_day) FROM case_steps s JOIN cases c ON c.id = s.case_id
		WHERE s.ladder LIKE 'attesa@%' GROUP BY s.case_id, s.ladder`)
	if err != nil {
		return nil, fmt.Errorf("reading senders' delays: %w", err)
	}
	defer rows.Close()
	var out []DelayRound
	for rows.Next() {
		var d DelayRound
		var day string
		if err := rows.Scan(&d.Sender, &d.Mailbox, &day); err != nil {
			return nil, fmt.Errorf("reading senders' delays: %w", err)
		}
		d.Day = parseDay(day)
		out = append(out, d)
	}
	return out, rows.Err()
}

// ReportAnnulment is a protocol number annulled, as the report counts it.
type ReportAnnulment struct {
	Mailbox string // of the protocolled message
	At      time.Time
}

// Annulments returns the annulments of live registrations made in [from, to).
func (r *ReportTool) Annulments(ctx context.Context, from, to time.Time) ([]ReportAnnulment, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT m.mailbox, a.at FROM annulments a
		JOIN protocols p ON p.label = a.protocol JOIN messages m ON m.id = p.message
		WHERE p.register = 'protocollo' AND a.at >= ? AND a.at < ? ORDER BY a.at`, ts(from), ts(to))
	if err != nil {
		return nil, fmt.Errorf("reading annulments: %w", err)
	}
	defer rows.Close()
	var out []ReportAnnulment
	for rows.Next() {
		var a ReportAnnulment
		var at string
		if err := rows.Scan(&a.Mailbox, &at); err != nil {
			return nil, fmt.Errorf("reading annulments: %w", err)
		}
		a.At = parseTS(at)
		out = append(out, a)
	}
	return out, rows.Err()
}
