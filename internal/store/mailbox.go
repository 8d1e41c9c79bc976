package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gatewayd/internal/triage"
)

// MailboxState is where a mailbox's sync stands and its stored backoff.
type MailboxState struct {
	UIDValidity uint32
	LastUID     uint32
	Attempts    int
	NextAttempt time.Time
	LastError   string
}

// MailboxState returns the stored state of a mailbox (zero when new).
func (s *Store) MailboxState(ctx context.Context, mailbox string) (MailboxState, error) {
	var st MailboxState
	var next string
	err := s.db.QueryRowContext(ctx, `SELECT uidvalidity, last_uid, attempts, next_attempt, last_error
		FROM mailbox_state WHERE mailbox = ?`, mailbox).Scan(&st.UIDValidity, &st.LastUID, &st.Attempts, &next, &st.LastError)
	if errors.Is(err, sql.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("reading mailbox state: %w", err)
	}
	st.NextAttempt = parseTS(next)
	return st, nil
}

// Folder is where a mailbox's UIDs are valid: its watched folder under
// one UIDVALIDITY. Two folders may share a UIDVALIDITY, so a UID is
// looked up with both.
type Folder struct {
	Name        string
	UIDValidity uint32
}

// SetFolder records the folder the mailbox watches and its current
// UIDVALIDITY. When either differs from the stored one — or the server's
// UIDNEXT (0: not given) is not above the last UID recorded, UIDs given
// again under an unchanged UIDVALIDITY — the sync restarts from UID 0
// (known messages are then recognised by Message-ID and SHA-256, never
// numbered twice), every move still pending is dropped (its UID may name
// another message now) and an event says so; it reports whether that
// happened. A state from before folders were recorded (migration 0006)
// under the same UIDVALIDITY takes the folder with its sightings, and the
// folder is read again from UID 1 too, its pending moves dropped: the
// configured folder may not be the one those UIDs were seen in.
func (s *Store) SetFolder(ctx context.Context, mailbox string, f Folder, uidNext uint32) (bool, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("beginning folder update: %w", err)
	}
	defer tx.Rollback()
	var old Folder
	var last uint32
	err = tx.QueryRowContext(ctx, `SELECT folder, uidvalidity, last_uid FROM mailbox_state WHERE mailbox = ?`, mailbox).
		Scan(&old.Name, &old.UIDValidity, &last)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("reading the mailbox's folder: %w", err)
	}
	reused := uidNext != 0 && last != 0 && uidNext <= last
	upgraded := old.Name == "" && old.UIDValidity != 0 && old.UIDValidity == f.UIDValidity && !reused
	if old == f && !reused {
		return false, nil
	}
	now := s.now()
	if upgraded {
		if _, err := tx.ExecContext(ctx, `UPDATE sightings SET folder = ? WHERE mailbox = ? AND folder = '' AND uidvalidity = ?`,
			f.Name, mailbox, f.UIDValidity); err != nil {
			return false, fmt.Errorf("recording the sightings' folder: %w", err)
		}
	}
	var detail map[string]any // the event, for a state recorded before (by a session, not only a failure)
	if !upgraded && old.UIDValidity != 0 {
		detail = map[string]any{"old": old.UIDValidity, "new": f.UIDValidity}
		if old.Name != f.Name {
			detail["old_folder"], detail["folder"] = old.Name, f.Name
		}
		if reused {
			detail["uidnext"], detail["last_uid"] = uidNext, last
		}
	}
	if err := readAgain(ctx, tx, now, mailbox, f, detail); err != nil {
		return false, err
	}
	return detail != nil, tx.Commit()
}

// readAgain makes the mailbox read folder f again from its first message:
// the sync state restarts at UID 0 and every pending move is dropped (its
// UID may name other mail now); detail, when given, is the
// uidvalidity-changed event that says why.
func readAgain(ctx context.Context, tx *sql.Tx, now time.Time, mailbox string, f Folder, detail map[string]any) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO mailbox_state (mailbox, folder, uidvalidity, last_uid, updated_at) VALUES (?, ?, ?, 0, ?)
		ON CONFLICT (mailbox) DO UPDATE SET folder = excluded.folder, uidvalidity = excluded.uidvalidity, last_uid = 0, updated_at = excluded.updated_at`,
		mailbox, f.Name, f.UIDValidity, ts(now)); err != nil {
		return fmt.Errorf("reading the folder again: %w", err)
	}
	if _, err := dropPending(ctx, tx, now, mailbox, nil); err != nil {
		return err
	}
	if detail == nil {
		return nil
	}
	return addEvents(ctx, tx, now, 0, mailbox, event{"uidvalidity-changed", detail})
}

// ForgetUIDs is for a folder whose UIDs were found naming other mail than
// the recorded (a server that gave them again unseen): every pending move
// is dropped and the folder read again from its first message, as when
// its UIDVALIDITY changes; an event says why.
func (s *Store) ForgetUIDs(ctx context.Context, mailbox string, f Folder, why string) error {
	return s.Update(ctx, func(ctx context.Context, t *Tx) error {
		return readAgain(ctx, t.tx, t.now, mailbox, f, map[string]any{"old": f.UIDValidity, "new": f.UIDValidity, "folder": f.Name, "why": why})
	})
}

// RecordFailure stores a failed attempt and when the next may start, before
// the caller sleeps: a crash cannot turn a failing mailbox into a hot loop.
func (s *Store) RecordFailure(ctx context.Context, mailbox string, attempts int, next time.Time, cause error) error {
	_, err := s.db.ExecContext(context.WithoutCancel(ctx), `INSERT INTO mailbox_state (mailbox, attempts, next_attempt, last_error, updated_at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (mailbox) DO UPDATE SET attempts = excluded.attempts, next_attempt = excluded.next_attempt,
		last_error = excluded.last_error, updated_at = excluded.updated_at`,
		mailbox, attempts, ts(next), cause.Error(), ts(s.now()))
	if err != nil {
		return fmt.Errorf("recording failure: %w", err)
	}
	return nil
}

// RecordSuccess clears the mailbox's failure count after a good sync.
func (s *Store) RecordSuccess(ctx context.Context, mailbox string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE mailbox_state SET attempts = 0, next_attempt = '', last_error = '', updated_at = ?
		WHERE mailbox = ? AND (attempts != 0 OR last_error != '')`, ts(s.now()), mailbox)
	if err != nil {
		return fmt.Errorf("recording success: %w", err)
	}
	return nil
}

// PendingMove is a recorded message still in the watched folder.
type PendingMove struct {
	UID       uint32
	Outcome   triage.Outcome
	MessageID string // the recorded message's (PendingMoves only)
}

// PendingMoves lists the recorded sightings of the mailbox in folder f
// whose move to the outcome folder is not yet confirmed, by UID.
func (s *Store) PendingMoves(ctx context.Context, mailbox string, f Folder) ([]PendingMove, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT s.uid, m.outcome, m.message_id FROM sightings s JOIN messages m ON m.id = s.message
		WHERE s.mailbox = ? AND s.folder = ? AND s.uidvalidity = ? AND s.moved_at IS NULL ORDER BY s.uid`, mailbox, f.Name, f.UIDValidity)
	if err != nil {
		return nil, fmt.Errorf("listing pending moves: %w", err)
	}
	defer rows.Close()
	var out []PendingMove
	for rows.Next() {
		var p PendingMove
		if err := rows.Scan(&p.UID, &p.Outcome, &p.MessageID); err != nil {
			return nil, fmt.Errorf("reading pending move: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// MarkMoved records that the given UIDs of folder f were moved to folder
// dest ("": left in place, shadow mode).
func (s *Store) MarkMoved(ctx context.Context, mailbox string, f Folder, uids []uint32, dest string) error {
	ctx = context.WithoutCancel(ctx)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning move record: %w", err)
	}
	defer tx.Rollback()
	now := s.now()
	for _, uid := range uids {
		var msg int64
		err := tx.QueryRowContext(ctx, `UPDATE sightings SET moved_to = ?, moved_at = ?
			WHERE mailbox = ? AND folder = ? AND uidvalidity = ? AND uid = ? AND moved_at IS NULL RETURNING message`,
			dest, ts(now), mailbox, f.Name, f.UIDValidity, uid).Scan(&msg)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return fmt.Errorf("recording move of uid %d: %w", uid, err)
		}
		ev := event{"moved", map[string]any{"uid": uid, "folder": dest}}
		if dest == "" {
			ev = event{"left-in-place", map[string]any{"uid": uid, "why": "shadow mode"}}
		}
		if err := addEvents(ctx, tx, now, msg, mailbox, ev); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// DropPendingMoves forgets the unmoved sightings of the mailbox under
// another folder or UIDVALIDITY than current: those UIDs name nothing the
// session can move. Each message stays recorded, and an event says which
// UID of which folder was dropped; seen again anywhere, the message is
// recognised by Message-ID and SHA-256 and moved to its outcome folder. It
// returns how many were dropped.
func (s *Store) DropPendingMoves(ctx context.Context, mailbox string, current Folder) (int, error) {
	n := 0
	err := s.Update(ctx, func(ctx context.Context, t *Tx) error {
		var err error
		n, err = dropPending(ctx, t.tx, t.now, mailbox, &current)
		return err
	})
	return n, err
}

// dropPending deletes the mailbox's pending sightings but those of keep
// (nil: all), with a move-dropped event each, and returns how many.
func dropPending(ctx context.Context, tx *sql.Tx, now time.Time, mailbox string, keep *Folder) (int, error) {
	q, args := `DELETE FROM sightings WHERE mailbox = ? AND moved_at IS NULL`, []any{mailbox}
	if keep != nil {
		q, args = q+` AND NOT (folder = ? AND uidvalidity = ?)`, append(args, keep.Name, keep.UIDValidity)
	}
	rows, err := tx.QueryContext(ctx, q+` RETURNING message, folder, uidvalidity, uid`, args...)
	if err != nil {
		return 0, fmt.Errorf("dropping stale pending moves: %w", err)
	}
	type dropped struct {
		msg         int64
		folder      string
		uidvalidity uint32
		uid         uint32
	}
	var list []dropped
	for rows.Next() {
		var d dropped
		if err := rows.Scan(&d.msg, &d.folder, &d.uidvalidity, &d.uid); err != nil {
			rows.Close()
			return 0, fmt.Errorf("reading a dropped move: %w", err)
		}
		list = append(list, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, d := range list {
		if err := addEvents(ctx, tx, now, d.msg, mailbox, event{"move-dropped",
			map[string]any{"folder": d.folder, "uidvalidity": d.uidvalidity, "uid": d.uid}}); err != nil {
			return 0, err
		}
	}
	return len(list), nil
}
