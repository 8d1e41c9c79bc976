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

// ErrSameUIDValidity refuses a folder whose UIDVALIDITY is the one the
// mailbox's previous folder had: their UIDs cannot be told apart.
var ErrSameUIDValidity = errors.New("the new folder has the old folder's UIDVALIDITY")

// SetUIDValidity records the mailbox's folder and its current UIDVALIDITY.
// When either differs from the stored one, the sync restarts from UID 0
// (known messages are then recognised by Message-ID and SHA-256) and an
// event says so; it reports whether they changed. Another folder with the
// same UIDVALIDITY is refused with ErrSameUIDValidity: its UIDs would be
// taken for the old folder's, its first messages never read.
func (s *Store) SetUIDValidity(ctx context.Context, mailbox, folder string, v uint32) (bool, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("beginning uidvalidity update: %w", err)
	}
	defer tx.Rollback()
	var old uint32
	var oldFolder string
	err = tx.QueryRowContext(ctx, `SELECT uidvalidity, folder FROM mailbox_state WHERE mailbox = ?`, mailbox).Scan(&old, &oldFolder)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("reading uidvalidity: %w", err)
	}
	moved := oldFolder != "" && oldFolder != folder
	now := s.now()
	switch {
	case moved && old == v:
		return false, fmt.Errorf("folder %q: %w (%d, as %q had before it): their messages cannot be told apart, so none is read; "+
			"give the mailbox a new name in the configuration, or have the server give the folder a new UIDVALIDITY", folder, ErrSameUIDValidity, v, oldFolder)
	case old == v:
		if oldFolder == folder {
			return false, nil
		}
		// Recorded for the first time (a state from before the folder was).
		if _, err := tx.ExecContext(ctx, `UPDATE mailbox_state SET folder = ? WHERE mailbox = ?`, folder, mailbox); err != nil {
			return false, fmt.Errorf("recording the folder: %w", err)
		}
		return false, tx.Commit()
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO mailbox_state (mailbox, folder, uidvalidity, last_uid, updated_at) VALUES (?, ?, ?, 0, ?)
		ON CONFLICT (mailbox) DO UPDATE SET folder = excluded.folder, uidvalidity = excluded.uidvalidity, last_uid = 0, updated_at = excluded.updated_at`,
		mailbox, folder, v, ts(now)); err != nil {
		return false, fmt.Errorf("writing uidvalidity: %w", err)
	}
	if old != 0 {
		detail := map[string]any{"old": old, "new": v}
		if moved {
			detail["old_folder"], detail["folder"] = oldFolder, folder
		}
		if err := addEvents(ctx, tx, now, 0, mailbox, event{"uidvalidity-changed", detail}); err != nil {
			return false, err
		}
	}
	return old != 0, tx.Commit()
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
	UID     uint32
	Outcome triage.Outcome
}

// PendingMoves lists the recorded sightings of the mailbox whose move to
// the outcome folder is not yet confirmed, by UID.
func (s *Store) PendingMoves(ctx context.Context, mailbox string, uidvalidity uint32) ([]PendingMove, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT s.uid, m.outcome FROM sightings s JOIN messages m ON m.id = s.message
		WHERE s.mailbox = ? AND s.uidvalidity = ? AND s.moved_at IS NULL ORDER BY s.uid`, mailbox, uidvalidity)
	if err != nil {
		return nil, fmt.Errorf("listing pending moves: %w", err)
	}
	defer rows.Close()
	var out []PendingMove
	for rows.Next() {
		var p PendingMove
		if err := rows.Scan(&p.UID, &p.Outcome); err != nil {
			return nil, fmt.Errorf("reading pending move: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// MarkMoved records that the given UIDs were moved to folder ("": left
// in place, shadow mode).
func (s *Store) MarkMoved(ctx context.Context, mailbox string, uidvalidity uint32, uids []uint32, folder string) error {
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
			WHERE mailbox = ? AND uidvalidity = ? AND uid = ? AND moved_at IS NULL RETURNING message`,
			folder, ts(now), mailbox, uidvalidity, uid).Scan(&msg)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return fmt.Errorf("recording move of uid %d: %w", uid, err)
		}
		ev := event{"moved", map[string]any{"uid": uid, "folder": folder}}
		if folder == "" {
			ev = event{"left-in-place", map[string]any{"uid": uid, "why": "shadow mode"}}
		}
		if err := addEvents(ctx, tx, now, msg, mailbox, ev); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// DropPendingMoves marks as gone the unmoved sightings of an old
// UIDVALIDITY (or an old folder): those UIDs no longer name anything the
// session can move. It returns how many there were.
func (s *Store) DropPendingMoves(ctx context.Context, mailbox string, current uint32) (int64, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE sightings SET moved_to = '', moved_at = ?
		WHERE mailbox = ? AND uidvalidity != ? AND moved_at IS NULL`, ts(s.now()), mailbox, current)
	if err != nil {
		return 0, fmt.Errorf("dropping stale pending moves: %w", err)
	}
	return res.RowsAffected()
}
