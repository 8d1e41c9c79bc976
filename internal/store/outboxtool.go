package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// OutboxTool is the operators' access to the outbox beside the running
// daemon: no state-directory lock, SQLite serialises the writes.
type OutboxTool struct {
	db *sql.DB
}

// OpenOutboxTool opens stateDir's database for the outbox command.
func OpenOutboxTool(stateDir string) (*OutboxTool, error) {
	db, err := openUnlocked(stateDir, "mode=rw&_busy_timeout=15000&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	return &OutboxTool{db: db}, nil
}

// Close closes the database.
func (o *OutboxTool) Close() error { return o.db.Close() }

// List lists answers, newest first, optionally of one state.
func (o *OutboxTool) List(ctx context.Context, state string, limit int) ([]OutboxItem, error) {
	return listOutbox(ctx, o.db, state, limit)
}

// Get returns one answer.
func (o *OutboxTool) Get(ctx context.Context, id int64) (OutboxItem, error) {
	it, err := scanOutbox(o.db.QueryRowContext(ctx, `SELECT `+outboxCols+` FROM outbox WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return it, fmt.Errorf("answer %d: %w", id, ErrNotFound)
	}
	return it, err
}

// Retry queues a failed, held or suppressed answer again, due now.
func (o *OutboxTool) Retry(ctx context.Context, id int64) error {
	return update(ctx, o.db, time.Now, func(ctx context.Context, t *Tx) error {
		var msg int64
		var mailbox, state string
		err := t.tx.QueryRowContext(ctx, `SELECT message, mailbox, state FROM outbox WHERE id = ?`, id).Scan(&msg, &mailbox, &state)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("answer %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if state == OutSent || state == OutQueued {
			return fmt.Errorf("answer %d is %s: nothing to retry", id, state)
		}
		if _, err := t.tx.ExecContext(ctx, `UPDATE outbox SET state = 'queued', attempts = 0, next_attempt = ?, queued_at = ?, last_error = '', reason = ''
			WHERE id = ?`, ts(t.now), ts(t.now), id); err != nil {
			return err
		}
		return addEvents(ctx, t.tx, t.now, msg, mailbox, event{"answer-requeued", map[string]any{"outbox": id, "was": state}})
	})
}

// ReleaseHeld queues the held mails (shadow mode's answers and deadline
// mails, those a restore held) whose reason contains match ("": every
// one), due now, when the office decides they go out; it returns how
// many. The daemon sends them once it runs live.
func (o *OutboxTool) ReleaseHeld(ctx context.Context, match string) (int, error) {
	n := 0
	err := update(ctx, o.db, time.Now, func(ctx context.Context, t *Tx) error {
		rows, err := t.tx.QueryContext(ctx, `UPDATE outbox SET state = 'queued', attempts = 0, next_attempt = ?, queued_at = ?, last_error = '', reason = ''
			WHERE state = 'held' AND instr(reason, ?) > 0 RETURNING id, message, mailbox`, ts(t.now), ts(t.now), match)
		if err != nil {
			return fmt.Errorf("releasing held mails: %w", err)
		}
		type released struct {
			id, msg int64
			mailbox string
		}
		var list []released
		for rows.Next() {
			var r released
			if err := rows.Scan(&r.id, &r.msg, &r.mailbox); err != nil {
				rows.Close()
				return err
			}
			list = append(list, r)
		}
		rows.Close()
		for _, r := range list {
			if err := addEvents(ctx, t.tx, t.now, r.msg, r.mailbox, event{"answer-released", map[string]any{"outbox": r.id}}); err != nil {
				return err
			}
		}
		n = len(list)
		return rows.Err()
	})
	return n, err
}
