package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// SetShadow records the daemon's mode at start, for the operators'
// commands run beside it (run --shadow is not in the configuration file).
func (s *Store) SetShadow(ctx context.Context, shadow bool) error {
	mode := "live"
	if shadow {
		mode = "shadow"
	}
	return s.Update(ctx, func(ctx context.Context, t *Tx) error {
		_, err := t.tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ('mode', ?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, mode, ts(t.now))
		if err != nil {
			return fmt.Errorf("recording the mode: %w", err)
		}
		return nil
	})
}

// Shadow reports whether the daemon last started in shadow mode; known
// is false before it ever started.
func (t *Tx) Shadow(ctx context.Context) (shadow, known bool, err error) {
	var mode string
	err = t.tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = 'mode'`).Scan(&mode)
	if errors.Is(err, sql.ErrNoRows) {
		return false, false, nil
	}
	return mode == "shadow", err == nil, err
}

// RestoredAt is when the store was last restored from a backup (zero:
// never): deadline steps due by then may have been mailed before the
// failure, so their mails are held.
func (t *Tx) RestoredAt(ctx context.Context) (time.Time, error) {
	var at string
	err := t.tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = 'restored_at'`).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	return parseTS(at), err
}
