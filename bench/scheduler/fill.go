package main

import (
	"context"
	"fmt"
	"time"

	"gatewayd/internal/store"
)

// fill inserts n accepted messages with their cases straight into the
// store's tables (as intake would leave them): due of them have their
// first step due now, the others in the weeks after.
func fill(ctx context.Context, st *store.Store, n, due int, now time.Time) error {
	db := st.DB()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO spool_segments (name, size, created_at) VALUES ('bench', 0, '')`); err != nil {
		return err
	}
	msg, err := tx.PrepareContext(ctx, `INSERT INTO messages (id, sha256, spool_segment, spool_offset, size, stored_size, message_id,
		mailbox, subject, received_at, recorded_at, outcome, codice_fiscale, due) VALUES (?, ?, 'bench', 0, 100, 100, ?, 'gc', ?, ?, ?, 'accepted',
		'RSSMRA85T10A562S', '2026-12-07')`)
	if err != nil {
		return err
	}
	cs, err := tx.PrepareContext(ctx, `INSERT INTO cases (id, message, mailbox, address, protocol, sender, received_day, due, term_days,
		state, next_step_at, opened_at) VALUES (?, ?, 'gc', 'GestioneCredito.Ferrara@inps.it', ?, 'studio@example.it', '2026-11-23',
		'2026-12-07', 10, 'open', ?, ?)`)
	if err != nil {
		return err
	}
	recv := "2026-11-23T09:00:00.000000Z"
	for i := 1; i <= n; i++ {
		next := now.Add(-time.Minute)
		if i > due {
			next = now.Add(time.Duration(1+i%500) * time.Hour)
		}
		if _, err := msg.ExecContext(ctx, i, fmt.Sprintf("%064x", i), fmt.Sprintf("m%d@example.it", i),
			"RSSMRA85T10A562S - artigiani - richiesta", recv, recv); err != nil {
			return err
		}
		if _, err := cs.ExecContext(ctx, i, i, fmt.Sprintf("INPS.FE.2026.%07d", i),
			next.UTC().Format("2006-01-02T15:04:05.000000Z07:00"), recv); err != nil {
			return err
		}
	}
	return tx.Commit()
}
