package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"time"
)

// ErrNotFound means no message answers to the protocol number or id.
var ErrNotFound = errors.New("no such message")

// Reader reads a state directory without locking it: operators' commands
// run beside the daemon.
type Reader struct {
	db *sql.DB
}

// OpenReader opens the database of stateDir read-only.
func OpenReader(stateDir string) (*Reader, error) {
	db, err := openUnlocked(stateDir, "mode=ro&_busy_timeout=5000")
	if err != nil {
		return nil, err
	}
	return &Reader{db: db}, nil
}

// openUnlocked opens stateDir's database beside a running daemon, without
// the state directory's lock.
func openUnlocked(stateDir, params string) (*sql.DB, error) {
	path := filepath.Join(stateDir, "gatewayd.db")
	db, err := sql.Open("sqlite3", "file:"+path+"?"+params)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	return db, nil
}

// Close closes the database.
func (r *Reader) Close() error { return r.db.Close() }

// Message is what is recorded of one message.
type Message struct {
	ID         int64
	Protocol   string
	MessageID  string
	Mailbox    string
	From       string
	Subject    string
	ReceivedAt time.Time
	Outcome    string
	Reasons    string
	SHA256     string
	Size       int64
}

// Event is one step of a message's history.
type Event struct {
	At      time.Time
	Mailbox string
	Kind    string
	Detail  string
}

// History returns a message, by protocol label or numeric id, and its events in order.
func (r *Reader) History(ctx context.Context, key string) (Message, []Event, error) {
	var m Message
	var received string
	err := r.db.QueryRowContext(ctx, `SELECT m.id, coalesce(p.label, ''), m.message_id, m.mailbox, m.from_addr, m.subject,
		m.received_at, m.outcome, m.reasons, m.sha256, m.size
		FROM messages m LEFT JOIN protocols p ON p.message = m.id
		WHERE p.label = ? OR CAST(m.id AS TEXT) = ?`, key, key).
		Scan(&m.ID, &m.Protocol, &m.MessageID, &m.Mailbox, &m.From, &m.Subject, &received, &m.Outcome, &m.Reasons, &m.SHA256, &m.Size)
	if errors.Is(err, sql.ErrNoRows) {
		return m, nil, fmt.Errorf("%s: %w", key, ErrNotFound)
	}
	if err != nil {
		return m, nil, fmt.Errorf("reading message: %w", err)
	}
	m.ReceivedAt = parseTS(received)
	rows, err := r.db.QueryContext(ctx, `SELECT at, mailbox, kind, detail FROM events WHERE message = ? ORDER BY id`, m.ID)
	if err != nil {
		return m, nil, fmt.Errorf("reading events: %w", err)
	}
	defer rows.Close()
	var evs []Event
	for rows.Next() {
		var e Event
		var at string
		if err := rows.Scan(&at, &e.Mailbox, &e.Kind, &e.Detail); err != nil {
			return m, nil, fmt.Errorf("reading event: %w", err)
		}
		e.At = parseTS(at)
		evs = append(evs, e)
	}
	return m, evs, rows.Err()
}
