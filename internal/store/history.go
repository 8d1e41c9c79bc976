package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"gatewayd/internal/spool"
)

// ErrNotFound means no message answers to the protocol number or id.
var ErrNotFound = errors.New("not found")

// Reader reads a state directory without locking it: operators' commands
// run beside the daemon.
type Reader struct {
	db       *sql.DB
	stateDir string
}

// OpenReader opens the database of stateDir read-only.
func OpenReader(stateDir string) (*Reader, error) {
	db, err := openUnlocked(stateDir, "mode=ro&_busy_timeout=5000")
	if err != nil {
		return nil, err
	}
	return &Reader{db: db, stateDir: stateDir}, nil
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
	if err := schemaCurrent(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return db, nil
}

// schemaCurrent refuses a store whose schema is older than this binary's
// (an upgrade not yet started): the commands would meet missing columns.
func schemaCurrent(db *sql.DB) error {
	files, err := migrationFiles()
	if err != nil {
		return err
	}
	var have sql.NullInt64
	if err := db.QueryRow(`SELECT max(version) FROM schema_migrations`).Scan(&have); err != nil {
		return fmt.Errorf("reading the schema version: %w", err)
	}
	if want := files[len(files)-1].version; int(have.Int64) < want {
		return fmt.Errorf("the store's schema is version %d, this gatewayd's is %d: restart the daemon with this binary to migrate it first", have.Int64, want)
	}
	return nil
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
	Size       int64 // bytes kept in the spool (what the SHA-256 is of)
}

// Event is one step of a message's history.
type Event struct {
	At      time.Time
	Mailbox string
	Kind    string
	Detail  string
}

// History returns a message, by protocol label, Message-ID or numeric id,
// and its events in order.
func (r *Reader) History(ctx context.Context, key string) (Message, []Event, error) {
	var m Message
	var received string
	err := r.db.QueryRowContext(ctx, `SELECT m.id, coalesce(p.label, ''), m.message_id, m.mailbox, m.from_addr, m.subject,
		m.received_at, m.outcome, m.reasons, m.sha256, m.stored_size
		FROM messages m LEFT JOIN protocols p ON p.message = m.id
		WHERE p.label = ? OR CAST(m.id AS TEXT) = ? OR m.message_id = ? ORDER BY m.id LIMIT 1`, key, key, strings.Trim(key, "<> ")).
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

// Filter selects messages for the operators' list; empty fields match all.
type Filter struct {
	Mailbox, Outcome, Reason, From, CF string
	Since, Until                       time.Time // Until: exclusive
	Limit                              int
}

// Listed is one message of the operators' list.
type Listed struct {
	ID            int64     `json:"id"`
	Protocol      string    `json:"protocol,omitempty"`
	Mailbox       string    `json:"mailbox"`
	ReceivedAt    time.Time `json:"received_at"`
	Outcome       string    `json:"outcome"`
	Reasons       []string  `json:"reasons"`
	From          string    `json:"from"`
	CodiceFiscale string    `json:"codice_fiscale,omitempty"`
	Subject       string    `json:"subject"`
	MessageID     string    `json:"message_id"`
}

// Messages lists messages, newest first, as the filter says.
func (r *Reader) Messages(ctx context.Context, f Filter) ([]Listed, error) {
	q := `SELECT m.id, coalesce(p.label, ''), m.mailbox, m.received_at, m.outcome, m.reasons, m.from_addr, m.codice_fiscale,
		m.subject, m.message_id FROM messages m LEFT JOIN protocols p ON p.message = m.id WHERE 1 = 1`
	var args []any
	add := func(cond string, v any) { q += " AND " + cond; args = append(args, v) }
	if f.Mailbox != "" {
		add("m.mailbox = ?", f.Mailbox)
	}
	if f.Outcome != "" {
		add("m.outcome = ?", f.Outcome)
	}
	if f.Reason != "" {
		add("EXISTS (SELECT 1 FROM json_each(m.reasons) WHERE value = ?)", f.Reason)
	}
	if f.From != "" {
		add("lower(m.from_addr) LIKE ?", "%"+strings.ToLower(f.From)+"%")
	}
	if f.CF != "" {
		add("upper(m.codice_fiscale) = ?", strings.ToUpper(f.CF))
	}
	if !f.Since.IsZero() {
		add("m.received_at >= ?", ts(f.Since))
	}
	if !f.Until.IsZero() {
		add("m.received_at < ?", ts(f.Until))
	}
	if f.Limit <= 0 {
		f.Limit = 1000
	}
	q += " ORDER BY m.id DESC LIMIT ?"
	rows, err := r.db.QueryContext(ctx, q, append(args, f.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("listing messages: %w", err)
	}
	defer rows.Close()
	var out []Listed
	for rows.Next() {
		var l Listed
		var received, reasons string
		if err := rows.Scan(&l.ID, &l.Protocol, &l.Mailbox, &received, &l.Outcome, &reasons, &l.From, &l.CodiceFiscale,
			&l.Subject, &l.MessageID); err != nil {
			return nil, fmt.Errorf("listing messages: %w", err)
		}
		l.ReceivedAt = parseTS(received)
		json.Unmarshal([]byte(reasons), &l.Reasons)
		out = append(out, l)
	}
	return out, rows.Err()
}

// Export writes a message's original bytes from the spool to w, after
// checking them against their recorded SHA-256 (nothing is written when
// they do not match). A message over the size cap has its header only.
func (r *Reader) Export(ctx context.Context, key string, w io.Writer) (truncated bool, err error) {
	m, _, err := r.History(ctx, key)
	if err != nil {
		return false, err
	}
	var ref spool.Ref
	var purged string
	err = r.db.QueryRowContext(ctx, `SELECT spool_segment, spool_offset, stored_size, sha256, truncated, purged_at FROM messages WHERE id = ?`, m.ID).
		Scan(&ref.Segment, &ref.Offset, &ref.Size, &ref.SHA256, &truncated, &purged)
	if err != nil {
		return false, fmt.Errorf("reading message %d: %w", m.ID, err)
	}
	if purged != "" {
		return false, fmt.Errorf("message %d: %w on %s", m.ID, ErrPurged, purged[:10])
	}
	sp, err := spool.Open(filepath.Join(r.stateDir, "spool"))
	if err != nil {
		return false, err
	}
	check := func() (io.ReadCloser, error) { return sp.Open(ref) }
	rd, err := check()
	if err != nil {
		return false, err
	}
	got, err := hashOf(rd)
	rd.Close()
	if err != nil {
		return false, fmt.Errorf("reading message %d: %w", m.ID, err)
	}
	if got != ref.SHA256 {
		return false, fmt.Errorf("message %d: the stored bytes' SHA-256 is %s, %s was recorded: the spool was altered", m.ID, got, ref.SHA256)
	}
	if rd, err = check(); err != nil {
		return false, err
	}
	defer rd.Close()
	if _, err := io.Copy(w, rd); err != nil {
		return false, fmt.Errorf("writing message %d: %w", m.ID, err)
	}
	return truncated, nil
}

// Stored opens the bytes kept of a message (checked against nothing: the
// caller reads them; Export checks them).
func (r *Reader) Stored(ctx context.Context, id int64) (*spool.Reader, time.Time, bool, error) {
	var ref spool.Ref
	var received string
	var truncated bool
	var purged string
	err := r.db.QueryRowContext(ctx, `SELECT spool_segment, spool_offset, stored_size, sha256, truncated, received_at, purged_at FROM messages
		WHERE id = ?`, id).Scan(&ref.Segment, &ref.Offset, &ref.Size, &ref.SHA256, &truncated, &received, &purged)
	if err != nil {
		return nil, time.Time{}, false, fmt.Errorf("reading message %d: %w", id, err)
	}
	if purged != "" {
		return nil, time.Time{}, false, fmt.Errorf("message %d: %w on %s", id, ErrPurged, purged[:10])
	}
	sp, err := spool.Open(filepath.Join(r.stateDir, "spool"))
	if err != nil {
		return nil, time.Time{}, false, err
	}
	rd, err := sp.Open(ref)
	return rd, parseTS(received), truncated, err
}

// hashOf is the hex SHA-256 of what r reads.
func hashOf(r io.Reader) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
